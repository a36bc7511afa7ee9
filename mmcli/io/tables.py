"""Reading a table (CSV, TSV, JSONL, Parquet; a path or ``-`` for stdin): one reader, in chunks.

Each format has ONE parsing routine (:mod:`mmcli.io.table_formats`, which says what cells,
missing values and column names come out), yielding chunks of rows. A :class:`Table` holds
them as columns (one list of cells each): reading one never imports pandas, and
:attr:`Table.frame` builds the DataFrame for the commands that want one. :func:`iter_table_chunks`
(predict) hands them out as they come; :func:`read_table` (preprocess, check, train,
evaluate) concatenates them. A whole table and its chunks, of any size, therefore hold the
same rows, columns, cells and missing values by construction: a file is parsed the same way
at training and at prediction time.

The columns of a JSON Lines table are the union of the keys of all its lines, in the order
they first appear, whatever the chunk size: a file is read twice (keys first; the first
chunk's lines are parsed once), and stdin is first spooled to a temporary file (in memory up
to 64 MiB), so from stdin predict's first JSON Lines chunk comes once the input has ended.
Parquet is read by record batches (from stdin, whole: its footer is at the end).

A row that does not parse (a CSV/TSV record with more fields than the header, a JSON Lines
line that is not a JSON object): in chunks it stays in its place with every cell missing and
its message in :attr:`Chunk.errors` (predict writes an error record for it); a whole-table
read raises a DataError naming the first such line (exit 3), because a dataset or a metric
that silently lacked a row of the file would no longer describe the file.
"""

from __future__ import annotations

import hashlib
import io
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from mmcli import layout
from mmcli.errors import DataError, UsageError
from mmcli.io.columns import Chunk, Table
from mmcli.io.delimited import delimited_batches
from mmcli.io.table_formats import MISSING_MARKERS, READ_BYTES
from mmcli.io.table_formats import ROUTINES as _OTHERS

__all__ = [
    "FORMATS",
    "MISSING_MARKERS",
    "Chunk",
    "Table",
    "detect_format",
    "iter_table_chunks",
    "read_table",
]

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
ROUTINES = {"csv": delimited_batches, "tsv": delimited_batches, **_OTHERS}  # one per format
_SPOOL_BYTES = 64 << 20  # a JSON Lines stdin stays in memory up to this size, then on disk
_WHOLE_ROWS = 100_000  # chunk size behind read_table (any size gives the same table)


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
    """Read a whole table: the chunks of :func:`iter_table_chunks` concatenated.
    ``source`` ``-`` reads standard input (CSV unless ``fmt``).

    Raises:
        UsageError: unknown format or encoding.
        DataError: missing or unreadable file, invalid byte, malformed or empty table, a row
            that does not parse (naming its line).
    """
    name = str(source)
    path = None if name == "-" else _table_path(name)  # not found before "cannot tell format"
    kind = detect_format(name, fmt)
    if path is None:
        data = (stdin or sys.stdin.buffer).read()
        root = Path.cwd()
    else:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataError(f"cannot read table {name}: {exc.strerror or exc}") from exc
        root = path.resolve().parent
    whole: Table | None = None
    for chunk in _chunks(io.BytesIO(data), kind, name, encoding, _WHOLE_ROWS, root):
        if chunk.errors:
            message = chunk.errors[min(chunk.errors)]
            raise DataError(f"cannot parse {name} as {kind.upper()}: {message}")
        if whole is None:
            whole, rows = chunk.table, len(chunk.table)
        else:  # every chunk has the table's columns
            for cells, more in zip(whole.cells, chunk.table.cells, strict=True):
                cells.extend(more)
            rows += len(chunk.table)
    assert whole is not None  # _chunks raises on a table without rows
    return Table(whole.columns, whole.cells, root, name, hashlib.sha256(data).hexdigest(), rows)


def iter_table_chunks(
    source: str | Path,
    *,
    fmt: str | None = None,
    chunk_rows: int = 10_000,
    encoding: str = "utf-8",
    stdin: BinaryIO | None = None,
) -> Iterator[Chunk]:
    """Read a table (or ``-`` for stdin) ``chunk_rows`` rows at a time, in order, so memory
    stays bounded (Parquet batches may be shorter, at row-group ends). Every chunk has the
    table's columns. ``Table.sha256`` is empty: the whole file is never held.

    Raises:
        UsageError: ``chunk_rows`` < 1, unknown format or encoding.
        DataError: missing or unreadable file, invalid byte, malformed CSV quoting, no rows.
    """
    if chunk_rows < 1:
        raise UsageError(f"Expected a positive integer for `chunk_rows`. Received: {chunk_rows}")
    name = str(source)
    path = None if name == "-" else _table_path(name)  # not found before "cannot tell format"
    kind = detect_format(name, fmt)
    stream: BinaryIO | None = None
    if path is None:
        stream = stdin or sys.stdin.buffer
        handle = _from_stdin(stream, kind)
        root = Path.cwd()
    else:
        try:
            handle = open(path, "rb")  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise DataError(f"cannot read table {name}: {exc.strerror or exc}") from exc
        root = path.resolve().parent
    try:
        yield from _chunks(handle, kind, name, encoding, chunk_rows, root)
    finally:
        if handle is not stream:
            handle.close()  # the file or stdin's copy is ours; stdin itself is its owner's


def _from_stdin(stream: BinaryIO, kind: str) -> BinaryIO:
    """The stream to parse for stdin: a Parquet file whole in memory, a JSON Lines one
    spooled (its keys are read first), CSV/TSV the stream itself."""
    if kind == "parquet":
        return io.BytesIO(stream.read())
    if kind == "jsonl":
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        while block := stream.read(READ_BYTES):
            spool.write(block)
        spool.seek(0)
        return spool  # type: ignore[return-value]
    return stream


def _chunks(
    handle: BinaryIO, kind: str, name: str, encoding: str, rows: int, root: Path
) -> Iterator[Chunk]:
    """The one parsing path: the format's routine, its batches numbered as chunks."""
    first_row = 1
    for columns, cells, count, errors in ROUTINES[kind](handle, kind, name, encoding, rows):
        table = Table(tuple(columns), tuple(cells), root, name, "", count)
        yield Chunk(table, first_row, errors)
        first_row += len(table)
    if first_row == 1:
        raise DataError(f"table {name} has no data rows")


def _table_path(name: str) -> Path:
    """The path of a table file, or a DataError naming why it cannot be one."""
    path = Path(name)
    if not path.exists():
        raise DataError(f"table not found: {name}")
    if path.is_dir():
        made = " (a prepared folder: this command reads the table it was made from)" \
            if (path / layout.SCHEMA_FILE).is_file() else ""
        raise DataError(f"expected a table file, got a folder: {name}{made}")
    return path
