"""CSV and TSV parsing: one routine for both, yielding batches of string cells by column.

CSV is split by the csv module with strict quoting: an unclosed quote, or a closing quote
followed by anything but a delimiter, raises a DataError naming the line. The delimiter of a
``.csv`` is ``,`` unless its header has no comma and splits on exactly one of ``;``, tab or
``|`` (a spreadsheet export in a locale with decimal commas): then that one; a header that
splits on several of them is refused naming them, never guessed.

TSV has no quoting convention: a record is one line, split at every tab, and quotes are read
literally, so a cell may begin with ``"`` without swallowing the lines after it. The one
exception is the form writers such as pandas and the csv module give a cell holding a quote:
a whole cell ``"..."`` whose inner quotes are all doubled is unquoted (``"12"" vinyl"`` ->
``12" vinyl``). A line with fewer cells than the header where a cell opens a quote it does not
close is refused naming the line (a CSV-quoted cell spread over lines: read such a file with
``--input-format csv``, whose delimiter detection finds the tabs).

Cells are the strings as written; only an empty cell (and the cells a short record lacks) is
missing (None). Blank lines are skipped; a record with more cells than the header is an error
row (see :mod:`mmcli.io.table_formats`).
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator

from mmcli.errors import DataError
from mmcli.io.table_formats import column_names, text_lines

OTHER_DELIMITERS = (";", "\t", "|")  # what a .csv header without a comma may split on
_MAX_FIELD = 2**31 - 1  # the csv module's default limit (128 KiB) would refuse long texts
_QUOTED = re.compile(r'"(?:[^"]|"")*"', re.DOTALL)  # a whole cell in CSV quoting


def delimited_batches(handle, kind, name, encoding, rows):
    """CSV/TSV batches of ``rows`` records (``(columns, cells, count, errors)`` as every
    format routine)."""
    label = kind.upper()
    lines = text_lines(handle, name, encoding)
    head: list[str] = []  # blank lines before the header
    first = next(lines, None)
    while first is not None and not first.strip():
        head.append(first)
        first = next(lines, None)
    if first is None:
        raise DataError(f"table {name} is empty")
    lines = itertools.chain(head, [first], lines)
    if kind == "tsv":
        _check_tsv_header(first, name)
        records = _tsv_records(lines)
    else:
        csv.field_size_limit(max(csv.field_size_limit(), _MAX_FIELD))
        reader = csv.reader(lines, delimiter=_csv_delimiter(first, name), strict=True)
        records = _csv_records(reader, name)
    header = next((fields for _, fields in records if not _blank(fields)), None)
    if header is None:
        raise DataError(f"table {name} is empty")
    columns = column_names(header, name)
    width = len(columns)
    batch: list[list[str | None]] = []
    errors: dict[int, str] = {}
    for line, fields in records:
        if len(fields) != width or width == 1:  # else the common case: nothing to do
            if _blank(fields):
                continue
            problem = _misfit(kind, fields, width)
            if problem:
                errors[len(batch)] = f"malformed {label} row (line {line}): {problem}"
                fields = [None] * width
            fields += [None] * (width - len(fields))
        batch.append(fields)
        if len(batch) == rows:
            yield columns, _string_columns(batch), len(batch), errors
            batch, errors = [], {}
    if batch:
        yield columns, _string_columns(batch), len(batch), errors


def _csv_delimiter(header: str, name: str) -> str:
    """``,``, or the one other delimiter a comma-less header splits on.

    Raises:
        DataError: the header splits on several other delimiters.
    """
    if "," in header:
        return ","
    found = [d for d in OTHER_DELIMITERS if _splits(header, d)]
    if len(found) > 1:
        shown = " and ".join(repr(d) for d in found)
        raise DataError(
            f"{name}: the header has no comma but splits on {shown}; cannot tell the "
            "delimiter (save the table with commas, or as .tsv for tabs)"
        )
    return found[0] if found else ","


def _check_tsv_header(header: str, name: str) -> None:
    """A TSV header without a tab that splits on a CSV delimiter is a CSV misnamed.

    Raises:
        DataError: naming the delimiter and the fix.
    """
    if "\t" in header:
        return
    for delimiter in (",", ";", "|"):
        if _splits(header, delimiter):
            raise DataError(
                f"{name}: the header has no tab but splits on {delimiter!r}; if it is a CSV "
                "file, pass --input-format csv"
            )


def _splits(header: str, delimiter: str) -> bool:
    try:
        fields = next(csv.reader([header], delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    return len(fields) > 1 and all(f.strip() for f in fields)


def _csv_records(reader, name: str) -> Iterator[tuple[int, list[str]]]:
    try:
        for fields in reader:
            yield reader.line_num, fields
    except csv.Error as exc:
        raise DataError(
            f"cannot parse {name} as CSV near line {reader.line_num}: {exc}"
        ) from exc


def _tsv_records(lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each line: split at tabs, quotes literal but for whole cells
    in CSV quoting."""
    for number, line in enumerate(lines, start=1):
        fields = line.rstrip("\r\n").split("\t")
        if '"' in line:
            fields = [f[1:-1].replace('""', '"') if _QUOTED.fullmatch(f) else f for f in fields]
        yield number, fields


def _misfit(kind: str, fields: list[str], width: int) -> str | None:
    """Why a record of the wrong length is no row (None: a short record, padded)."""
    if len(fields) > width:
        return f"{len(fields)} fields, the header has {width}"
    short = len(fields) < width
    if kind == "tsv" and short and any(f.startswith('"') and not _QUOTED.fullmatch(f)
                                       for f in fields):
        return (f"{len(fields)} fields, the header has {width}, and a cell opens a quote: TSV "
                "cells cannot span lines (if the file uses CSV quoting, pass --input-format csv)")
    return None


def _blank(fields: list[str]) -> bool:
    """A blank line (as pandas skips them): no field, or one that is only whitespace."""
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _string_columns(records: list[list[str | None]]) -> list[list[str | None]]:
    """Records of equal length (strings, or None where a short record was padded) as one
    list per column, an empty cell as None (``"" or None``)."""
    return [[cell or None for cell in column] for column in zip(*records, strict=True)]
