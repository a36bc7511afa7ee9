"""One table reader: a whole table is its chunks concatenated, for every format and source.

No TensorFlow. Tables are written with the standard library, pandas or pyarrow, and read
back with ``read_table`` and ``iter_table_chunks``; the frames are compared cell by cell.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmcli.errors import DataError, UsageError
from mmcli.io import table_formats
from mmcli.io.tables import MISSING_MARKERS, iter_table_chunks, read_table

CHUNK_SIZES = (1, 2, 3, 1000)


def cells(frame: pd.DataFrame) -> list[list[object]]:
    """Rows of cells (the reader gives None for a missing one; a NaN would show)."""
    return [list(row) for row in frame.itertuples(index=False)]


def chunked(source, chunk_rows: int, **options) -> pd.DataFrame:
    """The chunks of ``source`` concatenated, after checking their numbering and columns."""
    chunks = list(iter_table_chunks(source, chunk_rows=chunk_rows, **options))
    first = 1
    for chunk in chunks:
        assert chunk.first_row == first and chunk.table.sha256 == ""
        assert list(chunk.table.frame.columns) == list(chunks[0].table.frame.columns)
        first += len(chunk.table.frame)
    return pd.concat([c.table.frame for c in chunks], ignore_index=True)


def assert_same(whole: pd.DataFrame, parts: pd.DataFrame) -> None:
    assert list(whole.columns) == list(parts.columns)
    assert cells(whole) == cells(parts)
    assert all(dtype.kind == "O" for dtype in whole.dtypes), whole.dtypes
    assert all(dtype.kind == "O" for dtype in parts.dtypes), parts.dtypes


def write(path: Path, kind: str, columns: list[str], rows: list[list[str | None]]) -> None:
    """Write a table the way other tools would (csv module, json, pyarrow)."""
    if kind in ("csv", "tsv"):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter="\t" if kind == "tsv" else ",")
            writer.writerow(columns)
            writer.writerows([["" if v is None else v for v in row] for row in rows])
    elif kind == "jsonl":
        with open(path, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(dict(zip(columns, row, strict=True))) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = [pa.array([row[i] for row in rows], pa.string()) for i in range(len(columns))]
        pq.write_table(pa.table(arrays, names=columns), path, row_group_size=2)


def expected(kind: str, rows: list[list[str | None]]) -> list[list[str | None]]:
    """The cells a faithful reader gives back: every string as written; an empty CSV/TSV cell
    is missing (None and "" are one there), and a one-column blank line is no row (as pandas).
    """
    if kind not in ("csv", "tsv"):
        return rows
    out = [[None if v is None or v in MISSING_MARKERS else v for v in row] for row in rows]
    if len(rows[0]) == 1:
        out = [r for r, raw in zip(out, rows, strict=True) if (raw[0] or "").strip()]
    return out


names = st.lists(
    st.text("abcdefghij_", min_size=1, max_size=6), min_size=1, max_size=4, unique=True
)
cell_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=12)
cell = st.one_of(cell_text, st.sampled_from(["NA", "null", "", " ", '"', "a,b", "x\r\ny", "\t"]),
                 st.none())


@st.composite
def small_tables(draw):
    columns = draw(names)
    rows = draw(st.lists(st.lists(cell, min_size=len(columns), max_size=len(columns)),
                         min_size=1, max_size=8))
    return columns, rows


def tsv_safe(rows: list[list[str | None]]) -> list[list[str | None]]:
    """TSV cells cannot hold a tab or a line break: those become spaces."""
    return [[v if v is None else re.sub(r"[\t\r\n]", " ", v) for v in row] for row in rows]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=small_tables(), kind=st.sampled_from(["csv", "tsv", "jsonl", "parquet"]))
def test_whole_table_is_its_chunks_concatenated(table, kind):
    """Any table of strings reads back as written (rows, ids, NA and null included), whole or
    in chunks of any size, in every format."""
    columns, rows = table
    rows = tsv_safe(rows) if kind == "tsv" else rows
    want = expected(kind, rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"t.{kind}"
        write(path, kind, columns, rows)
        if not want:
            with pytest.raises(DataError, match="no data rows"):
                read_table(path)
            return
        whole = read_table(path)
        assert whole.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert list(whole.frame.columns) == columns
        assert cells(whole.frame) == want
        for size in CHUNK_SIZES:
            assert_same(whole.frame, chunked(path, size))


@pytest.mark.parametrize("block", [1, 2, 3, 7, 1 << 20])
def test_any_read_size_gives_the_same_table(monkeypatch, tmp_path, block):
    """Line ends, a BOM and multi-byte characters cut between two reads are put together."""
    monkeypatch.setattr(table_formats, "READ_BYTES", block)
    path = tmp_path / "t.csv"
    path.write_bytes('\ufeffid,text\r\n1,"caf\u00e9\r\nau lait"\r2,\u732b \U0001f431\n'.encode())
    for frame in (read_table(path).frame, chunked(path, 1)):
        assert list(frame.columns) == ["id", "text"]
        assert cells(frame) == [["1", "caf\u00e9\r\nau lait"], ["2", "\u732b \U0001f431"]]


@pytest.mark.parametrize(("kind", "sep"), [("csv", ","), ("tsv", "\t")])
@pytest.mark.parametrize("quoted", [False, True])
def test_a_byte_order_mark_is_not_part_of_the_header(tmp_path, kind, sep, quoted):
    path = tmp_path / f"t.{kind}"
    header = sep.join('"id"' if quoted and c == "id" else c for c in ("id", "text"))
    path.write_bytes(("\ufeff" + header + "\n" + sep.join(["7", "words"]) + "\n").encode())
    whole = read_table(path).frame
    assert list(whole.columns) == ["id", "text"]
    assert_same(whole, chunked(path, 1))
    assert whole["id"].tolist() == ["7"]


def test_jsonl_columns_are_the_union_of_every_lines_keys(tmp_path):
    """A key first seen on line 20,001 is a column of every chunk, whatever their size."""
    path = tmp_path / "t.jsonl"
    lines = [json.dumps({"id": f"r{i}", "text": "a b"}) for i in range(20_000)]
    lines.append(json.dumps({"late": "here", "id": "last"}))
    path.write_text("\n".join(lines) + "\n")
    whole = read_table(path).frame
    assert list(whole.columns) == ["id", "text", "late"]
    assert whole["late"].tolist()[-2:] == [None, "here"]
    assert whole["text"].tolist()[-1] is None
    for size in (3, 10_000, 20_001):
        assert_same(whole, chunked(path, size))
    stdin = io.BytesIO(path.read_bytes())
    assert_same(whole, chunked("-", 10_000, fmt="jsonl", stdin=stdin))


def test_jsonl_cells_keep_the_spelling_a_person_reads(tmp_path):
    """Numbers are their text (never through a float), booleans true/false as a CSV spells
    them, a list as JSON text, NA a value; only null or an absent key is missing."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": 1450000000000000001, "score": 1.10, "ok": true, "tags": ["a"], '
                    '"text": null}\n{"id": 2, "ok": false, "text": "NA"}\n')
    whole = read_table(path).frame
    assert cells(whole) == [["1450000000000000001", "1.10", "true", '["a"]', None],
                            ["2", None, "false", None, "NA"]]
    assert_same(whole, chunked(path, 1))


