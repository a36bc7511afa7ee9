"""The audio kind: a path cell naming a sound file (WAV, FLAC, OGG, MP3), decoded once with
soundfile to a mono float32 waveform of ``--audio-seconds`` at ``--audio-rate`` Hz and stored
in shards. The model takes the waveform itself (its log-mel spectrogram is computed inside
the model: :mod:`mmcli.model.audio_encoders`), so a bundle serves raw audio.

Path checks, the fault verdicts and the shards are every file kind's
(:class:`~mmcli.modalities.files.FileModality`); decoding (duration guard, truncation,
codecs, silence) runs in worker processes: :mod:`mmcli.io.audio`. Several audio columns are
one modality each (``audio``, ``audio_2``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.files import FileModality

if TYPE_CHECKING:
    from mmcli.config import PrepConfig

SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")


class AudioModality(FileModality):
    """An audio file per row (absent: no path, or a file that cannot be used)."""

    kind: ClassVar[str] = "audio"
    column_names: ClassVar[tuple[str, ...]] = (
        "audio", "audio_path", "audio_file", "wav", "sound", "recording", "speech", "clip",
    )
    config_field: ClassVar[str | None] = "audio_col"
    encoders: ClassVar[str] = "mmcli.model.audio_encoders"
    suffixes: ClassVar[tuple[str, ...]] = SUFFIXES
    shard_folder: ClassVar[str] = "audio"
    decoder_module: ClassVar[str | None] = "mmcli.io.audio"

    def decoder(self, config: PrepConfig) -> Callable[[str], Any]:
        from mmcli.io.audio import AudioDecoder

        return AudioDecoder(options(config))

    def input_spec(self, config: PrepConfig) -> tuple[tuple[int, ...], str]:
        return (options(config).samples,), "float32"

    def absent(self, config: PrepConfig) -> Any:
        return 0.0

    def encoder_settings(self, config: PrepConfig) -> dict[str, Any]:
        """The sampling rate, which the spectrogram inside the model needs."""
        return {"rate": config.audio_rate}


def options(config: PrepConfig):
    """The :class:`mmcli.io.audio.AudioOptions` of a preparation config."""
    from mmcli.io.audio import AudioOptions

    return AudioOptions(rate=config.audio_rate, seconds=config.audio_seconds,
                        max_seconds=config.max_audio_seconds)
