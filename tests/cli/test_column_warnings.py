"""Columns a user meant but the model barely gets, each said: a tabular column empty in most
rows is a loud warning (stderr and JSON), a lone value in one row is not a category (listed in
roles.unused instead), an --ignore-col the table lacks is a warning (a typo ignores nothing)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


def sparse_table(folder: Path, rows: int = 20) -> Path:
    """Text + numbers: ``size`` full, ``weight`` in 2 rows, ``note`` in 1 row."""
    path = folder / "sparse.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "size", "weight", "note", "label"])
        for i in range(rows):
            writer.writerow([f"{i:03d}", "a happy day" if i % 2 else "a sad day", f"{i}.5",
                             "3.5" if i in (4, 9) else "", "fragile" if i == 7 else "",
                             "pos" if i % 2 else "neg"])
    return path


@pytest.mark.parametrize("command", ["check", "preprocess"])
def test_a_column_empty_in_most_rows_is_a_warning(runner, app, tmp_path, command):
    table = sparse_table(tmp_path)
    argv = [command, str(table)] + (["--out", str(tmp_path / "prep")] if command == "preprocess"
                                    else [])
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    sparse = [w for w in summary["warnings"] if w.get("kind") == "column_mostly_empty"]
    assert [(w["column"], w["rows"], w["of"], w["every_row"]) for w in sparse] == [
        ("weight", 18, 20, False)]
    assert ("mmcli: warning: tabular column 'weight' is empty in 18 of 20 rows (90%)"
            in result.stderr)
    # a single 'fragile' does not repeat: not a category, said with why
    assert summary["roles"]["numeric"] == ["size", "weight"]
    assert summary["roles"]["categorical"] == []
    assert "note" in summary["roles"]["unused"]
    assert "column 'note' not used" in result.stderr


def test_a_lightly_sparse_column_is_no_warning(runner, app, tmp_path):
    table = sparse_table(tmp_path)
    result = runner.invoke(app, ["check", str(table), "--max-missing-fraction", "0.95"])
    assert result.exit_code == 0, result.stderr
    assert not [w for w in json.loads(result.stdout)["warnings"]
                if w.get("kind") == "column_mostly_empty"]
    assert "warning" not in result.stderr


@pytest.mark.parametrize("command", ["check", "preprocess"])
def test_an_ignore_col_the_table_lacks_is_a_warning(runner, app, tmp_path, command):
    table = sparse_table(tmp_path)
    argv = [command, str(table), "--ignore-col", "wieght", "--ignore-col", "note"] + (
        ["--out", str(tmp_path / "prep")] if command == "preprocess" else [])
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    absent = [w for w in summary["warnings"] if w.get("kind") == "ignore_col_absent"]
    assert [w["column"] for w in absent] == ["wieght"]
    assert "mmcli: warning: --ignore-col 'wieght': the table has no such column" in result.stderr
    assert "weight" in summary["roles"]["numeric"]  # the column meant is still used


@pytest.mark.tf
def test_train_says_which_columns_it_left_out(runner, app, tmp_path):
    table = sparse_table(tmp_path)
    result = runner.invoke(app, ["train", str(table), "--out", str(tmp_path / "bundle"),
                                 "--ignore-col", "weight", "--epochs", "1", "--seed", "0",
                                 "--no-engine-export"])
    assert result.exit_code == 0, result.stderr
    assert "note" in json.loads(result.stdout)["roles"]["unused"]
    assert "column 'note' not used: 1 distinct values" in result.stderr
