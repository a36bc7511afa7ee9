"""Reading a table in chunks (no TensorFlow): order, numbering, columns, unparseable lines."""

from __future__ import annotations

import io

import pytest

from mmcli.errors import DataError
from mmcli.io.tables import iter_table_chunks


def test_csv_chunks_keep_order_and_number_rows(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,text\n" + "".join(f"r{i},word {i}\n" for i in range(10)))
    chunks = list(iter_table_chunks(path, chunk_rows=4))
    assert [len(c.table.frame) for c in chunks] == [4, 4, 2]
    assert [c.first_row for c in chunks] == [1, 5, 9]
    ids = [v for c in chunks for v in c.table.frame["id"]]
    assert ids == [f"r{i}" for i in range(10)]
    assert chunks[0].table.root == tmp_path


def test_jsonl_from_stdin_marks_bad_lines_and_has_every_lines_columns():
    data = b'{"id": "a", "text": "x"}\n[1, 2]\n\n{"id": "c", "text": "z", "extra": 1}\n'
    chunks = list(iter_table_chunks("-", fmt="jsonl", chunk_rows=2, stdin=io.BytesIO(data)))
    assert [c.first_row for c in chunks] == [1, 3]
    assert chunks[0].errors == {1: "line 2: not a JSON object (expected a JSON object, got list)"}
    for chunk in chunks:  # "extra" first appears in the last line, yet every chunk has it
        assert list(chunk.table.frame.columns) == ["id", "text", "extra"]
    assert chunks[1].table.frame["id"].tolist() == ["c"]
    assert chunks[0].table.frame["extra"].tolist() == [None, None]


def test_header_only_table_has_no_data_rows(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("id\ttext\n")
    with pytest.raises(DataError, match="no data rows"):
        list(iter_table_chunks(path))


def test_malformed_csv_is_a_data_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text\na,"unclosed\n')
    with pytest.raises(DataError, match="cannot parse .* near line 2"):
        list(iter_table_chunks(path))


def test_csv_line_with_too_many_fields_is_an_error_row_in_place(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,text\na,x\nb,y,extra\nc,z\nd,w\n")
    chunks = list(iter_table_chunks(path, chunk_rows=2))
    assert [c.first_row for c in chunks] == [1, 3]
    assert chunks[0].errors == {1: "malformed CSV row (line 3): 3 fields, the header has 2"}
    assert chunks[0].table.frame["id"].isna().tolist() == [False, True]
    assert chunks[1].errors == {}
    assert chunks[1].table.frame["id"].tolist() == ["c", "d"]


def test_quoted_newlines_and_stdin_csv():
    data = b'id,text\na,"two\nlines"\nb,"say ""hi"""\n'
    (chunk,) = iter_table_chunks("-", stdin=io.BytesIO(data))
    assert chunk.table.frame["text"].tolist() == ["two\nlines", 'say "hi"']


def test_missing_markers_match_read_table(tmp_path):
    from mmcli.io.tables import read_table

    path = tmp_path / "t.csv"
    path.write_text("id,text,label\n1,,NA\n2,null,x\n3,words,\n4\n")
    (chunk,) = iter_table_chunks(path)
    whole = read_table(path).frame
    assert chunk.table.frame.isna().values.tolist() == whole.isna().values.tolist()
    assert chunk.table.frame["text"].tolist()[2] == "words"
