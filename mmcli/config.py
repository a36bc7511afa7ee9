"""The typed configuration passed down from the CLI: one frozen dataclass per concern.

``RunConfig`` groups them; ``to_dict``/``from_dict`` are symmetric so the
resolved config saved in a bundle rebuilds the same object.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mmcli import registry
from mmcli.config_checks import (
    as_tuple,
    check_audio,
    check_tabular_columns,
    choice,
    columns,
    fraction,
    positive,
)
from mmcli.errors import UsageError

ON_MISSING = ("keep", "drop", "error")
TEXT_INPUTS = ("join", "separate")
DUPLICATES = ("keep-first", "reject", "error")
LABEL_CASES = ("keep", "fold")
CLASS_WEIGHTS = ("none", "balanced")
# The model's choices are the names registered in mmcli.registry (one place for each list).
IMAGE_ENCODERS = tuple(registry.IMAGE_ENCODERS)
TEXT_ENCODERS = tuple(registry.TEXT_ENCODERS)
FUSIONS = tuple(registry.FUSIONS)
# image_weights: "none", "imagenet" (required: an error naming the fix when unavailable),
# "auto" (ImageNet when cached or downloadable, else small_cnn with a note on stderr), or a path.
IMAGE_WEIGHTS = ("auto", "imagenet", "none")
SPLIT_CHOICES = ("auto", "train", "val", "test", "all")  # the rows evaluate scores (--split)


@dataclass(frozen=True)
class PrepConfig:
    """How a raw table becomes model inputs. Saved in the dataset and the bundle."""

    id_col: str | None = None
    image_col: str | tuple[str, ...] | None = None  # several columns: one modality each
    text_col: str | tuple[str, ...] | None = None  # several: joined by text_sep, or separate
    text_inputs: str = "join"  # several text columns: "join" into one text, or "separate"
    label_col: str | None = None
    split_col: str | None = None
    image_size: int = 64
    on_missing: str = "keep"
    lowercase: bool = False
    max_text_chars: int = 2000
    max_pixels: int = 89_478_485
    min_image_side: int = 8
    allow_outside_root: bool = False
    workers: int = 0  # 0: all cores (small tables are decoded in-process)
    text_sep: str = " | "
    image_root: str | None = None
    image_dir: str | None = None
    join: str | None = None
    label_case: str = "keep"
    label_map: str | None = None
    duplicates: str = "keep-first"
    encoding: str = "utf-8"
    cache: bool = True
    # A modality absent from more than this share of the kept rows is a warning (check,
    # preprocess, train); absent from every row it fails check and train unless allowed.
    max_missing_fraction: float = 0.5
    allow_missing_modality: bool = False
    # Audio columns: decoded to mono at audio_rate Hz, cut or zero-padded to audio_seconds
    # (1 s holds a spoken word: avdigits' 1,500 recordings last 0.17-1.31 s, median 0.49 s,
    # 99% within 1.0 s; the sample table's tones 0.5 s); files longer than max_audio_seconds
    # by their header are refused (never decoded).
    audio_col: str | tuple[str, ...] | None = None  # several columns: one modality each
    audio_rate: int = 16_000
    audio_seconds: float = 1.0
    max_audio_seconds: float = 600.0
    # Tabular columns (one modality, ``tabular``). None: detected; a tuple (maybe empty): these
    # and no others (detection settles both when it runs, so predict reads the same columns).
    numeric_col: str | tuple[str, ...] | None = None
    category_col: str | tuple[str, ...] | None = None
    ignore_col: str | tuple[str, ...] | None = None  # never given any role

    def __post_init__(self) -> None:
        positive(self, "image_size", "max_text_chars", "max_pixels", "min_image_side")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise UsageError(
                "Expected 0 (all cores) or a positive integer for `workers`. "
                f"Received: workers={self.workers!r}"
            )
        value = self.max_missing_fraction
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise UsageError("Expected a number in [0, 1] for `max_missing_fraction`. "
                             f"Received: max_missing_fraction={value!r}")
        choice(self, "on_missing", ON_MISSING)
        choice(self, "duplicates", DUPLICATES)
        choice(self, "label_case", LABEL_CASES)
        choice(self, "text_inputs", TEXT_INPUTS)
        for name in ("text_col", "image_col", "audio_col"):
            object.__setattr__(self, name, columns(getattr(self, name)))
            named = as_tuple(getattr(self, name))
            if len(set(named)) != len(named):
                raise UsageError(f"a column is named twice in {name}s: {', '.join(named)}")
        check_audio(self)
        if self.image_dir is not None and self.image_col is not None:
            raise UsageError("--image-dir and --image-col cannot be used together")
        check_tabular_columns(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrepConfig:
        """Rebuild from ``dataclasses.asdict`` output (lists for several columns).

        Raises:
            UsageError: an unknown key or a bad value.
        """
        return _build(cls, data)

    @property
    def text_cols(self) -> tuple[str, ...]:
        """The text columns named by flags (several are joined with ``text_sep``, or kept as
        separate text inputs with ``text_inputs="separate"``)."""
        if self.text_col is None:
            return ()
        return (self.text_col,) if isinstance(self.text_col, str) else tuple(self.text_col)

    @property
    def image_cols(self) -> tuple[str, ...]:
        """The image columns named by flags; each is its own image modality."""
        if self.image_col is None:
            return ()
        return (self.image_col,) if isinstance(self.image_col, str) else tuple(self.image_col)


@dataclass(frozen=True)
class ModelConfig:
    """The fused network: one encoder per modality, a fusion, a softmax head.

    The defaults are the best for their cost in ``benchmarks/models_fashion30.py``: a frozen
    ImageNet MobileNet (alpha 0.25) whose features are computed once, a bag of words (TF-IDF
    over words and bigrams) for the text. With no ImageNet weights to be had, ``auto`` falls
    back to ``small_cnn``. Fusion ``late`` with an auxiliary head per modality
    (``aux_loss_weight`` 0.5, 0 turns them off) by ``benchmarks/defaults_table.py``
    (``benchmarks/results/defaults.md``): gated fusion starved modalities on small tables.

    ``text_encoder`` may also name a KerasHub preset (``hub:<name or folder>``), frozen
    (its pooled output computed once) unless ``freeze_text_backbone`` is false.

    ``image_weights`` is ``auto``, ``imagenet``, ``none`` or the path of a weights file;
    it only matters for the Keras applications backbones (``mobilenet``, ...).
    """

    image_encoder: str = "mobilenet"
    text_encoder: str = "bow"
    fusion: str = "late"
    embed_dim: int = 64
    max_tokens: int = 20_000
    ngrams: int = 2
    max_length: int = 48
    dropout: float = 0.2
    modality_dropout: float = 0.2
    image_weights: str = "auto"
    image_alpha: float = 0.25
    freeze_backbone: bool = True
    freeze_text_backbone: bool = True
    aux_loss_weight: float = 0.5

    def __post_init__(self) -> None:
        choice(self, "image_encoder", IMAGE_ENCODERS)
        if registry.hub_preset(self.text_encoder) is None:
            choice(self, "text_encoder", TEXT_ENCODERS)
        choice(self, "fusion", FUSIONS)
        positive(self, "embed_dim", "max_tokens", "ngrams", "max_length")
        fraction(self, "dropout")
        fraction(self, "modality_dropout", high=0.5)
        if not isinstance(self.aux_loss_weight, (int, float)) or not self.aux_loss_weight >= 0:
            raise UsageError("Expected a number >= 0 for `aux_loss_weight`. "
                             f"Received: aux_loss_weight={self.aux_loss_weight!r}")
        if not isinstance(self.image_weights, str) or not self.image_weights.strip():
            raise UsageError(
                "Expected auto, imagenet, none or a file path for `image_weights`. "
                f"Received: image_weights={self.image_weights!r}"
            )
        if not isinstance(self.image_alpha, (int, float)) or not 0 < self.image_alpha <= 1.5:
            raise UsageError(
                "Expected a number in (0, 1.5] for `image_alpha`. "
                f"Received: image_alpha={self.image_alpha!r}"
            )


@dataclass(frozen=True)
class TrainConfig:
    """The optimisation loop."""

    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    patience: int = 6
    val_fraction: float = 0.15
    seed: int = 0
    deterministic: bool = False
    label_smoothing: float = 0.0
    class_weight: str = "none"
    multi_label: bool = False
    label_delimiter: str = "|"

    def __post_init__(self) -> None:
        positive(self, "epochs", "batch_size", "patience")
        fraction(self, "val_fraction", high=0.9)
        fraction(self, "label_smoothing", high=0.5)
        choice(self, "class_weight", CLASS_WEIGHTS)
        if not isinstance(self.label_delimiter, str) or not self.label_delimiter.strip():
            raise UsageError(
                "Expected a non-blank string for `label_delimiter`. "
                f"Received: label_delimiter={self.label_delimiter!r}"
            )
        if self.multi_label and self.class_weight != "none":
            raise UsageError(
                "class_weight 'balanced' applies to single-label training; "
                "it cannot be combined with multi_label"
            )
        if not self.learning_rate > 0:
            raise UsageError(
                "Expected a positive number for `learning_rate`. "
                f"Received: learning_rate={self.learning_rate!r}"
            )


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; saved whole in the bundle."""

    prep: PrepConfig = field(default_factory=PrepConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        return cls(
            prep=_build(PrepConfig, data.get("prep", {})),
            model=_build(ModelConfig, data.get("model", {})),
            train=_build(TrainConfig, data.get("train", {})),
        )


def _build(kind: type, values: dict[str, Any]) -> Any:
    known = {f.name for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(
            f"Unknown setting(s) {', '.join(unknown)} for {kind.__name__}. "
            f"Known: {', '.join(sorted(known))}"
        )
    return kind(**values)


def replace(config: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` that ignores ``None`` values (flags the user did not give)."""
    given = {k: v for k, v in changes.items() if v is not None}
    return dataclasses.replace(config, **given) if given else config
