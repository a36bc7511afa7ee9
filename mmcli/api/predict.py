"""``mmcli predict`` as a library call: a bundle and rows in, one record per row out, in order.

The table is read in chunks and each chunk is predicted and yielded before the next is read,
so memory stays bounded however long the input is.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmcli.api.row_issues import IssueTally, id_part, with_unseen
from mmcli.bundle import Bundle
from mmcli.config import replace
from mmcli.data.inputs import absent_inputs
from mmcli.data.rows import Row
from mmcli.errors import DataError, UsageError
from mmcli.io.tables import Chunk, iter_table_chunks
from mmcli.modalities import RECORD_MODALITIES, present_column
from mmcli.modalities.tabular import unseen_cells
from mmcli.tasks import Task

RECORD_FIELDS = (
    "id",
    "label",
    "probability",
    "probabilities",
    "top_k",
    *(present_column(m) for m in RECORD_MODALITIES),
    "error",
)
KEPT_PREFIX = "input_"


@dataclass
class PredictSummary:
    """Counts kept while records stream out (read them after the iterator is exhausted)."""

    rows: int = 0
    errors: int = 0
    first_error: str | None = None
    kept_names: dict[str, str] = field(default_factory=dict)
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)  # input -> columns lacked
    missing: Counter = field(default_factory=Counter)  # input -> predicted rows without it
    join: dict[str, Any] | None = None  # with a join: ChunkJoin.report() (as preprocess's)
    tally: IssueTally = field(default_factory=IssueTally)  # every rejects line, counted
    unseen: Counter = field(default_factory=Counter)  # categorical column -> unseen cells
    columns: dict[str, str] = field(default_factory=dict)  # input -> its column(s), as reported


def predict_records(
    bundle: Bundle,
    source: str | Path,
    *,
    fmt: str | None = None,
    chunk_rows: int = 10_000,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Yield one prediction record per input row, in input order, reading ``chunk_rows`` rows
    at a time of the table ``source`` (a file, or ``-`` for stdin) in format ``fmt`` (default:
    from the extension). ``options``: the keywords of :func:`predict_chunks`.

    Raises:
        DataError: unreadable table; see :func:`predict_chunks`.
    """
    prep = replace(bundle.config.prep, **(options.get("prep_overrides") or {}))
    chunks = iter_table_chunks(source, fmt=fmt, chunk_rows=chunk_rows, encoding=prep.encoding)
    yield from predict_chunks(bundle, chunks, **options)


