"""Reading a table (CSV, TSV, JSONL, Parquet; a path or ``-`` for stdin) into a DataFrame.

The one place that turns a file into rows. Every failure a user can cause
becomes a :class:`~mmcli.errors.DataError` naming the file and the cause.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from mmcli.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

FORMATS = ("csv", "tsv", "jsonl", "parquet")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Table:
    """A table as read: its rows, the folder relative paths resolve against, its hash."""

    frame: pd.DataFrame
    root: Path
    name: str
    sha256: str


def detect_format(name: str, given: str | None = None) -> str:
    """Return the table format from ``given`` or the file extension.

    Raises:
        UsageError: the format is unknown or cannot be told from the name.
    """
    if given is not None:
        if given not in FORMATS:
            raise UsageError(
                f"Unknown table format {given!r} for --input-format. "
                f"Choose one of: {', '.join(FORMATS)}"
            )
        return given
    suffix = Path(name).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if name == "-":
        return "csv"
    raise UsageError(
        f"Cannot tell the format of {name!r} from its extension; pass --input-format "
        f"({', '.join(FORMATS)})"
    )


def read_table(
    source: str | Path,
    *,
    fmt: str | None = None,
    encoding: str = "utf-8",
    stdin: BinaryIO | None = None,
) -> Table:
    """Read a whole table. ``source`` ``-`` reads standard input (CSV unless ``fmt``).

    Text cells stay strings (no type guessing), empty cells become missing values.

    Raises:
        DataError: missing or unreadable file, invalid encoding, malformed or empty table.
    """
    name = str(source)
    kind = detect_format(name, fmt)
    if name == "-":
        data = (stdin or sys.stdin.buffer).read()
        root = Path.cwd()
    else:
        path = _table_path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read table {name}: {exc.strerror or exc}") from exc
        root = path.resolve().parent
    if not data.strip():
        raise DataError(f"table {name} is empty")
    frame = _parse(data, kind, name, encoding)
    if frame.empty:
        raise DataError(f"table {name} has no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return Table(frame, root, name, hashlib.sha256(data).hexdigest())


def _parse(data: bytes, kind: str, name: str, encoding: str) -> pd.DataFrame:
    import pandas as pd

    if kind == "parquet":
        try:
            return pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises many types for a bad file
            raise DataError(f"cannot read {name} as Parquet: {_first_line(exc)}") from exc
    text = _decode(data, name, encoding)
    try:
        if kind == "jsonl":
            return pd.read_json(io.StringIO(text), lines=True, dtype=False)
        sep = "\t" if kind == "tsv" else ","
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"table {name} has no columns") from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot parse {name} as {kind.upper()}: {_first_line(exc)}") from exc


def _decode(data: bytes, name: str, encoding: str) -> str:
    try:
        return data.decode(encoding).removeprefix("\ufeff")
    except LookupError as exc:
        raise UsageError(f"unknown encoding {encoding!r}") from exc
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{name}: invalid {encoding} byte 0x{data[exc.start]:02x} on line {line}; "
            "pass --encoding (e.g. latin-1) if the file is not UTF-8"
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass(frozen=True)
class Chunk:
    """A slice of a table read in chunks: its rows as a :class:`Table`, the 1-based number of
    its first row in the whole table, and the rows that could not be parsed (position in the
    chunk -> message; such a row is present in the frame with every cell missing)."""

    table: Table
    first_row: int
    errors: dict[int, str]


def iter_table_chunks(
    source: str | Path,
    *,
    fmt: str | None = None,
    chunk_rows: int = 10_000,
    encoding: str = "utf-8",
    stdin: BinaryIO | None = None,
) -> Iterator[Chunk]:
    """Read a table (or ``-`` for stdin) ``chunk_rows`` rows at a time, in order, so memory stays
    bounded: CSV/TSV through pandas' ``chunksize``, JSON Lines line by line (a line that is not
    a JSON object becomes an error row, not a failure), Parquet by record batches (from stdin,
    Parquet is read whole first, as its footer is at the end). Every chunk has the first
    chunk's columns. ``Table.sha256`` is empty: the whole file is never held.

    Raises:
        DataError: missing or unreadable file, invalid encoding, malformed CSV, no data rows.
    """
    if chunk_rows < 1:
        raise UsageError(f"Expected a positive integer for `chunk_rows`. Received: {chunk_rows}")
    name = str(source)
    kind = detect_format(name, fmt)
    if name == "-":
        handle: BinaryIO = stdin or sys.stdin.buffer
        root = Path.cwd()
    else:
        path = _table_path(name)
        try:
            handle = open(path, "rb")  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise DataError(f"cannot read table {name}: {exc.strerror or exc}") from exc
        root = path.resolve().parent
    try:
        readers = {"parquet": _parquet_frames, "jsonl": _jsonl_frames}
        frames = readers.get(kind, _delimited_frames)(handle, kind, name, encoding, chunk_rows)
        columns: list[str] | None = None
        first_row = 1
        for frame, errors in frames:
            frame.columns = [str(c).strip() for c in frame.columns]
            if columns is None:
                columns = list(frame.columns)
            elif list(frame.columns) != columns:
                frame = frame.reindex(columns=columns)
            if len(frame) == 0:
                continue
            yield Chunk(Table(frame.reset_index(drop=True), root, name, ""), first_row, errors)
            first_row += len(frame)
        if first_row == 1:
            raise DataError(f"table {name} has no data rows")
    finally:
        if name != "-":
            handle.close()


def _delimited_frames(handle, kind, name, encoding, chunk_rows):
    """CSV/TSV chunks, split into records by the csv module (strict quoting). A record with
    more fields than the header does not stop the run: it becomes an error row in place.
    Cells are strings; empty cells and pandas' default missing-value markers (``NA``, ``null``,
    ...) become missing, as in :func:`read_table`."""
    import numpy as np
    import pandas as pd
    from pandas._libs.parsers import STR_NA_VALUES

    text = io.TextIOWrapper(handle, encoding=encoding, newline="")
    reader = csv.reader(text, delimiter="\t" if kind == "tsv" else ",", strict=True)
    label = kind.upper()
    try:
        header = next((r for r in reader if r), None)
        if header is None:
            raise DataError(f"table {name} is empty or has no columns")
        header[0] = header[0].removeprefix("\ufeff")
        width = len(header)
        records: list[list[str | None]] = []
        errors: dict[int, str] = {}
        for fields in reader:
            if not fields:
                continue
            if len(fields) > width:
                errors[len(records)] = (
                    f"malformed {label} row (line {reader.line_num}): {len(fields)} fields, "
                    f"the header has {width}"
                )
                fields = [None] * width
            elif len(fields) < width:
                fields = fields + [None] * (width - len(fields))
            records.append(fields)
            if len(records) == chunk_rows:
                yield _string_frame(records, header, pd, np, STR_NA_VALUES), errors
                records, errors = [], {}
        if records:
            yield _string_frame(records, header, pd, np, STR_NA_VALUES), errors
    except csv.Error as exc:
        raise DataError(
            f"cannot parse {name} as {label} near line {reader.line_num}: {exc}"
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{name}: invalid {encoding} data ({exc.reason}); pass --encoding if the file is "
            "not UTF-8"
        ) from exc
    finally:
        if not text.closed:
            text.detach()  # leave the underlying file (e.g. stdin) to its owner


def _string_frame(records, header, pd, np, na_values):
    frame = pd.DataFrame(records, columns=header, dtype=object)
    missing = frame.isin(na_values) | frame.isna()
    return frame.mask(missing, np.nan)


def _jsonl_frames(handle, kind, name, encoding, chunk_rows):
    import json

    import pandas as pd

    records: list[dict] = []
    errors: dict[int, str] = {}
    number = 0
    for raw in handle:
        if not raw.strip():
            continue
        number += 1
        try:
            value = json.loads(raw.decode(encoding).removeprefix("\ufeff"))
            if not isinstance(value, dict):
                raise ValueError(f"expected a JSON object, got {type(value).__name__}")
            records.append(value)
        except (ValueError, UnicodeDecodeError) as exc:
            errors[len(records)] = f"line {number}: not a JSON object ({_first_line(exc)})"
            records.append({})
        if len(records) == chunk_rows:
            yield pd.DataFrame.from_records(records), errors
            records, errors = [], {}
    if records:
        yield pd.DataFrame.from_records(records), errors


def _parquet_frames(handle, kind, name, encoding, chunk_rows):
    import pyarrow.parquet as pq

    try:
        source = io.BytesIO(handle.read()) if name == "-" else handle
        parquet = pq.ParquetFile(source)
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas(), {}
    except OSError as exc:
        raise DataError(f"cannot read {name} as Parquet: {_first_line(exc)}") from exc
    except Exception as exc:  # pyarrow raises many types for a bad file
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read {name} as Parquet: {_first_line(exc)}") from exc


def _table_path(name: str) -> Path:
    """The path of a table file, or a DataError naming why it cannot be one."""
    path = Path(name)
    if not path.exists():
        raise DataError(f"table not found: {name}")
    if path.is_dir():
        raise DataError(f"expected a table file, got a folder: {name}")
    return path
