"""Writing prediction records as CSV, JSON Lines or a JSON array, one record at a time."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from mmcli.errors import UsageError

RECORD_FORMATS = ("jsonl", "csv", "json", "parquet")
# What an output file's name says it holds: predict --out preds.csv writes CSV.
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "json",
             ".parquet": "parquet", ".pq": "parquet"}


def record_format(given: str | None, out: Path | str | None) -> str:
    """The format of predict's records: ``given`` (``--format``), else the one ``out``'s
    extension names, else ``jsonl``.

    Raises:
        UsageError: ``given`` contradicts the extension (``--format jsonl --out p.csv``).
    """
    implied = _SUFFIXES.get(Path(out).suffix.lower()) if out is not None else None
    if given is None:
        return implied or "jsonl"
    if implied is not None and implied != given:
        raise UsageError(f"--format {given} contradicts --out {out} (a {implied} file by its "
                         f"name); drop --format or name the file .{given}")
    return given
STREAM_FORMATS = ("jsonl", "csv", "json")  # parquet needs a file (its footer comes last)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _csv_cell(value: Any) -> Any:
    """A CSV cell: nested values and booleans as JSON (``true``, not Python's ``True``)."""
    if isinstance(value, (dict, list, bool)):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_records(records: Iterable[dict[str, Any]], stream: TextIO, fmt: str) -> int:
    """Write records to ``stream`` as they come; returns how many were written.

    In CSV, nested values (dicts, lists) are JSON-encoded in their cell, booleans are
    ``true`` / ``false`` (as in JSON), and the header is the first record's keys.
    """
    if fmt not in STREAM_FORMATS:
        raise UsageError(
            f"Unknown output format {fmt!r}. Choose one of: {', '.join(STREAM_FORMATS)}"
        )
    count = 0
    writer = None
    if fmt == "json":
        stream.write("[")
    for record in records:
        if fmt == "jsonl":
            stream.write(json.dumps(record, ensure_ascii=False, default=_clean) + "\n")
        elif fmt == "json":
            stream.write(("," if count else "") + "\n  " + json.dumps(record, ensure_ascii=False))
        else:
            if writer is None:
                writer = csv.DictWriter(stream, fieldnames=list(record), extrasaction="ignore")
                writer.writeheader()
            writer.writerow({k: _csv_cell(v) for k, v in record.items()})
        count += 1
        stream.flush()
    if fmt == "json":
        stream.write("\n]\n" if count else "]\n")
    return count


def write_parquet_records(
    records: Iterable[dict[str, Any]], path: str | Path, *, batch_rows: int = 10_000
) -> int:
    """Write records to a Parquet file ``batch_rows`` at a time; returns how many were written.

    Columns follow the first record's keys; nested values (dicts, lists) are JSON-encoded
    strings as in CSV, booleans stay booleans, ``probability`` is a double, other values are
    strings (so every batch has the same schema).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    schema = None
    count = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal writer, schema
        if schema is None:
            schema = pa.schema([(k, _arrow_type(k, v, pa)) for k, v in batch[0].items()])
            writer = pq.ParquetWriter(str(path), schema)
        columns = {name: [_cell(r.get(name), schema.field(name).type, pa) for r in batch]
                   for name in schema.names}
        writer.write_table(pa.table(columns, schema=schema))
        batch.clear()

    try:
        for record in records:
            batch.append(record)
            count += 1
            if len(batch) == batch_rows:
                flush()
        if batch:
            flush()
        if writer is None:
            pq.write_table(pa.table({}), str(path))
    finally:
        if writer is not None:
            writer.close()
    return count


def _arrow_type(name: str, value: Any, pa):
    if isinstance(value, bool) or name.endswith("_present"):
        return pa.bool_()
    if name == "probability":
        return pa.float64()
    return pa.string()


def _cell(value: Any, kind, pa) -> Any:
    if value is None:
        return None
    if kind == pa.string():
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)
    return value
