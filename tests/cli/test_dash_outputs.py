"""``-`` as an output: stdout for predict's records, refused (exit 2) where stdout carries the
command's own JSON; never a file named ``-`` in the working folder."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE


@pytest.mark.tf
@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_predict_out_dash_writes_the_records_to_stdout(trained, runner, app, tmp_path,
                                                        monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    table = tmp_path / "few.csv"
    table.write_text("id,text\n007,a sad red boat\n1e3,a joyful blue star\n", encoding="utf-8")
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table), "--format", fmt,
                                 "--out", "-", "--quiet"])
    assert result.exit_code == 0, result.stderr
    if fmt == "jsonl":
        ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    elif fmt == "json":
        ids = [record["id"] for record in json.loads(result.stdout)]
    else:
        ids = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    assert ids == ["007", "1e3"]
    assert not (tmp_path / "-").exists()


@pytest.mark.tf
def test_predict_parquet_to_dash_and_rejects_to_dash_are_usage_errors(trained, runner, app,
                                                                     tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for flags in (["--format", "parquet", "--out", "-"], ["--rejects", "-"]):
        result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE), *flags])
        assert result.exit_code == 2, result.stderr
        assert result.stderr.startswith("mmcli: error: ") and len(result.stderr.splitlines()) == 1
        assert result.stdout == ""
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("argv", [
    ["preprocess", str(SAMPLE), "--out", "-"],
    ["train", str(SAMPLE), "--out", "-", "--epochs", "1"],
    ["evaluate", "model", str(SAMPLE), "--rejects", "-"],
    ["evaluate", "model", str(SAMPLE), "--report", "-"],
    ["explain", "model", str(SAMPLE), "--out", "-"],
    ["export", "model", "--format", "onnx", "--out", "-"],
    ["tune", str(SAMPLE), "--out", "-"],
])
def test_dash_where_stdout_carries_json_is_refused_before_any_work(runner, app, tmp_path,
                                                                   monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.stderr
    assert "'-' (stdout) is not accepted here" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and result.stdout == ""
    assert not (tmp_path / "-").exists()
