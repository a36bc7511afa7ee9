"""How each table format is parsed: one routine per format, yielding batches of rows as columns.

A routine is called as ``routine(handle, kind, name, encoding, rows)``: ``handle`` a binary
stream (seekable for JSON Lines and Parquet), ``kind`` the format, ``name`` the table's name
for messages, ``rows`` the most rows per batch. It yields ``(columns, cells, count, errors)``:
the column names, one list of cells per column, the batch's number of rows (at least one;
JSON Lines of ``{}`` have rows but no column) and the rows of it that did not parse
(position -> message; the row is there with every cell None).
:mod:`mmcli.io.tables` numbers the batches as chunks, and nothing else parses a table, so a
whole table and its chunks hold the same cells. No routine imports pandas.

Cells are read verbatim (a DataFrame of them has dtype ``object`` in every column). CSV/TSV
cells are the strings as written (:mod:`mmcli.io.delimited`: no type guessing, no trimming,
``NA`` is a value); JSON Lines strings are the strings, numbers the text written
(``1450000000000000001``, ``1.10``), booleans ``true``/``false``, lists and objects as parsed
(their numbers as text too); Parquet cells are the Python values of its columns, booleans
``true``/``false``. A missing cell is None: an empty CSV/TSV field (:data:`MISSING_MARKERS`),
the fields a short record lacks, a JSON ``null`` or absent key, a Parquet null. Column names
are stripped; a blank one becomes ``Unnamed: <position>``; a repeated one is a DataError
naming it.

Text is decoded with ``encoding``; a byte-order mark before the header is dropped; an invalid
byte is a DataError naming its line.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO

from mmcli.errors import DataError, UsageError

# The CSV/TSV fields read as missing: the empty field only. "NA", "None", "null", "N/A" are
# values (a class may be called NA); JSON Lines and Parquet have nulls.
MISSING_MARKERS = frozenset({""})
READ_BYTES = 1 << 20  # bytes asked of the input per read (less from a pipe)
# What json.loads runs, but numbers (and NaN/Infinity) kept as the text written: an id
# 1450000000000000001 never passes through a float, 1.10 stays "1.10".
# A key repeated within one object is refused (json.loads would keep the last value silently).


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {repeated!r} is repeated")
    return found


_OPTIONS = {"parse_float": str, "parse_int": str, "parse_constant": str,
            "object_pairs_hook": _unique_keys}
_SCAN = json.JSONDecoder(**_OPTIONS).scan_once
_JSON = json.JSONDecoder(**_OPTIONS)
BOOLEANS = {True: "true", False: "false"}  # JSON and Parquet booleans, spelt as in JSON


def jsonl_batches(handle, kind, name, encoding, rows):
    """JSON Lines batches of ``rows`` lines, with the columns of every line of the file.

    A first pass parses every line for its keys and keeps the first ``rows`` (the first
    batch); only when there are more does a second pass parse the rest again.
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
    columns = column_names(order, name)
    cells, errors = _records_cells(head, order)
    yield columns, cells, len(head), errors
    if more:
        handle.seek(0)
        rest = map(_parse_line, itertools.islice(_json_lines(handle, name, encoding), rows, None))
        while batch := list(itertools.islice(rest, rows)):
            cells, errors = _records_cells(batch, order)
            yield columns, cells, len(batch), errors


def records_columns(records: Sequence[dict],
                    name: str = "table") -> tuple[list[str], list[list[Any]]]:
    """JSON objects already parsed (numbers as their text, as this reader parses them) as the
    columns and cells :func:`jsonl_batches` gives for the same lines of a file: columns in
    order of first appearance, booleans ``true``/``false``, absent keys missing.

    Raises:
        DataError: two keys that are the same name once stripped.
    """
    keys = list(dict.fromkeys(key for record in records for key in record))
    columns = column_names(keys, name)
    cells, _ = _records_cells(list(enumerate(records, start=1)), keys)
    return columns, cells


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
        try:  # ... and, for a line that is not JSON, json.loads' own message, placed by
            value = _JSON.decode(text)  # its column in the file's line (never "line 2")
        except json.JSONDecodeError as exc:
            indent = len(line) - len(line.lstrip(" \t\r\n"))
            return number, f"{exc.msg} at column {exc.colno + indent}"
        except ValueError as exc:
            return number, _first_line(exc)
    if not isinstance(value, dict):
        return number, f"expected a JSON object, got {type(value).__name__}"
    return number, value


def _records_cells(lines: list[tuple[int, object]], keys: list[str]):
    """Parsed lines as one list of cells per key, and their errors (a line that is no object:
    every cell None)."""
    records = [value if isinstance(value, dict) else {} for _, value in lines]
    errors = {
        position: f"line {number}: not a JSON object ({value})"
        for position, (number, value) in enumerate(lines)
        if not isinstance(value, dict)
    }
    cells = [[_verbatim(r.get(k)) for r in records] for k in keys]
    return cells, errors


def parquet_batches(handle, kind, name, encoding, rows):
    """Parquet batches of at most ``rows`` rows, one per record batch (pyarrow, no pandas:
    the index columns pandas stored are recognised from the file's metadata and left out)."""
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
        columns = column_names(names, name)
        for batch in parquet.iter_batches(batch_size=rows, columns=names):
            if batch.num_rows:
                cells = [[_verbatim(v) for v in batch.column(i).to_pylist()]
                         for i in range(len(columns))]
                # A file without columns has no rows here (as when pandas framed it).
                yield columns, cells, batch.num_rows if cells else 0, {}
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
            hint = "pass --encoding (e.g. latin-1) if the file is not UTF-8"
            if not started and data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode"
                hint = "the file starts with a UTF-16 byte-order mark: pass --encoding utf-16"
            raise DataError(
                f"{name}: invalid {encoding} byte 0x{data[exc.start]:02x} on line {line}; {hint}"
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


def column_names(names: Sequence[object], table: str = "table") -> list[str]:
    """Names stripped; a blank one ``Unnamed: <i>``.

    Raises:
        DataError: a name repeated (after stripping), naming it and its positions: which of
            the columns is meant cannot be told.
    """
    columns = [str(raw).strip() or f"Unnamed: {position}" for position, raw in enumerate(names)]
    seen: dict[str, int] = {}
    for position, column in enumerate(columns, start=1):
        if column in seen:
            raise DataError(
                f"{table}: the column {column!r} appears twice in the header (columns "
                f"{seen[column]} and {position}); rename one"
            )
        seen[column] = position
    return columns


def _verbatim(value: object) -> object:
    """A JSON or Parquet cell as its spelling where it has one: booleans ``true``/``false``
    (as a CSV spells them), a list or an object as JSON text (``["x", "y"]``, not Python's
    ``['x', 'y']``); other values as parsed (JSON numbers are already their text)."""
    if value is True or value is False:
        return BOOLEANS[value]
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


Routine = Callable[..., Iterator[tuple[list[str], list[list[Any]], int, dict[int, str]]]]
ROUTINES: dict[str, Routine] = {  # CSV and TSV: mmcli.io.delimited, added by mmcli.io.tables
    "jsonl": jsonl_batches,
    "parquet": parquet_batches,
}
