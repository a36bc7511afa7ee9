"""The audio kind: a path cell naming a sound file (WAV, FLAC, OGG, MP3), decoded once with
soundfile to a mono float32 waveform of ``--audio-seconds`` at ``--audio-rate`` Hz and stored
in shards. The model takes the waveform itself (its log-mel spectrogram is computed inside
the model: :mod:`mmcli.model.audio_encoders`), so a bundle serves raw audio.

Path checks (missing, outside the data root, not a file) happen while rows are planned, like
images; decoding (duration guard, truncation, codecs, silence) runs in worker processes:
:mod:`mmcli.io.audio`. Several audio columns are one modality each (``audio``, ``audio_2``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.base import Fault, Job, Modality, Outcome, Ready, ShardSpec, TableContext

if TYPE_CHECKING:
    import pandas as pd

    from mmcli.config import PrepConfig

SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")


class AudioModality(Modality):
    """An audio file per row (absent: no path, or a file that cannot be used)."""

    kind: ClassVar[str] = "audio"
    column_names: ClassVar[tuple[str, ...]] = (
        "audio", "audio_path", "audio_file", "wav", "sound", "recording", "speech", "clip",
    )
    config_field: ClassVar[str | None] = "audio_col"
    encoders: ClassVar[str] = "mmcli.model.audio_encoders"
    decodes: ClassVar[bool] = True

    def match_score(self, values: pd.Series) -> float | None:
        """Most of the first 50 values end in an audio suffix (``.wav``, ``.mp3`` ...)."""
        head = values.str.lower().head(50)
        return 1.0 if len(head) and head.str.endswith(SUFFIXES).mean() > 0.8 else None

    def preparer(self, context: TableContext) -> Callable[[Sequence[Any], str, bool], Outcome]:
        from mmcli.data.clean import is_missing
        from mmcli.errors import CellError
        from mmcli.io.audio import AudioDecoder
        from mmcli.io.paths import resolve_file

        config, root = context.config, context.root
        decoder = AudioDecoder(options(config))

        def prepare(cells: Sequence[Any], row_id: str, rejected: bool) -> Outcome:
            if is_missing(cells[0]):
                return Fault("missing", "no audio path")
            if rejected:
                return Ready(None)
            try:
                path = resolve_file(str(cells[0]).strip(), root, what="audio",
                                    allow_outside_root=config.allow_outside_root)
            except CellError as exc:
                return Fault(exc.reason, str(exc))
            return Job(decoder, path)

        return prepare

    def shard_spec(self, name: str, config: PrepConfig) -> ShardSpec:
        return ShardSpec("audio" + name[len(self.kind):], (options(config).samples,), "float32")

    def input_spec(self, config: PrepConfig) -> tuple[tuple[int, ...], str]:
        return (options(config).samples,), "float32"

    def absent(self, config: PrepConfig) -> Any:
        return 0.0

    def encoder_settings(self, config: PrepConfig) -> dict[str, Any]:
        """The sampling rate, which the spectrogram inside the model needs."""
        return {"rate": config.audio_rate}

    def file_references(self, columns: Sequence[Sequence[Any]],
                        context: TableContext) -> Iterator[str]:
        """Each audio file's resolved path, size and mtime (or why it cannot be used)."""
        from mmcli.data.clean import is_missing
        from mmcli.errors import CellError
        from mmcli.io.paths import resolve_path

        root, config = context.root, context.config
        for cell in (cell for cells in columns for cell in cells):
            if is_missing(cell):
                yield ""
                continue
            try:
                path = resolve_path(str(cell).strip(), root, what="audio",
                                    allow_outside_root=config.allow_outside_root)
                info = path.stat()
            except CellError as exc:
                yield f"{cell}: {exc.reason}"
                continue
            except OSError as exc:
                yield f"{cell}: {exc.strerror}"
                continue
            yield f"{path}\t{info.st_size}\t{info.st_mtime_ns}"


def options(config: PrepConfig):
    """The :class:`mmcli.io.audio.AudioOptions` of a preparation config."""
    from mmcli.io.audio import AudioOptions

    return AudioOptions(rate=config.audio_rate, seconds=config.audio_seconds,
                        max_seconds=config.max_audio_seconds)
