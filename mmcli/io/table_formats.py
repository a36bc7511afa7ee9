"""How each table format is parsed: one routine per format, yielding frames of rows.

A routine is called as ``routine(handle, kind, name, encoding, rows)``: ``handle`` a binary
stream (seekable for JSON Lines and Parquet), ``kind`` the format, ``name`` the table's name
for messages, ``rows`` the most rows per frame. It yields ``(frame, errors)``: a non-empty
DataFrame and the rows of it that did not parse (position -> message; the row is there with
every cell None). :mod:`mmcli.io.tables` numbers the frames as chunks, and nothing else
parses a table, so a whole table and its chunks hold the same cells.

Cells. Every column has dtype ``object``. CSV/TSV cells are the strings as written (quotes
removed; no type guessing, no trimming); JSON Lines cells are the JSON values (str, int,
float, bool, list, dict); Parquet cells are the Python values of its columns. A missing cell
is None: a CSV/TSV field that is one of :data:`MISSING_MARKERS` (the empty field included),
the fields a short record lacks, a JSON ``null`` or absent key, a Parquet null. Column names
are stripped; a blank one becomes ``Unnamed: <position>``, a repeated one ``<name>.1`` ...
(pandas' names).

Text is decoded with ``encoding``; a byte-order mark before the header is dropped; an invalid
byte is a DataError naming its line. Blank lines are skipped. CSV/TSV quoting is strict (the
csv module): an unclosed quote, or a closing quote followed by anything but a delimiter,
raises a DataError; a record with more fields than the header is an error row.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO

from mmcli.errors import DataError, UsageError

if TYPE_CHECKING:
    import pandas as pd

# The CSV/TSV fields read as missing: pandas' default ``na_values`` (a test checks they still
# are). The one list for every read, whole or in chunks; JSON Lines and Parquet have nulls.
MISSING_MARKERS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
READ_BYTES = 1 << 20  # bytes asked of the input per read (less from a pipe)
_SCAN = json.JSONDecoder().scan_once  # what json.loads runs, with its default options
_MAX_FIELD = 2**31 - 1  # the csv module's default limit (128 KiB) would refuse long texts


def delimited_frames(handle, kind, name, encoding, rows):
    """CSV/TSV frames of ``rows`` records, split by the csv module (strict quoting)."""
    label = kind.upper()
    csv.field_size_limit(max(csv.field_size_limit(), _MAX_FIELD))
    lines = text_lines(handle, name, encoding)
    reader = csv.reader(lines, delimiter="\t" if kind == "tsv" else ",", strict=True)
    try:
        header = next((fields for fields in reader if not _blank(fields)), None)
        if header is None:
            raise DataError(f"table {name} is empty")
        columns = column_names(header)
        width = len(columns)
        records: list[list[str | None]] = []
        errors: dict[int, str] = {}
        for fields in reader:
            if len(fields) != width or width == 1:  # else the common case: nothing to do
                if _blank(fields):
                    continue
                if len(fields) > width:
                    errors[len(records)] = (
                        f"malformed {label} row (line {reader.line_num}): {len(fields)} "
                        f"fields, the header has {width}"
                    )
                    fields = [None] * width
                fields += [None] * (width - len(fields))
            records.append(fields)
            if len(records) == rows:
                yield _string_frame(records, columns), errors
                records, errors = [], {}
        if records:
            yield _string_frame(records, columns), errors
    except csv.Error as exc:
        where = f"near line {reader.line_num}"
        raise DataError(f"cannot parse {name} as {label} {where}: {exc}") from exc


def _blank(fields: list[str]) -> bool:
    """A blank line (as pandas skips them): no field, or one that is only whitespace."""
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _string_frame(records: list[list[str | None]], columns: list[str]) -> pd.DataFrame:
    """Records of ``len(columns)`` strings as a frame, :data:`MISSING_MARKERS` as None."""
    import pandas as pd

    frame = pd.DataFrame(records, columns=columns, dtype=object)
    markers = list(MISSING_MARKERS)
    for column in columns:
        cells = frame[column]
        missing = cells.isin(markers)
        if missing.any():
            frame[column] = cells.mask(missing, None)
    return frame


def jsonl_frames(handle, kind, name, encoding, rows):
    """JSON Lines frames of ``rows`` lines, with the columns of every line of the file.

    A first pass parses every line for its keys and keeps the first ``rows`` (the first
    frame); only when there are more does a second pass parse the rest again.
    """
    parsed = map(_parse_line, _json_lines(handle, name, encoding))
    head = list(itertools.islice(parsed, rows))
    if not head:
        raise DataError(f"table {name} is empty")
    keys = dict.fromkeys(key for _, value in head if isinstance(value, dict) for key in value)
    more = False
    for _, value in parsed:
        more = True
        if isinstance(value, dict):
            keys.update(dict.fromkeys(value))
    order = list(keys)
    columns = column_names(order)
    yield _records_frame(head, order, columns)
    if more:
        handle.seek(0)
        rest = map(_parse_line, itertools.islice(_json_lines(handle, name, encoding), rows, None))
        while batch := list(itertools.islice(rest, rows)):
            yield _records_frame(batch, order, columns)


def _json_lines(handle, name, encoding) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line."""
    for number, line in enumerate(text_lines(handle, name, encoding), start=1):
        if line.strip():
            yield number, line


