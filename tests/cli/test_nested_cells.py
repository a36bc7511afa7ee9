"""A JSON list or object in a JSONL or Parquet cell (here the label) is read as JSON text,
as written (``["x"]``, not Python's ``['x']``); it crashed check with an internal error
(``unhashable type: 'list'``) when the labels' spellings were compared."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_list_label_is_a_class_spelt_as_json(tmp_path, runner, app, fmt):
    records = [{"id": "1", "text": "a b", "label": ["x", "é"]},
               {"id": "2", "text": "c d", "label": "y"},
               {"id": "3", "text": "e f", "label": ["x", "é"]},
               {"id": "4", "text": "g h", "label": "y"}]
    table = tmp_path / f"t.{fmt}"
    if fmt == "jsonl":
        table.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        labels = pa.array([r["label"] if isinstance(r["label"], list) else [r["label"]]
                           for r in records])
        pq.write_table(pa.table({"id": [r["id"] for r in records],
                                 "text": [r["text"] for r in records], "label": labels}), table)
    result = runner.invoke(app, ["check", str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    counts = json.loads(result.stdout)["class_counts"]
    if fmt == "jsonl":
        assert counts == {'["x", "é"]': 2, "y": 2}
    else:  # a list column: every cell a list
        assert counts == {'["x", "é"]': 2, '["y"]': 2}