def test_parquet_booleans_read_as_true_and_false(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"id": ["007", "8"], "flag": [True, False]}).to_parquet(path)
    assert cells(read_table(path).frame) == [["007", "true"], ["8", "false"]]


@pytest.mark.parametrize("kind", ["csv", "tsv", "jsonl", "parquet"])
def test_every_format_reads_from_stdin(tmp_path, kind):
    path = tmp_path / f"t.{kind}"
    write(path, kind, ["id", "text"], [["1", "a cat"], ["2", None], ["3", "a dog"]])
    data = path.read_bytes()
    whole = read_table("-", fmt=kind, stdin=io.BytesIO(data))
    assert whole.sha256 == hashlib.sha256(data).hexdigest() and whole.root == Path.cwd()
    assert cells(whole.frame) == [["1", "a cat"], ["2", None], ["3", "a dog"]]
    for size in CHUNK_SIZES:
        assert_same(whole.frame, chunked("-", size, fmt=kind, stdin=io.BytesIO(data)))


def test_parquet_cells_do_not_depend_on_the_batch(tmp_path):
    """An integer column with a null in one batch only stays integers (no 1.0), and a pandas
    index stored as a column is not a column of the table."""
    path = tmp_path / "t.parquet"
    frame = pd.DataFrame({"id": pd.array([1, 2, None, 4], dtype="Int64"), "text": list("abcd")},
                         index=[10, 11, 12, 13])
    frame.to_parquet(path, row_group_size=2)
    whole = read_table(path).frame
    assert cells(whole) == [[1, "a"], [2, "b"], [None, "c"], [4, "d"]]
    for size in CHUNK_SIZES:
        assert_same(whole, chunked(path, size))
    frame.reset_index(drop=True).to_parquet(path)  # a range index is metadata only
    assert_same(whole, read_table(path).frame)
    assert_same(whole, chunked(path, 3))


