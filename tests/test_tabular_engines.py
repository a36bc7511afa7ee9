"""Every tabular edge case (blank, ``n/a``, ``inf``, ``1,000``, ``1e39``, ``1e400``, an
unseen or missing category, empty text) through every way of predicting a bundle: predict on
the tf, LiteRT and ONNX engines, the raw-input SavedModel, and serve. Each gives predict's tf
probabilities, and each row's problems are reported by row, column and reason."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.serve.server import with_issues

pytestmark = pytest.mark.tf

COLUMNS = ["id", "text", "price", "colour", "label"]
EDGE = [  # id, text, price, colour: one edge case or two a row
    ("e1", "alpha beta", "", "red"),
    ("e2", "alpha", "n/a", "blue"),
    ("e3", "gamma", "1e39", "green"),
    ("e4", "beta", "1e400", "red"),
    ("e5", "delta", "inf", "red"),
    ("e6", "omega", "1,000", "blue"),
    ("e7", "alpha", "4.5", "purple"),
    ("e8", "beta", "7.5", ""),
    ("e9", "", "6.1", "red"),
    ("e10", "", "", ""),
    ("e11", "gamma", "-1e39", "NA"),
    ("e12", "beta", " 3 ", " red "),
    ("e13", "", "1e39", "mauve"),
    ("e14", "delta", "3.4028235e38", "blue"),
    ("e15", "alpha", "nan", "green"),
]
OUT_OF_RANGE = {"e3", "e4", "e11", "e13", "e14"}
NOT_A_NUMBER = {"e2", "e5", "e6", "e15"}
UNSEEN = {"e7", "e11", "e13"}  # purple, NA, mauve


def _write(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def tab(tmp_path_factory) -> dict:
    """A tiny text + tabular bundle (price numeric, colour categorical) with both numeric
    exports, LiteRT (train's) and ONNX, and the edge-case table."""
    from typer.testing import CliRunner

    from mmcli.cli.app import app

    runner, folder = CliRunner(), tmp_path_factory.mktemp("tab")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        price, colour = rng.uniform(0, 10), ("red", "blue", "green")[rng.integers(3)]
        label = "hi" if (price > 5) != (colour == "red") else "lo"
        cell = f"{price:.3f}" if i % 13 else ("n/a" if i % 2 else "")
        rows.append([f"r{i}", " ".join(rng.choice(["alpha", "beta", "gamma", "delta"], 3)),
                     cell, colour if i % 17 else "", label])
    table = _write(folder / "train.csv", rows)
    bundle = folder / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "3",
                                 "--seed", "0", "--no-cache", "--engine-export", "--quiet"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["export", str(bundle), "--format", "onnx", "--quiet"])
    assert result.exit_code == 0, result.stderr
    edge = _write(folder / "edge.csv", [[*row, "lo" if k % 2 else "hi"]
                                        for k, row in enumerate(EDGE)])
    return {"bundle": bundle, "edge": edge, "runner": runner, "app": app, "folder": folder}


def _predict(tab, engine: str, table: Path | None = None, *extra: str):
    rejects = tab["folder"] / f"rejects-{engine}.csv"
    result = tab["runner"].invoke(tab["app"], [
        "predict", str(tab["bundle"]), str(table or tab["edge"]), "--engine", engine,
        "--rejects", str(rejects), "--force", *extra])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    with open(rejects, newline="", encoding="utf-8") as handle:
        return records, list(csv.DictReader(handle)), result.stderr


def _same(got: list[dict], want: list[dict], tolerance: float) -> None:
    assert [r["id"] for r in got] == [r["id"] for r in want]
    for a, b in zip(got, want, strict=True):
        assert (a["error"], a["label"], a["tabular_present"], a["text_present"]) == (
            b["error"], b["label"], b["tabular_present"], b["text_present"]), a["id"]
        for label, p in (b["probabilities"] or {}).items():
            assert math.isfinite(a["probabilities"][label]), a["id"]
            assert abs(a["probabilities"][label] - p) <= tolerance, (a["id"], label)


def test_lite_and_onnx_equal_tf_on_every_tabular_edge_case(tab):
    want, lines, stderr = _predict(tab, "tf")
    assert [r["id"] for r in want if r["error"]] == ["e10"]  # no text, no tabular cell
    by_reason = {reason: {x["id"] for x in lines if x["reason"] == reason}
                 for reason in ("out_of_range", "not_a_number", "unseen_category")}
    assert by_reason == {"out_of_range": OUT_OF_RANGE, "not_a_number": NOT_A_NUMBER,
                         "unseen_category": UNSEEN}
    assert {(x["column"], x["action"]) for x in lines if x["reason"] == "unseen_category"} == {
        ("colour", "noted")}
    assert "5  imputed:out_of_range" in stderr and "3  noted:unseen_category" in stderr
    for engine in ("lite", "onnx"):
        got, got_lines, _ = _predict(tab, engine)
        _same(got, want, 1e-5)
        assert got_lines == lines
    # another input format read in chunks: the same records and lines
    jsonl = tab["folder"] / "edge.jsonl"
    jsonl.write_text("".join(json.dumps(dict(zip(COLUMNS, [*row, "hi"], strict=True))) + "\n"
                             for row in EDGE))
    got, got_lines, _ = _predict(tab, "onnx", jsonl, "--chunk-rows", "4")
    _same(got, want, 1e-5)
    assert got_lines == lines