def predict_chunks(
    bundle: Bundle,
    chunks: Iterable[Chunk],
    *,
    top_k: int = 3,
    batch_size: int = 256,
    keep_columns: Sequence[str] = (),
    strict: bool = False,
    prep_overrides: dict[str, Any] | None = None,
    summary: PredictSummary | None = None,
    on_start: Callable[[int | None], None] | None = None,
    on_row: Callable[[], None] | None = None,
    engine: str = "auto",
) -> Iterator[dict[str, Any]]:
    """One prediction record per row of ``chunks`` (a table's, or rows given in Python:
    :func:`mmcli.api.load.rows_chunk`), in order (see :data:`RECORD_FIELDS`; kept input
    columns come after them). ``engine``: ``tf``, ``lite``, ``onnx`` or ``auto``
    (:func:`mmcli.api.engine.open_engine`).

    The chunks are read as :class:`mmcli.api.reading.ChunkReader` reads them: with a join
    table (``prep_overrides["join"]``, else the bundle's training ``--join``) each chunk is
    left-joined to it on the id as ``preprocess`` joins (a row whose id it lacks has the
    joined columns missing; ``summary.join`` counts both sides).

    A row that cannot be used (unparseable, or no usable image nor text) is not skipped: its
    record has ``label`` None and an ``error`` message, and ``summary.errors`` counts it. With
    ``strict`` the first such row raises instead. Every problem of a row (a masked input and
    why, a tabular cell imputed, a category unseen in training (``unseen_category``, action
    ``noted``), an id not in the join table ...) is a rejects.csv line in
    ``summary.tally`` (counted by ``action:reason``; its ``sink`` receives each line).

    Raises:
        DataError: an unreadable join table (no shared id column, a repeated id), a missing
            ``keep_columns`` column, or (``strict``) a bad row.
    """
    from mmcli.api.engine import open_engine
    from mmcli.api.reading import ChunkReader

    if top_k < 1:
        raise UsageError(f"Expected a positive integer for `top_k`. Received: top_k={top_k}")
    summary = summary if summary is not None else PredictSummary()
    task = bundle.task
    reader = ChunkReader(bundle, replace(bundle.config.prep, **(prep_overrides or {})))
    model = None
    labels = bundle.labels
    extra_modalities = [m for m in bundle.modalities if m not in RECORD_MODALITIES]

    def run(batch: list[Row], prep) -> np.ndarray:
        usable = [r for r in batch if not r.rejected]
        if not usable:
            return np.zeros((0, len(labels)))
        for name, known in model.categories.items():  # out-of-vocabulary cells, counted
            summary.unseen.update(unseen_cells([r.values.get(name) for r in usable], prep, known))
        return model(usable, prep)

    for chunk in chunks:
        read = reader.read(chunk, on_row=on_row)
        table = read.table
        if model is None:
            summary.absent = absent_inputs(read.reading.roles, read.reading.pinned)
            summary.columns = {m: read.reading.roles.column(m)
                               for m in read.reading.roles.modalities}
            summary.kept_names = kept_names(keep_columns, list(table.columns),
                                            reserved=(*RECORD_FIELDS, *task.record_fields))
            if on_start is not None:
                on_start(None)
            model = open_engine(bundle, engine)
        kept = _kept_values(table, summary.kept_names)
        prep = read.reading.prep
        rows = (with_unseen(row, model.categories, prep) for row in read.rows)
        for batch in _batches(rows, batch_size):
            proba = run(batch, read.reading.prep)
            position = 0
            for row in batch:
                local = row.row - chunk.first_row
                if row.rejected or local in chunk.errors:
                    record = error_record(row, task, chunk.errors.get(local))
                    summary.errors += 1
                    if summary.first_error is None:
                        where = f"row {row.row} ({id_part(row.id)})"
                        summary.first_error = f"{where}: {record['error']}"
                    if strict:
                        raise DataError(f"{summary.first_error} (--strict)")
                    if not row.rejected:
                        position += 1
                else:
                    record = prediction_record(row, task.prediction(proba[position], labels,
                                                                    top_k))
                    position += 1
                summary.rows += 1
                summary.tally.add(row, chunk.errors.get(local))
                usable = record["error"] is None
                if usable:  # an error row lacks every modality: counted once, as an error
                    summary.missing.update(m for m in bundle.modalities if not row.present(m))
                for name in extra_modalities:  # image_2_present ... after the usual fields
                    record[present_column(name)] = usable and row.present(name)
                for out_name, values in kept.items():
                    record[out_name] = values[local]
                yield record
    summary.join = reader.join_report()


def kept_names(
    keep_columns: Sequence[str], columns: list[str], reserved: Sequence[str] = RECORD_FIELDS
) -> dict[str, str]:
    """Output name of each kept input column (prefixed ``input_`` when it clashes with a record
    field in ``reserved``, e.g. ``label`` -> ``input_label``).

    Raises:
        DataError: a column is not in the table.
    """
    missing = [c for c in keep_columns if c not in columns]
    if missing:
        raise DataError(
            f"--keep-columns: no column {', '.join(map(repr, missing))} in the input; "
            f"it has: {', '.join(columns)}"
        )
    return {c: (KEPT_PREFIX + c if c in reserved else c) for c in keep_columns}


def _kept_values(table, names: dict[str, str]) -> dict[str, list[Any]]:
    return {out: [_plain(v) for v in table.column(column)] for column, out in names.items()}


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def prediction_record(row: Row, prediction: dict[str, Any]) -> dict[str, Any]:
    """The record of a predicted row: the id, the task's fields (``label``, ``probabilities``
    ... see :attr:`Task.record_fields`), which modalities the row had, no error."""
    return {
        "id": row.id,
        **prediction,
        **{present_column(m): row.present(m) for m in RECORD_MODALITIES},
        "error": None,
    }


def error_record(row: Row, task: Task, message: str | None = None) -> dict[str, Any]:
    """The record of a row that could not be predicted, with why (the task's fields empty)."""
    reasons = message or "; ".join(f"{i.column}: {i.message}".lstrip(": ") for i in row.issues)
    return {
        "id": row.id,
        **task.no_prediction(),
        **{present_column(m): False for m in RECORD_MODALITIES},
        "error": reasons or "row not usable",
    }
