"""The modality interface: what a kind of model input (image, text, ...) must provide.

A *kind* (``image``, ``text``) is one implementation of :class:`Modality`, registered once in
:mod:`mmcli.modalities`. A table gives one *modality* per source of a kind: the first is named
after the kind (``image``), further ones ``image_2``, ``image_3`` ... Everything downstream
(rows, the prepared dataset, the model's inputs and encoders, masking, ablations, reports,
predict records) works on modality names and asks the kind what to do; nothing else names a
kind. Every method is pure or touches only the files a cell names; heavy libraries are
imported inside the methods that need them (``import mmcli.modalities`` stays cheap).

The life of one cell:

1. :meth:`Modality.sources` maps the table's columns of the kind to modalities.
2. :meth:`Modality.preparer` gives a per-table callable turning a row's cells into
   :class:`Ready` (the cleaned value, ``None`` when absent), :class:`Job` (heavy work, e.g.
   decoding a file, done in worker processes: a picklable ``decoder`` called with
   ``payload``, raising :class:`~mmcli.errors.CellError`) or :class:`Fault` (a reason).
3. The value is stored (:meth:`Modality.example_columns` in ``examples.parquet`` and/or
   :meth:`Modality.shard_spec` arrays on disk) and read back as a batch
   (:meth:`Modality.batch`), with :meth:`Modality.absent` filling absent rows.
4. The model takes it through :meth:`Modality.input_spec` and the kind's model-side module.

The model side lives in the model layer, in the module named by :attr:`Modality.encoders`
(``mmcli.model.image_encoders``), imported only when a model is built. It defines
``encode(x, config, seed, name, fit)``: Keras layers from the modality's input tensor to an
``embed_dim`` vector (``fit``: what :meth:`Modality.fit_values` gave, or for a kind that
learns nothing :meth:`Modality.encoder_settings`); and optionally
``extractor(config, x, count)``: a shared feature extractor's output tensor over one input and
whether it is frozen (its features are then computed once per run), or None, with
``encode_features(features, config, seed, name)`` from those features to an ``embed_dim``
vector (``count``: how many modalities of the kind the model has). It may also define
``input_report(model, name, values, prep)``: a dict about rows' values against what the model
learnt (tabular: ``unseen_categories``), merged into evaluate's JSON and train's validation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mmcli.config import PrepConfig


@dataclass(frozen=True)
class Ready:
    """A cell cleaned without heavy work: its value, or None when the modality is absent.

    ``notes`` are problems with part of the value that did not make the modality absent
    (a tabular cell that is not a number, treated as missing; a text cut to
    ``--max-text-chars``): each becomes a rejects.csv line with the action ``imputed`` (or
    the note's own ``action``), the value is kept.
    """

    value: Any
    notes: tuple[Fault, ...] = ()


@dataclass(frozen=True)
class Job:
    """Heavy work for a cell: ``decoder(payload)`` in a worker process.

    ``decoder`` must pickle by reference (a module-level function or an instance of a
    module-level class) and raise :class:`~mmcli.errors.CellError` for a fault.
    """

    decoder: Callable[[Any], Any]
    payload: Any


@dataclass(frozen=True)
class Fault:
    """A cell that cannot be used: a stable ``reason`` code and a one-line message;
    ``column``: the source column at fault, when the modality has several (else all of
    them are named)."""

    reason: str
    message: str
    column: str | None = None
    action: str | None = None  # a note's rejects action (Ready.notes: default "imputed")


Outcome = Ready | Job | Fault


@dataclass(frozen=True)
class TableContext:
    """What a preparer may need about the table: the folder relative paths start from,
    and the preparation settings."""

    root: Path
    config: PrepConfig


@dataclass(frozen=True)
class ShardSpec:
    """Fixed-shape arrays stored in ``.npy`` shards under ``folder`` of a prepared dataset,
    one row per kept example (zeros where absent)."""

    folder: str
    shape: tuple[int, ...]
    dtype: str


class Modality(ABC):
    """One kind of model input. Subclasses set the class attributes and the abstract methods.

    Attributes:
        kind: the kind's name, also the first modality's name (``image``).
        encoders: the module holding its model side (see the module docstring).
        column_names: column names recognised as this kind, lower case, best first.
        config_field: the :class:`~mmcli.config.PrepConfig` field naming its columns by flag
            (``image_col``), or None when the kind is only detected.
        absent_message: the rejects.csv message when a cleaned cell is empty.
    """

    kind: ClassVar[str]
    column_names: ClassVar[tuple[str, ...]] = ()
    config_field: ClassVar[str | None] = None
    absent_message: ClassVar[str] = "empty after cleaning"
    encoders: ClassVar[str]  # the model-side module: see "The model side" above
    decodes: ClassVar[bool] = False  # whether its preparer returns Jobs (decoded in workers)
    needs_fit: ClassVar[bool] = False  # whether its encoder learns from data before training
    settles: ClassVar[tuple[str, ...]] = ()  # the PrepConfig fields settle() may set

    # -- columns -----------------------------------------------------------------------
    def named_columns(self, config: PrepConfig) -> tuple[str, ...]:
        """The columns the user named for this kind (by flag), in order."""
        if self.config_field is None:
            return ()
        value = getattr(config, self.config_field, None)
        if value is None:
            return ()
        return (value,) if isinstance(value, str) else tuple(value)

    def unused_reason(self, cells: Sequence[Any], column: str) -> str | None:
        """Why this kind's detection did not take ``column`` (its ``cells``, in row order, as
        read), a column no role took (None: the kind has nothing to say; the summary then
        names the column without a reason)."""
        return None

    def virtual_source(self, config: PrepConfig) -> str | None:
        """A source that is not a table column, or None: files named by row id in the folder
        given by ``--<kind>-dir`` (``<image-dir>``). Such a source needs an id column."""
        return None

    def match_score(self, values: Sequence[str]) -> float | None:
        """How well a column's first (up to 200) non-null values, as strings, fit this kind,
        used to detect an unnamed column: the highest score wins; None: not this kind."""
        return None

    def role_notes(self, config: PrepConfig) -> dict[str, Any]:
        """Settings reported in ``roles`` beside the kind's columns (e.g. ``image_dir``)."""
        return {}

    def sources(self, columns: Sequence[str], config: PrepConfig) -> list[tuple[str, ...]]:
        """The table columns each modality of this kind is made of (default: one column each)."""
        return [(column,) for column in columns]

    def detect_columns(
        self, cells: Mapping[str, Sequence[Any]], free: Sequence[str], config: PrepConfig
    ) -> tuple[str, ...] | None:
        """Columns of this kind found by content among ``free`` (the columns no flag, name or
        earlier kind took), all at once, given every column's cells (name -> cells in row
        order); None (the default): the one column :meth:`match_score` scores best."""
        return None

    def settle(
        self, columns: Sequence[str], cells: Mapping[str, Sequence[Any]], config: PrepConfig
    ) -> dict[str, Any]:
        """PrepConfig fields fixing what was decided about this kind's columns from the table
        (e.g. which tabular columns are numeric), or {}. They are saved with the prepared
        data and the bundle, so evaluate and predict read any later table the same way."""
        return {}

    # -- cells ---------------------------------------------------------------------------
    @abstractmethod
    def preparer(
        self, context: TableContext
    ) -> Callable[[Sequence[Any], str, bool], Outcome]:
        """A callable ``(cells, row_id, rejected) -> Outcome`` for this table's rows.

        ``cells`` are the row's raw cells of the modality's source columns; ``rejected``
        tells that the row is already rejected (a kind may then skip opening files).
        """

    # -- storage -------------------------------------------------------------------------
    def example_columns(self, name: str, config: PrepConfig) -> list[tuple[str, str]]:
        """Columns this modality adds to ``examples.parquet``: ``(column, arrow type)``
        with types ``string``, ``float64``, ``int64`` or ``bool``."""
        return []

    def to_example(self, name: str, value: Any) -> dict[str, Any]:
        """The ``example_columns`` cells of one kept row (``value`` None when absent)."""
        return {}

    def shard_spec(self, name: str, config: PrepConfig) -> ShardSpec | None:
        """Arrays stored in shards for this modality, or None."""
        return None

    # -- batches -------------------------------------------------------------------------
    @abstractmethod
    def input_spec(self, config: PrepConfig) -> tuple[tuple[int, ...], str]:
        """The model input's per-row shape and dtype, e.g. ``((64, 64, 3), "uint8")``."""

    @abstractmethod
    def absent(self, config: PrepConfig) -> Any:
        """The value fed for a row without this modality (the model masks it anyway)."""

    def batch(self, values: Sequence[Any], config: PrepConfig) -> np.ndarray:
        """One batch of the model input from values (None: absent)."""
        import numpy as np

        shape, dtype = self.input_spec(config)
        out = np.zeros((len(values), *shape), dtype=object if dtype == "string" else dtype)
        blank = self.absent(config)
        for i, value in enumerate(values):
            out[i] = blank if value is None else value
        return out

    def from_examples(self, name: str, examples: pd.DataFrame, config: PrepConfig) -> list:
        """Values of this modality read back from ``examples`` rows (its example columns)."""
        raise NotImplementedError(f"{self.kind} stores no example columns")

    # -- model ---------------------------------------------------------------------------
    def encoder_choices(self) -> tuple[str, ...]:
        """The encoders a user may choose for this kind (empty: one fixed encoder)."""
        return ()

    def fit_values(self, values: Sequence[Any], config: PrepConfig) -> Any:
        """What the encoder learns from before training, given the training rows' present
        values (e.g. a text vocabulary) and the data's settings; None when it needs nothing.

        Raises:
            DataError: nothing can be learnt (e.g. a named tabular column with no value).
        """
        return None

    def encoder_settings(self, config: PrepConfig) -> Any:
        """For a kind without ``needs_fit``: the preparation settings its encoder needs (e.g.
        the audio sampling rate), handed to ``encode`` as ``fit``; None when it needs none."""
        return None

    # -- cache ---------------------------------------------------------------------------
    def file_references(
        self, columns: Sequence[Sequence[Any]], context: TableContext
    ) -> Iterable[str]:
        """Lines naming what the prepared values depend on besides the cells themselves (a
        file's path, size and modification time), given the cells of each source column:
        part of the prepared-data cache key."""
        return ()