def test_the_savedmodel_imputes_numbers_beyond_float32_as_predict_does(tab):
    """The SavedModel takes raw cells: ``1e39``, ``1e400``, ``3.4028235e38`` must be imputed
    as missing (the missing flag set) inside the graph, as predict's row path imputes them;
    before, they reached the model as infinity or as float32's largest number."""
    import tensorflow as tf

    out = tab["folder"] / "served"
    result = tab["runner"].invoke(tab["app"], ["export", str(tab["bundle"]), "--format",
                                               "savedmodel", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.stderr
    want = {r["id"]: r for r in _predict(tab, "tf")[0]}
    serve = tf.saved_model.load(str(out)).signatures["serving_default"]
    usable = [row for row in EDGE if want[row[0]]["error"] is None]
    got = serve(text=tf.constant([row[1] for row in usable]),
                tabular=tf.constant([[row[2], row[3]] for row in usable]))
    labels = json.loads((tab["bundle"] / "bundle.json").read_text())["labels"]
    for row, p in zip(usable, got["probabilities"].numpy().tolist(), strict=True):
        expected = want[row[0]]["probabilities"]
        assert all(abs(p[j] - expected[label]) <= 1e-5 for j, label in enumerate(labels)), (
            row, p, expected)


def test_serve_records_carry_each_rows_issues_and_health_counts_them(tab):
    import httpx

    from tests.serve.server import running

    records, _, _ = _predict(tab, "lite")
    expected = with_issues(records, tab["folder"] / "rejects-lite.csv")
    rows = [dict(zip(COLUMNS[:4], row, strict=True)) for row in EDGE]
    with running(tab["bundle"], "--engine", "lite") as server:
        answer = httpx.post(server.url + "/predict", json={"rows": rows}, timeout=300)
        health = httpx.get(server.url + "/health", timeout=60).json()
    assert answer.status_code == 200, answer.text
    got = answer.json()["records"]
    assert got == expected
    e13 = next(r for r in got if r["id"] == "e13")
    assert sorted((i["column"], i["reason"], i["action"]) for i in e13["issues"]) == [
        ("colour", "unseen_category", "noted"), ("price", "out_of_range", "imputed"),
        ("text", "missing", "masked")]
    assert health["rows"] == len(EDGE)
    assert health["issues"] == dict(sorted(Counter(
        f"{i['action']}:{i['reason']}" for r in expected for i in r["issues"]).items()))


def test_explain_records_name_each_rows_issues_as_predict_reports_them(tab):
    records, _, _ = _predict(tab, "tf")
    expected = {r["id"]: r["issues"]
                for r in with_issues(records, tab["folder"] / "rejects-tf.csv")}
    out = tab["folder"] / "explained"
    result = tab["runner"].invoke(tab["app"], ["explain", str(tab["bundle"]), str(tab["edge"]),
                                               "--out", str(out), "--rows", "20", "--quiet",
                                               "--force"])
    assert result.exit_code == 0, result.stderr
    explained = [json.loads(line) for line in (out / "explanations.jsonl").open()]
    assert [r["id"] for r in explained] == [r["id"] for r in records if r["error"] is None]
    for record in explained:
        assert record["issues"] == expected[record["id"]], record["id"]
    assert any(i["reason"] == "unseen_category" for r in explained for i in r["issues"])


def test_evaluate_rejects_name_the_rows_whose_categories_were_unseen(tab):
    rejects = tab["folder"] / "evaluate-rejects.csv"
    result = tab["runner"].invoke(tab["app"], ["evaluate", str(tab["bundle"]), str(tab["edge"]),
                                               "--rejects", str(rejects)])
    assert result.exit_code == 0, result.stderr
    assert "nan" not in result.stderr and "top-3" not in result.stderr  # 2 labels: no top-3
    metrics = json.loads(result.stdout)
    assert "3" not in metrics["top_k_accuracy"]
    with open(rejects, newline="", encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    unseen = [(x["id"], x["column"], x["action"]) for x in lines
              if x["reason"] == "unseen_category"]
    assert unseen == [(i, "colour", "noted") for i in sorted(UNSEEN, key=lambda i: int(i[1:]))]
    assert metrics["unseen_categories"] == {"colour": len(unseen)}
    assert {x["id"] for x in lines if x["reason"] == "out_of_range"} == OUT_OF_RANGE
