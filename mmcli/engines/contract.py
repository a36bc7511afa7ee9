"""The contract of an exported numeric model (``engine/contract.json`` beside ``model.tflite``
or ``model.onnx``): its inputs, and what each step the format cannot hold needs.

The numeric model takes, per modality: an image as uint8 ``(S, S, 3)``; audio as the float32
waveform ``(samples,)`` (LiteRT, as the Keras model does) or, in an ONNX export, as
``<m>__logmel`` (float32 ``(mels, frames, 1)``, the log-mel spectrogram) from
:class:`AudioStep`; a text as ``<m>__vector`` (float32 TF-IDF, ``tf_idf`` mode) or ``<m>__ids``
(int64 token ids, ``int`` mode), from :class:`TextStep`; a tabular modality as
``<m>__numbers`` and ``<m>__missing`` (float32, one per numeric column) and
``<m>__category_<j>`` (int64 ``(1,)``, one per categorical column), from
:class:`TabularStep`; and ``present`` (float32, one 0/1 flag per modality in model order).
Its output is ``probabilities`` ``(batch, labels)``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mmcli.errors import BundleError

CONTRACT_FORMAT = 1
# The Keras text standardization ("lower_and_strip_punctuation"): ASCII lowercase, then these
# characters removed (keras/src/layers/preprocessing/text_vectorization.py).
STRIP_PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


@dataclass(frozen=True)
class InputSpec:
    """One input of the numeric model: name, per-row shape, dtype (numpy name)."""

    name: str
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class TextStep:
    """A ``TextVectorization`` layer as data. ``vocabulary`` is its ``get_vocabulary()``
    (``int`` mode: index 0 padding "", 1 "[UNK]"; ``tf_idf`` mode: index 0 "[UNK]");
    ``idf`` the TF-IDF weights per index; ``ngrams`` the n-gram width (None: words only);
    ``sequence_length`` the ``int`` mode's padded length."""

    modality: str
    mode: str
    vocabulary: tuple[str, ...]
    idf: tuple[float, ...] | None = None
    ngrams: int | None = None
    sequence_length: int | None = None

    @cached_property
    def index(self) -> dict[str, int]:
        """Token -> its index in :attr:`vocabulary` (built once: a served row is one call)."""
        return {token: i for i, token in enumerate(self.vocabulary)}


@dataclass(frozen=True)
class TabularStep:
    """A ``TabularCells`` layer and its ``StringLookup`` layers as data: the numeric columns'
    training medians (cells first, in this order) and each categorical column's vocabulary as
    ``get_vocabulary()`` gives it (index 0: values unseen in training)."""

    modality: str
    medians: tuple[float, ...]
    vocabularies: tuple[tuple[str, ...], ...]

    @cached_property
    def indexes(self) -> tuple[dict[str, int], ...]:
        """Per categorical column, value -> its index in :attr:`vocabularies` (built once)."""
        return tuple({token: i for i, token in enumerate(v)} for v in self.vocabularies)


@dataclass(frozen=True)
class AudioStep:
    """An audio input's spectrogram as data (ONNX exports only; LiteRT holds it): Keras'
    ``MelSpectrogram`` settings and its mel matrix ``(fft_length // 2 + 1, mels)`` as the
    layer computes it, and ``LogMelScale``'s ``top_db`` and ``min_power``
    (:func:`mmcli.engines.audio.log_mel`)."""

    modality: str
    fft_length: int
    stride: int
    window: str
    mel_matrix: tuple[tuple[float, ...], ...]
    top_db: float
    min_power: float


@dataclass(frozen=True)
class Contract:
    """What a numeric export takes and gives (see the module docstring)."""

    labels: tuple[str, ...]
    modalities: tuple[str, ...]
    inputs: tuple[InputSpec, ...]
    text: tuple[TextStep, ...] = ()
    tabular: tuple[TabularStep, ...] = ()
    audio: tuple[AudioStep, ...] = ()
    output: str = "probabilities"
    format_version: int = CONTRACT_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Contract:
        """Raises: BundleError: another format version or a malformed document."""
        if not isinstance(data, dict) or data.get("format_version") != CONTRACT_FORMAT:
            raise BundleError(f"engine contract format {data.get('format_version')!r} is not "
                              f"{CONTRACT_FORMAT}; export the bundle again (mmcli export)")
        try:
            return cls(
                labels=tuple(data["labels"]), modalities=tuple(data["modalities"]),
                inputs=tuple(InputSpec(i["name"], tuple(i["shape"]), i["dtype"])
                             for i in data["inputs"]),
                text=tuple(TextStep(**{**t, "vocabulary": tuple(t["vocabulary"]),
                                       "idf": tuple(t["idf"]) if t["idf"] else None})
                           for t in data["text"]),
                tabular=tuple(TabularStep(t["modality"], tuple(t["medians"]),
                                          tuple(tuple(v) for v in t["vocabularies"]))
                              for t in data["tabular"]),
                audio=tuple(AudioStep(**{**a, "mel_matrix": tuple(tuple(r) for r in
                                                                  a["mel_matrix"])})
                            for a in data.get("audio", ())),
                output=data["output"],
            )
        except (KeyError, TypeError) as exc:
            raise BundleError(f"malformed engine contract: {exc}") from exc


def write_contract(contract: Contract, path: Path) -> None:
    path.write_text(json.dumps(contract.to_dict(), indent=1), encoding="utf-8")


def read_contract(path: Path) -> Contract:
    """Raises: BundleError: unreadable or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: unreadable engine contract ({exc})") from exc
    return Contract.from_dict(data)
