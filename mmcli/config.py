"""The typed configuration passed down from the CLI: one frozen dataclass per concern.

``RunConfig`` groups them; ``to_dict``/``from_dict`` are symmetric so the
resolved config saved in a bundle rebuilds the same object.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from mmcli import registry
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


def _positive(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise UsageError(
                f"Expected a positive integer for `{name}`. Received: {name}={value!r}"
            )


def _fraction(owner: object, name: str, *, high: float = 1.0) -> None:
    value = getattr(owner, name)
    if not isinstance(value, (int, float)) or not 0.0 <= value < high:
        raise UsageError(
            f"Expected a number in [0, {high}) for `{name}`. Received: {name}={value!r}"
        )


def _choice(owner: object, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(owner, name)
    if value not in choices:
        raise UsageError(
            f"Unknown {name.replace('_', ' ')} {value!r}. Choose one of: {', '.join(choices)}"
        )


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
    # Tabular columns (one modality, ``tabular``). None: detected; a tuple (maybe empty): these
    # and no others (detection settles both when it runs, so predict reads the same columns).
    numeric_col: str | tuple[str, ...] | None = None
    category_col: str | tuple[str, ...] | None = None
    ignore_col: str | tuple[str, ...] | None = None  # never given any role

    def __post_init__(self) -> None:
        _positive(self, "image_size", "max_text_chars", "max_pixels", "min_image_side")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 0:
            raise UsageError(
                "Expected 0 (all cores) or a positive integer for `workers`. "
                f"Received: workers={self.workers!r}"
            )
        _choice(self, "on_missing", ON_MISSING)
        _choice(self, "duplicates", DUPLICATES)
        _choice(self, "label_case", LABEL_CASES)
        _choice(self, "text_inputs", TEXT_INPUTS)
        for name in ("text_col", "image_col"):
            object.__setattr__(self, name, _columns(getattr(self, name)))
        for name in ("text_cols", "image_cols"):
            columns = getattr(self, name)
            if len(set(columns)) != len(columns):
                raise UsageError(f"a column is named twice in {name}: {', '.join(columns)}")
        if self.image_dir is not None and self.image_col is not None:
            raise UsageError("--image-dir and --image-col cannot be used together")
        _tabular_columns(self)

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


def _tabular_columns(config: PrepConfig) -> None:
    """Normalise the tabular and ignored columns to tuples (None stays None: detected) and
    refuse a column named twice, or named and ignored."""
    for name in ("numeric_col", "category_col", "ignore_col"):
        value = getattr(config, name)
        if value is not None:
            value = (value,) if isinstance(value, str) else tuple(str(c) for c in value)
            object.__setattr__(config, name, value)
    tabular = (config.numeric_col or ()) + (config.category_col or ())
    if len(set(tabular)) != len(tabular):
        raise UsageError(f"a column is named twice in numeric_col/category_col: "
                         f"{', '.join(tabular)}")
    named = {*tabular, *config.image_cols, *config.text_cols,
             *(c for c in (config.id_col, config.label_col, config.split_col) if c)}
    clash = sorted(named & set(config.ignore_col or ()))
    if clash:
        raise UsageError(f"--ignore-col {', '.join(clash)}: also named for another role")


def _columns(value):
    """One column as a string, several as a tuple, none as None (a list from TOML/JSON too)."""
    if isinstance(value, (list, tuple)):
        columns = tuple(str(c) for c in value)
        if not columns:
            return None
        return columns[0] if len(columns) == 1 else columns
    return value


@dataclass(frozen=True)
class ModelConfig:
    """The fused network: one encoder per modality, a fusion, a softmax head.

    The defaults are the best for their cost in ``benchmarks/models_fashion30.py``: a frozen
    ImageNet MobileNet (alpha 0.25) whose features are computed once, a bag of words (TF-IDF
    over words and bigrams) for the text, gated fusion. With no ImageNet weights to be had,
    ``auto`` falls back to ``small_cnn``.

    ``image_weights`` is ``auto``, ``imagenet``, ``none`` or the path of a weights file;
    it only matters for the Keras applications backbones (``mobilenet``, ...).
    """

    image_encoder: str = "mobilenet"
    text_encoder: str = "bow"
    fusion: str = "gated"
    embed_dim: int = 64
    max_tokens: int = 20_000
    ngrams: int = 2
    max_length: int = 48
    dropout: float = 0.2
    modality_dropout: float = 0.2
    image_weights: str = "auto"
    image_alpha: float = 0.25
    freeze_backbone: bool = True

    def __post_init__(self) -> None:
        _choice(self, "image_encoder", IMAGE_ENCODERS)
        _choice(self, "text_encoder", TEXT_ENCODERS)
        _choice(self, "fusion", FUSIONS)
        _positive(self, "embed_dim", "max_tokens", "ngrams", "max_length")
        _fraction(self, "dropout")
        _fraction(self, "modality_dropout", high=0.5)
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
        _positive(self, "epochs", "batch_size", "patience")
        _fraction(self, "val_fraction", high=0.9)
        _fraction(self, "label_smoothing", high=0.5)
        _choice(self, "class_weight", CLASS_WEIGHTS)
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
