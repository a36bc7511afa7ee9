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


def test_jsonl_from_stdin_marks_bad_lines_and_keeps_first_columns():
    data = b'{"id": "a", "text": "x"}\n[1, 2]\n\n{"id": "c", "text": "z", "extra": 1}\n'
    chunks = list(iter_table_chunks("-", fmt="jsonl", chunk_rows=2, stdin=io.BytesIO(data)))
    assert [c.first_row for c in chunks] == [1, 3]
    assert chunks[0].errors == {1: "line 2: not a JSON object (expected a JSON object, got list)"}
    assert list(chunks[1].table.frame.columns) == ["id", "text"]
    assert chunks[1].table.frame["id"].tolist() == ["c"]


def test_header_only_table_has_no_data_rows(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("id\ttext\n")
    with pytest.raises(DataError, match="no data rows"):
        list(iter_table_chunks(path))


def test_malformed_csv_is_a_data_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('id,text\na,"unclosed\n')
    with pytest.raises(DataError, match="cannot parse"):
        list(iter_table_chunks(path))