@pytest.mark.parametrize(
    ("kind", "content", "line"),
    [
        ("csv", b"id,text\na,x\nb,y,extra\nc,z\n", "malformed CSV row (line 3): 3 fields"),
        ("tsv", b"id\ttext\na\tx\n\nb\ty\textra\nc\n", "malformed TSV row (line 4): 3 fields"),
        ("jsonl", b'{"id": "a"}\n\n[1]\n{"id": "c"}\n', "line 3: not a JSON object"),
        ("jsonl", b'{"id": "a"}\n{"id": "b", "id": "x"}\n{"id": "c"}\n',
         "line 2: not a JSON object (the key 'id' is repeated)"),
    ],
)
def test_a_row_that_does_not_parse(tmp_path, kind, content, line):
    """In chunks it is an error row in place; a whole-table read stops naming the line."""
    path = tmp_path / f"t.{kind}"
    path.write_bytes(content)
    chunks = list(iter_table_chunks(path, chunk_rows=1))
    assert [c.first_row for c in chunks] == [1, 2, 3]
    assert chunks[1].errors[0].startswith(line) and not chunks[0].errors
    assert cells(chunks[1].table.frame) == [[None] * len(chunks[1].table.frame.columns)]
    with pytest.raises(DataError, match=rf"cannot parse .*t\.{kind} as {kind.upper()}: "):
        read_table(path)
    try:
        read_table(path)
    except DataError as exc:
        assert line in str(exc)


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_invalid_bytes_name_their_line_in_both_paths(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(table_formats, "READ_BYTES", 5)  # the bad byte lies blocks away
    path = tmp_path / f"t.{kind}"
    good = "id,text\n1,ok\n" if kind == "csv" else '{"id": "1"}\n{"id": "2"}\n'
    path.write_bytes(good.encode() + b"caf\xe9\n")
    message = "invalid utf-8 byte 0xe9 on line 3"
    with pytest.raises(DataError, match=message):
        read_table(path)
    with pytest.raises(DataError, match=message):
        list(iter_table_chunks(path))
    monkeypatch.undo()
    if kind == "csv":
        frame = read_table(path, encoding="latin-1").frame
        assert frame["id"].tolist() == ["1", "caf\u00e9"]
        assert_same(frame, chunked(path, 1, encoding="latin-1"))
    with pytest.raises(UsageError, match="unknown encoding"):
        list(iter_table_chunks(path, encoding="no-such-codec"))


def test_header_names_are_stripped_and_blank_ones_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(" id ,,text\n1,2,3\n")
    whole = read_table(path).frame
    assert list(whole.columns) == ["id", "Unnamed: 1", "text"]
    assert_same(whole, chunked(path, 1))


@pytest.mark.parametrize("kind", ["csv", "tsv", "parquet"])
def test_a_repeated_column_name_is_refused_naming_it(tmp_path, kind):
    """Which of two 'text' columns is meant cannot be told (' text' strips to 'text' too)."""
    path = tmp_path / f"t.{kind}"
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table([pa.array(["1"]), pa.array(["a"]), pa.array(["b"])],
                                names=["id", "text", "text"]), path)
    else:
        sep = "," if kind == "csv" else "\t"
        path.write_text(sep.join(["id", "text", " text"]) + "\n" + sep.join("123") + "\n")
    for read in (lambda: read_table(path), lambda: list(iter_table_chunks(path, chunk_rows=1))):
        with pytest.raises(DataError, match="the column 'text' appears twice .*columns 2 and 3"):
            read()


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_a_csv_header_without_commas_gives_its_delimiter(tmp_path, sep, name):
    path = tmp_path / "t.csv"
    path.write_text(f"id{sep}text{sep}price\nr1{sep}a, b{sep}1,5\n")
    whole = read_table(path).frame
    assert cells(whole) == [["r1", "a, b", "1,5"]]
    assert_same(whole, chunked(path, 1))


