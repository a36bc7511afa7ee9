"""The tabular kind: every numeric and categorical column of a table, together ONE modality,
``tabular``.

Columns come from ``--numeric-col`` / ``--category-col`` or, when neither is given, are
detected among the columns no other role took (never the id, label, split, a column
``--ignore-col`` names, nor one a file-decoding kind such as image recognises): *numeric* when
every non-empty cell is a number (and the name does not look like an id: ``id``, ``*_id``,
``productId``, ``index``); *categorical* when it holds at most :data:`MAX_CATEGORIES` distinct
short strings, repeating (distinct values at most half the non-empty cells, and some
value in two cells or more). Detection then
*settles* both lists in the PrepConfig, so evaluate and predict read the same columns.

A row's value is a tuple of strings, numeric columns first: a number in canonical form or
``""`` (missing), a category stripped or ``""``. A non-empty cell of a numeric column that is
not a number (``"unknown"``, ``n/a``, ``NA``: cells are read verbatim) is treated as missing
and reported (``not_a_number``, action ``imputed``), as is a number beyond float32,
``1e39`` or ``1e400`` (``out_of_range``: the model would see infinity). A row
whose tabular cells are all empty has ``tabular`` absent. The value is stored as JSON in the
``tabular`` column of ``examples.parquet``; the model takes the raw cells (a string per
column) and fits its statistics on the training rows (:mod:`mmcli.model.tabular_encoders`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.base import Fault, Modality, Outcome, Ready, TableContext
from mmcli.modalities.numbers import (
    FLOAT32_MAX,
    mostly_numbers,
    overflows,
    parse_number,
    unused_reason,
)

if TYPE_CHECKING:
    import pandas as pd

    from mmcli.config import PrepConfig

MAX_CATEGORIES = 50  # more distinct strings than this: free text or ids, never a category
MAX_CATEGORY_CHARS = 40  # a longer mean value is text, not a category
_ID_NAME = re.compile(r"(^|[_\-\s])(id|ids|uuid|index|idx|key)$", re.IGNORECASE)
_CAMEL_ID = re.compile(r"[a-z](Id|ID|Ids|IDs)$")  # productId


@dataclass(frozen=True)
class NumericFit:
    """A numeric column's training statistics: ``median`` (the imputed value), ``mean`` and
    ``variance`` of the imputed values, ``missing`` training rows without a number, and
    ``constant`` (one distinct value: its variance is recorded as 1.0 so the column is 0
    after normalization, never divided by zero)."""

    column: str
    median: float
    mean: float
    variance: float
    missing: int
    constant: bool


@dataclass(frozen=True)
class CategoryFit:
    """A categorical column's training vocabulary (sorted; a missing cell is its own token,
    a value outside it goes to the out-of-vocabulary bucket) and its missing count."""

    column: str
    vocabulary: tuple[str, ...]
    missing: int


@dataclass(frozen=True)
class TabularFit:
    """What the tabular encoder learns from the training rows, before training."""

    numeric: tuple[NumericFit, ...]
    categorical: tuple[CategoryFit, ...]
    rows: int

    def notes(self) -> list[str]:
        """One line per constant numeric column (said on stderr when training)."""
        return [f"column {f.column} is constant in the training rows ({f.median:g}): only its "
                "missing flag can inform the model" for f in self.numeric if f.constant]

    def to_dict(self) -> dict[str, Any]:
        """A JSON summary (the bundle's ``training.inputs.tabular``)."""
        return {
            "rows": self.rows,
            "numeric": {f.column: {"median": f.median, "mean": f.mean, "variance": f.variance,
                                   "missing": f.missing, "constant": f.constant}
                        for f in self.numeric},
            "categorical": {f.column: {"values": len(f.vocabulary), "missing": f.missing}
                            for f in self.categorical},
        }


class TabularModality(Modality):
    """Numeric and categorical columns as one modality (absent: every cell empty)."""

    kind: ClassVar[str] = "tabular"
    config_field: ClassVar[str | None] = "numeric_col"
    encoders: ClassVar[str] = "mmcli.model.tabular_encoders"
    absent_message: ClassVar[str] = "every tabular cell is empty"
    needs_fit: ClassVar[bool] = True
    settles: ClassVar[tuple[str, ...]] = ("numeric_col", "category_col")

    # -- columns -----------------------------------------------------------------------
    def named_columns(self, config: PrepConfig) -> tuple[str, ...]:
        return (config.numeric_col or ()) + (config.category_col or ())

    def sources(self, columns: Sequence[str], config: PrepConfig) -> list[tuple[str, ...]]:
        return [tuple(columns)] if columns else []

    def detect_columns(self, cells: Mapping[str, Sequence[Any]], free: Sequence[str],
                       config: PrepConfig) -> tuple[str, ...]:
        """Numeric columns, then categorical ones, in table order (nothing once settled)."""
        if config.numeric_col is not None or config.category_col is not None:
            return ()
        from mmcli import modalities

        decoders = [k for k in modalities.REGISTRY.values() if k.decodes]
        numeric, categorical = [], []
        for column in free:
            values = _present(cells[column])
            head = [str(v) for v in values[:200]]
            if not values or any(k.match_score(head) is not None for k in decoders):
                continue
            if mostly_numbers(values):
                if not (_ID_NAME.search(str(column)) or _CAMEL_ID.search(str(column))):
                    numeric.append(column)
            elif _is_categorical(values):
                categorical.append(column)
        return (*numeric, *categorical)

    def settle(self, columns: Sequence[str], cells: Mapping[str, Sequence[Any]],
               config: PrepConfig) -> dict[str, Any]:
        """Both lists, so a later table is read with these columns and no detection."""
        if config.numeric_col is not None or config.category_col is not None:
            return {"numeric_col": config.numeric_col or (),
                    "category_col": config.category_col or ()}
        numeric = tuple(c for c in columns if mostly_numbers(_present(cells[c])))
        return {"numeric_col": numeric,
                "category_col": tuple(c for c in columns if c not in numeric)}

    def unused_reason(self, cells: Sequence[Any], column: str) -> str | None:
        """Why detection did not take ``column`` (see :func:`unused_reason`); a column it
        would have taken was left out because --numeric-col / --category-col named others."""
        from mmcli import modalities
        values = _present(cells)
        named = _ID_NAME.search(str(column)) or _CAMEL_ID.search(str(column))
        kind = ("numeric" if mostly_numbers(values) and not named else
                "category" if values and not mostly_numbers(values) and _is_categorical(values)
                else None)
        head = [str(v) for v in values[:200]]
        if kind is not None and not any(k.match_score(head) is not None
                                        for k in modalities.REGISTRY.values() if k.decodes):
            what = "numbers" if kind == "numeric" else "a few repeated short strings"
            return (f"{what}, but detection is off (--numeric-col / --category-col name the "
                    f"tabular columns); name it with --{kind}-col to use it")
        return unused_reason(values, column)

    def role_notes(self, config: PrepConfig) -> dict[str, Any]:
        return {"numeric": list(config.numeric_col or ()),
                "categorical": list(config.category_col or ())}

    # -- cells ---------------------------------------------------------------------------
    def preparer(self, context: TableContext) -> Callable[[Sequence[Any], str, bool], Outcome]:
        from mmcli.data.clean import is_missing

        numeric = tuple(context.config.numeric_col or ())

        def prepare(cells: Sequence[Any], row_id: str, rejected: bool) -> Outcome:
            out, notes = [], []
            for column, cell in zip(numeric, cells, strict=False):
                number = None if is_missing(cell) else parse_number(cell)
                if number is None and not is_missing(cell):  # 1e400 overflows a float
                    notes.append(_out_of_range(cell, column) if overflows(cell) else Fault(
                        "not_a_number", f"{str(cell)[:40]!r} is not a number: treated as "
                        "missing", column))
                elif number is not None and abs(number) > FLOAT32_MAX:  # 1e39
                    notes.append(_out_of_range(cell, column))
                    number = None
                out.append("" if number is None else repr(number))
            out += ["" if is_missing(c) else str(c).strip() for c in cells[len(numeric):]]
            if not any(out):
                return Ready(None, tuple(notes))
            return Ready(tuple(out), tuple(notes))

        return prepare

    # -- storage and batches -------------------------------------------------------------
    def example_columns(self, name: str, config: PrepConfig) -> list[tuple[str, str]]:
        return [(name, "string")]

    def to_example(self, name: str, value: Any) -> dict[str, Any]:
        return {name: json.dumps(list(value)) if value is not None else ""}

    def from_examples(self, name: str, examples: pd.DataFrame, config: PrepConfig) -> list:
        return [tuple(json.loads(v)) if v else None for v in examples[name].tolist()]

    def input_spec(self, config: PrepConfig) -> tuple[tuple[int, ...], str]:
        return (len(self.named_columns(config)),), "string"

    def absent(self, config: PrepConfig) -> Any:
        return ""

    def batch(self, values: Sequence[Any], config: PrepConfig):
        import numpy as np

        width = len(self.named_columns(config))
        out = np.full((len(values), width), "", dtype=object)
        for i, value in enumerate(values):
            if value is not None:
                out[i] = list(value)
        return out

    # -- model ---------------------------------------------------------------------------
    def fit_values(self, values: Sequence[Any], config: PrepConfig) -> TabularFit:
        """Medians, means, variances and vocabularies of the training rows' cells.

        Raises:
            DataError: a tabular column has no value in any training row.
        """
        from mmcli.errors import DataError

        numeric, columns = tuple(config.numeric_col or ()), self.named_columns(config)
        cells = list(zip(*values, strict=True)) if values else [() for _ in columns]
        empty = [c for c, col in zip(columns, cells, strict=True) if not any(col)]
        if empty:
            raise DataError(
                f"tabular column(s) {', '.join(empty)} have no value in the training rows: "
                "nothing to learn from; leave them out with --ignore-col"
            )
        fits_n = tuple(_numeric_fit(c, col) for c, col in zip(numeric, cells, strict=False))
        fits_c = tuple(CategoryFit(c, tuple(sorted({v for v in col if v})),
                                   sum(1 for v in col if not v))
                       for c, col in zip(columns[len(numeric):], cells[len(numeric):],
                                         strict=True))
        return TabularFit(fits_n, fits_c, len(values))


def _out_of_range(cell: Any, column: str) -> Fault:
    return Fault("out_of_range", f"{str(cell)[:40]!r} is beyond the model's float32 range: "
                 "treated as missing", column)


def unseen_cells(values: Sequence[Any], config: PrepConfig,
                 vocabularies: Sequence[frozenset[str]]) -> dict[str, int]:
    """Per categorical column, how many of the rows' non-empty cells (``values``: the
    modality's row values, None when absent) are outside its training vocabulary."""
    counts = dict.fromkeys(config.category_col or (), 0)
    for value in values:
        for column, _ in unseen_values(value, config, vocabularies):
            counts[column] += 1
    return counts


def unseen_values(value: Any, config: PrepConfig,
                  vocabularies: Sequence[frozenset[str]]) -> list[tuple[str, str]]:
    """``(column, cell)`` for each of one row's non-empty categorical cells (``value``: the
    modality's row value, None when absent) outside its column's training vocabulary."""
    if value is None:
        return []
    numeric, categorical = len(config.numeric_col or ()), tuple(config.category_col or ())
    return [(column, value[numeric + j])
            for j, (column, known) in enumerate(zip(categorical, vocabularies, strict=False))
            if value[numeric + j] and value[numeric + j] not in known]


def _numeric_fit(column: str, cells: Sequence[str]) -> NumericFit:
    import numpy as np

    numbers = np.array([float(v) for v in cells if v], dtype=np.float64)
    median = float(np.median(numbers))
    imputed = np.concatenate([numbers, np.full(len(cells) - len(numbers), median)])
    constant = bool(numbers.min() == numbers.max())
    variance = 1.0 if constant else float(imputed.var())
    return NumericFit(column, median, float(imputed.mean()), variance,
                      len(cells) - len(numbers), constant)


def _present(cells: Sequence[Any]) -> list[Any]:
    from mmcli.data.clean import is_missing

    return [v for v in cells if not is_missing(v)]


def _is_categorical(values: list[Any]) -> bool:
    strings = [str(v).strip() for v in values]
    distinct = len(set(strings))
    # Some value must repeat: a lone note in one row is not a category (README: "strings that
    # repeat"); it is listed in roles.unused instead.
    return (distinct <= MAX_CATEGORIES and distinct <= max(2, len(strings) // 2)
            and distinct < len(strings)
            and sum(map(len, strings)) / len(strings) <= MAX_CATEGORY_CHARS)
