"""Honest reports through the CLI (the dollar_labels case's kind): labels drawn literally,
the validation rows training used are what `evaluate --split val` scores, CSV booleans."""

from __future__ import annotations

import csv
import io
import json

import pytest
from PIL import Image

pytestmark = pytest.mark.tf
LABELS = ("$", "$$", "$$$")


@pytest.fixture(scope="module")
def dollars(tmp_path_factory, runner, app) -> dict:
    folder = tmp_path_factory.mktemp("dollars")
    (folder / "images").mkdir()
    lines = ["id,image,text,label"]
    for i in range(24):
        Image.new("RGB", (16, 16), (80 * (i % 3), 0, 0)).save(folder / "images" / f"r{i}.png")
        lines.append(f"r{i},images/r{i}.png,word{i % 3} thing,{LABELS[i % 3]}")
    table = folder / "train.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bundle = folder / "m"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "1",
                                 "--image-size", "32", "-q"])
    assert result.exit_code == 0, result.stderr
    meta = json.loads(result.stdout)
    assert meta["warnings"] == meta["data"]["warnings"] == []  # every modality in every row
    return {"table": table, "bundle": bundle, "meta": meta}


def test_dollar_labels_evaluate_with_a_report(dollars, runner, app, tmp_path):
    report = tmp_path / "rep"
    result = runner.invoke(app, ["evaluate", str(dollars["bundle"]), str(dollars["table"]),
                                 "--report", str(report), "-q"])
    assert result.exit_code == 0, result.stderr
    page = (report / "report.md").read_text(encoding="utf-8")
    assert all(f"| {label} | " in page for label in LABELS)
    for name in ("confusion_matrix.png", "per_class_f1.png", "reliability.png"):
        assert (report / name).read_bytes()[:4] == b"\x89PNG"


def test_split_val_scores_the_validation_rows_training_used(dollars, runner, app, tmp_path):
    bundle, table = str(dollars["bundle"]), dollars["table"]
    ids = json.loads((dollars["bundle"] / "bundle.json").read_text())["validation_ids"]
    data = dollars["meta"]["data"]
    assert len(ids) == data["val_rows"] > 0
    val = runner.invoke(app, ["evaluate", bundle, str(table), "--split", "val", "-q"])
    train = runner.invoke(app, ["evaluate", bundle, str(table), "--split", "train", "-q"])
    assert json.loads(val.stdout)["n"] == data["val_rows"]
    assert json.loads(train.stdout)["n"] == data["train_rows"]

    lines = table.read_text().splitlines()
    other = table.parent / "other.csv"
    other.write_text("\n".join([lines[0], *(x for x in lines[1:] if x.split(",")[0] not in ids)])
                     + "\n", encoding="utf-8")
    missing = runner.invoke(app, ["evaluate", bundle, str(other), "--split", "val"])
    assert missing.exit_code == 3
    assert "none of the" in missing.stderr and "validation rows" in missing.stderr


def test_csv_predictions_write_booleans_as_true_false(dollars, runner, app):
    result = runner.invoke(app, ["predict", str(dollars["bundle"]), str(dollars["table"]),
                                 "--format", "csv", "-q"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 24
    assert {(r["image_present"], r["text_present"]) for r in rows} == {("true", "true")}
