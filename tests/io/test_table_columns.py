"""A table is read as columns (no pandas); its lazily built DataFrame holds exactly its cells.

No TensorFlow. The same rows are written as CSV, TSV, JSON Lines and Parquet (with pandas'
index metadata too); each read gives columns whose cells equal ``Table.frame``'s, which is the
frame pandas builds from those rows with ``dtype=object`` (what the reader returned before it
held columns).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mmcli.io.tables import Table, iter_table_chunks, read_table

COLUMNS = ["id", "text", "size", "flag"]
ROWS = [
    ["007", "a red cat", "1.50", "true"],
    ["8", None, "NA", None],
    ["9", "say \"hi\", twice", None, "false"],
    ["1e3", "  ", "2", "true"],
]


def _write(path: Path) -> None:
    kind = path.suffix.lstrip(".")
    if kind in ("csv", "tsv"):
        frame = pd.DataFrame(ROWS, columns=COLUMNS).fillna("")
        frame.to_csv(path, sep="\t" if kind == "tsv" else ",", index=False)
    elif kind == "jsonl":
        with open(path, "w", encoding="utf-8") as handle:
            for row in ROWS:
                record = dict(zip(COLUMNS, row, strict=True))
                record["flag"] = {"true": True, "false": False, None: None}[row[3]]
                handle.write(json.dumps(record) + "\n")
    else:
        arrays = [pa.array([r[i] for r in ROWS], pa.string()) for i in range(3)]
        arrays.append(pa.array([{"true": True, "false": False, None: None}[r[3]] for r in ROWS]))
        table = pa.table(arrays, names=COLUMNS)
        if path.name.endswith("_idx.parquet"):  # as DataFrame.to_parquet() stores its index
            table = pa.Table.from_pandas(pd.DataFrame(table.to_pydict(), index=[5, 6, 7, 8]))
        pq.write_table(table, path, row_group_size=3)


def _expected() -> list[list[str | None]]:
    """The cells every format gives: strings as written, booleans ``true``/``false``; CSV/TSV
    read an empty field (here also a missing one) as None."""
    return [list(row) for row in ROWS]


@pytest.mark.parametrize("name", ["t.csv", "t.tsv", "t.jsonl", "t.parquet", "t_idx.parquet"])
def test_columns_hold_the_cells_of_the_lazily_built_frame(tmp_path, name):
    path = tmp_path / name
    _write(path)
    table = read_table(path)
    assert table.columns == tuple(COLUMNS) and len(table) == len(ROWS)
    assert [table.column(c) for c in COLUMNS] == [list(col) for col in zip(*_expected(),
                                                                           strict=True)]
    assert "frame" not in vars(table)  # nothing built until asked for
    frame = table.frame
    assert frame is table.frame  # built once
    assert list(frame.columns) == list(table.columns)
    assert isinstance(frame.index, pd.RangeIndex) and list(frame.index) == [0, 1, 2, 3]
    assert all(dtype.kind == "O" for dtype in frame.dtypes)
    for column in COLUMNS:
        assert frame[column].tolist() == table.column(column)
    pd.testing.assert_frame_equal(
        frame, pd.DataFrame(_expected(), columns=COLUMNS, dtype=object))
    chunks = list(iter_table_chunks(path, chunk_rows=3))
    assert [len(c.table) for c in chunks] == [3, 1]
    assert [c.table.column("id") for c in chunks] == [["007", "8", "9"], ["1e3"]]
    pd.testing.assert_frame_equal(chunks[1].table.frame,
                                  pd.DataFrame([_expected()[3]], columns=COLUMNS, dtype=object))


def test_a_table_of_empty_objects_has_rows_but_no_column(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text("{}\n{}\n", encoding="utf-8")
    table = read_table(path)
    assert (table.columns, len(table)) == ((), 2)
    assert table.frame.shape == (2, 0)


def test_added_columns_replace_in_place_or_append():
    table = Table.from_columns({"a": ["1", "2"], "b": [None, "x"]}, name="t.csv")
    wider = table.with_columns({"b": ["y", "z"], "c": [None, None]})
    assert wider.columns == ("a", "b", "c") and wider.column("b") == ["y", "z"]
    assert table.column("b") == [None, "x"] and "c" not in table and "c" in wider
    assert (wider.name, len(wider)) == ("t.csv", 2)
    with pytest.raises(ValueError, match="different lengths"):
        Table.from_columns({"a": ["1"], "b": []})