def _parse_line(item: tuple[int, str]) -> tuple[int, object]:
    """(line number, the JSON object), or (line number, why the line is not one: a str)."""
    number, line = item
    text = line.strip(" \t\r\n")  # JSON's whitespace
    try:  # json.loads without its Python layers (a third of its time on short lines) ...
        value, end = _SCAN(text, 0)
        if end != len(text):
            raise ValueError("extra data")
    except (StopIteration, ValueError):
        try:  # ... and, for a line that is not JSON, json.loads' own message
            value = json.loads(line)
        except ValueError as exc:
            return number, _first_line(exc)
    if not isinstance(value, dict):
        return number, f"expected a JSON object, got {type(value).__name__}"
    return number, value


def _records_frame(lines: list[tuple[int, object]], keys: list[str], columns: list[str]):
    """Parsed lines as a frame and its errors (a line that is no object: every cell None)."""
    import pandas as pd

    records = [value if isinstance(value, dict) else {} for _, value in lines]
    errors = {
        position: f"line {number}: not a JSON object ({value})"
        for position, (number, value) in enumerate(lines)
        if not isinstance(value, dict)
    }
    cells = {c: [r.get(k) for r in records] for k, c in zip(keys, columns, strict=True)}
    frame = pd.DataFrame(cells, index=range(len(records)), columns=columns, dtype=object)
    return frame, errors


def parquet_frames(handle, kind, name, encoding, rows):
    """Parquet frames of at most ``rows`` rows, one per record batch."""
    import pandas as pd
    import pyarrow.parquet as pq

    if not handle.read(1):
        raise DataError(f"table {name} is empty")
    handle.seek(0)
    try:
        parquet = pq.ParquetFile(handle)
        schema = parquet.schema_arrow
        stored = (schema.pandas_metadata or {}).get("index_columns", [])
        index = {c for c in stored if isinstance(c, str)}  # pandas' index (a range: a dict)
        names = [n for n in schema.names if n not in index]
        columns = column_names(names)
        for batch in parquet.iter_batches(batch_size=rows, columns=names):
            if batch.num_rows:
                cells = {c: batch.column(i).to_pylist() for i, c in enumerate(columns)}
                yield pd.DataFrame(cells, columns=columns, dtype=object), {}
    except Exception as exc:  # pyarrow raises many types for a bad file
        raise DataError(f"cannot read {name} as Parquet: {_first_line(exc)}") from exc


def text_lines(handle: BinaryIO, name: str, encoding: str) -> Iterator[str]:
    """The decoded lines of ``handle``, each with its end (``\\n``, ``\\r\\n`` or ``\\r``),
    a byte-order mark before the first one removed (lines are chained in C, one list per
    block read: the csv module pulls them without a Python call per line).

    Raises:
        UsageError: unknown encoding.
        DataError: a byte invalid in ``encoding``, naming its line.
    """
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError as exc:
        raise UsageError(f"unknown encoding {encoding!r}") from exc
    return itertools.chain.from_iterable(_line_blocks(handle, name, encoding, decoder))


def _line_blocks(handle, name, encoding, decoder) -> Iterator[list[str]]:
    read = getattr(handle, "read1", handle.read)
    pending, newlines, started = "", 0, False
    while True:
        block = read(READ_BYTES)
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            data = bytes(exc.object)
            line = newlines + data.count(b"\n", 0, exc.start) + 1
            raise DataError(
                f"{name}: invalid {encoding} byte 0x{data[exc.start]:02x} on line {line}; "
                "pass --encoding (e.g. latin-1) if the file is not UTF-8"
            ) from exc
        newlines += block.count(b"\n")
        if text and not started:
            text, started = text.removeprefix("\ufeff"), True
        # newline="": split at \n, \r\n and \r only (not at \f, \x1c ...), ends kept.
        lines = io.StringIO(pending + text, newline="").readlines()
        if not block:
            yield lines
            return
        # The last line may go on in the next block (or be the \r of a \r\n cut in two).
        pending = lines.pop() if lines else ""
        yield lines


def column_names(names: Sequence[object]) -> list[str]:
    """Names stripped; a blank one ``Unnamed: <i>``, a repeat ``<name>.1``, ``<name>.2``..."""
    columns: list[str] = []
    for position, raw in enumerate(names):
        base = str(raw).strip() or f"Unnamed: {position}"
        name, count = base, 0
        while name in columns:
            count += 1
            name = f"{base}.{count}"
        columns.append(name)
    return columns


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


Routine = Callable[..., Iterator[tuple["pd.DataFrame", dict[int, str]]]]
ROUTINES: dict[str, Routine] = {
    "csv": delimited_frames,
    "tsv": delimited_frames,
    "jsonl": jsonl_frames,
    "parquet": parquet_frames,
}