def test_an_ambiguous_or_misnamed_header_is_refused_naming_the_delimiters(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id;text|x\n1;2|3\n")
    with pytest.raises(DataError, match="splits on ';' and '|'"):
        read_table(path)
    misnamed = tmp_path / "t.tsv"
    misnamed.write_text("id,text\n1,2\n")
    with pytest.raises(DataError, match="no tab but splits on ','.*--input-format csv"):
        read_table(misnamed)


def test_tsv_quotes_are_literal_but_whole_quoted_cells_are_unquoted(tmp_path):
    """A cell may begin with a quote without swallowing the next lines; the form writers give
    a cell holding a quote ("12"" vinyl") is unquoted."""
    path = tmp_path / "t.tsv"
    path.write_text('id\ttext\n1\t"Sunny walk, said the guide\n2\ta 12" vinyl\n'
                    '"3"\t"12"" vinyl"\n4\t"a" and "b"\n')
    whole = read_table(path).frame
    assert cells(whole) == [["1", '"Sunny walk, said the guide'], ["2", 'a 12" vinyl'],
                            ["3", '12" vinyl'], ["4", '"a" and "b"']]
    for size in CHUNK_SIZES:
        assert_same(whole, chunked(path, size))


def test_a_tsv_cell_spread_over_lines_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text('id\ttext\tlabel\n1\t"two\nlines"\tcat\n')
    with pytest.raises(DataError, match=r"line 2\): 2 fields.*opens a quote"):
        read_table(path)


def test_blank_lines_and_lone_carriage_returns(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,text\r\r1,a\r  \r2,\r3\r")
    whole = read_table(path).frame
    assert cells(whole) == [["1", "a"], ["2", None], ["3", None]]
    assert_same(whole, chunked(path, 2))


@pytest.mark.parametrize(
    ("content", "kind", "phrase"),
    [
        (b"", "csv", "is empty"),
        (b"\n \n", "tsv", "is empty"),
        (b"\n\n", "jsonl", "is empty"),
        (b"", "parquet", "is empty"),
        (b"id,text\n", "csv", "no data rows"),
        (b'id,text\n1,"open\n', "csv", "cannot parse .* as CSV near line 2"),
        (b"id,text\n1,\"x\"y\n", "csv", "cannot parse .* as CSV near line 2"),
    ],
)
def test_unreadable_tables_fail_the_same_way_whole_or_in_chunks(tmp_path, content, kind, phrase):
    path = tmp_path / f"t.{kind}"
    path.write_bytes(content)
    with pytest.raises(DataError, match=phrase):
        read_table(path)
    with pytest.raises(DataError, match=phrase):
        list(iter_table_chunks(path, chunk_rows=1))


def test_only_an_empty_field_is_missing():
    assert MISSING_MARKERS == frozenset({""})
