"""predict's problem lines are true to the row: a JSON Lines line that does not parse is one
``malformed_row`` line (not also a blank id "kept" and empty cells "missing"), and a warning
about an input the table lacks names the flags that exist."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mmcli.cli.output import missing_input_line
from tests.conftest import SAMPLE


@pytest.mark.tf
def test_a_line_that_does_not_parse_is_one_problem(runner, app, trained, tmp_path):
    table = tmp_path / "rows.jsonl"
    image = str(SAMPLE.parent / "images" / "ex0010.jpg")
    table.write_text(
        json.dumps({"id": "007", "image": image, "text": "a sad red boat"}) + "\n"
        + '{"id": "b", "text": \n'
        + json.dumps({"id": "1e3", "image": image, "text": "a joyful blue star"}) + "\n",
        encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table),
                                 "--allow-outside-root", "--rejects", str(rejects)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["007", "", "1e3"]
    assert records[1]["label"] is None and records[1]["error"].startswith("line 2")
    lines = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"))))
    assert [(line["row"], line["reason"], line["action"]) for line in lines] == [
        ("2", "malformed_row", "rejected")]
    assert "1 problems in the rows read" in result.stderr
    assert "missing_id" not in result.stderr


def test_a_tabular_input_without_its_columns_names_the_tabular_flags():
    line = missing_input_line("tabular", "no_column", ["size", "brand"], 3)
    assert line == ("the model's input tabular: columns 'size', 'brand' are not in the table; "
                    "it is masked in every row (3 rows). Name the column with --numeric-col / "
                    "--category-col if it has another name")
    assert "Name the column with --audio-col" in missing_input_line("audio_2", "no_column",
                                                                     ["clip"], 3)
