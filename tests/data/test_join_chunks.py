"""``ChunkJoin`` (predict's ``--join``): joining a table chunk by chunk gives the rows and the
counts that joining it whole gives (preprocess's join)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mmcli.data.join import ChunkJoin, join_tables
from mmcli.io.tables import Table


def _table(name: str, **columns) -> Table:
    return Table.from_columns(columns, Path("."), name)


def test_chunks_join_like_the_whole_table():
    main = _table("data.csv", id=["a", "b", None, "zz", "c", "d", "a"], text=list("1234567"))
    other = _table("side.csv", id=["d", "c", "b", "a", "unused", None],
                   text=list("DCBAUN"), size=["4", "3", "2", "1", "9", "0"])
    whole, report = join_tables(main, other, None)
    joiner = ChunkJoin(other, None)
    parts, unmatched = [], []
    for start in range(0, 7, 3):
        chunk = _table("data.csv", **{c: main.column(c)[start:start + 3] for c in main.columns})
        joined, missing = joiner.apply(chunk)
        parts.append(joined.frame)
        unmatched += [start + i for i in missing]
    assert pd.concat(parts, ignore_index=True).equals(whole.frame)
    assert whole.columns == ("id", "text", "text_join", "size")
    assert whole.column("text_join") == ["A", "B", None, None, "C", "D", "A"]
    assert whole.column("size") == ["1", "2", None, None, "3", "4", "1"]
    assert tuple(unmatched) == report.not_in_join == (2, 3)
    assert joiner.report() == report.to_dict() == {
        "table": "side.csv", "on": "id", "matched": 4, "only_in_table": 2, "only_in_join": 2}
