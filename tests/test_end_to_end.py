"""preprocess -> train -> evaluate -> predict on sample_data, as a user runs them."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf

# Measured on sample_data at 32 px, 25 epochs, seed 0: fused 0.975, image only 0.56,
# text only 0.57 on the 120 test rows. By construction one modality alone can reach ~0.5.
FUSED_FLOOR = 0.9


def test_train_writes_a_bundle_and_reports_on_stdout(trained):
    bundle, summary = trained["bundle"], trained["summary"]
    assert {p.name for p in bundle.iterdir()} == {
        "model.keras", "bundle.json", "history.csv", "curves.png"
    }
    meta = json.loads((bundle / "bundle.json").read_text())
    assert meta["labels"] == ["blue_happy", "blue_sad", "red_happy", "red_sad"]
    assert meta["config"]["prep"]["image_size"] == 32
    assert meta["config"]["train"]["seed"] == 0
    assert set(meta["files"]) == {"model.keras", "history.csv", "curves.png"}
    assert meta["data"]["train_rows"] + meta["data"]["val_rows"] == 360  # no test row
    assert summary["validation"]["accuracy"] >= FUSED_FLOOR
    assert {"tensorflow", "keras", "numpy"} <= set(meta["versions"])


def test_fused_model_beats_each_single_modality(runner, app, trained):
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(SAMPLE)])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["split"] == "test" and metrics["n"] == 120
    assert metrics["accuracy"] >= FUSED_FLOOR
    assert metrics["macro_f1"] >= FUSED_FLOOR - 0.02
    for alone in ("image_only", "text_only"):
        assert metrics["modalities"][alone] <= metrics["accuracy"] - 0.2
    assert sum(c["support"] for c in metrics["per_class"].values()) == 120
    assert np.trace(metrics["confusion_matrix"]["matrix"]) == round(metrics["accuracy"] * 120)
    assert set(metrics["fusion_weights"]) == {"image", "text"}
    assert "macro F1" in result.stderr


def test_predict_writes_one_record_per_row_in_order(runner, app, trained):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE)])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    with open(SAMPLE, newline="") as handle:
        ids = [row["id"] for row in csv.DictReader(handle)]
    assert [r["id"] for r in records] == ids
    first = records[0]
    assert set(first["probabilities"]) == {"blue_happy", "blue_sad", "red_happy", "red_sad"}
    assert abs(sum(first["probabilities"].values()) - 1) < 1e-4
    assert first["probability"] == max(first["probabilities"].values())
    assert first["label"] == first["top_k"][0]["label"] and len(first["top_k"]) == 3
    assert first["image_present"] is False  # ex0001's image file is missing: masked, not dropped
    with open(SAMPLE, newline="") as handle:
        truth = {
            row["id"]: row["label"] for row in csv.DictReader(handle) if row["split"] == "test"
        }
    hits = [r["label"] == truth[r["id"]] for r in records if r["id"] in truth]
    assert np.mean(hits) >= FUSED_FLOOR


def test_predict_from_stdin_to_csv_and_json(runner, app, trained):
    rows = SAMPLE.read_text().splitlines()
    head = "\n".join(rows[:6]).replace("images/", str(SAMPLE.parent / "images") + "/") + "\n"
    as_csv = runner.invoke(
        app,
        ["predict", str(trained["bundle"]), "-", "--format", "csv", "--image-col", "image"],
        input=head,
    )
    assert as_csv.exit_code == 0, as_csv.stderr
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["id"] for r in parsed] == ["ex0001", "ex0002", "ex0003", "ex0004", "ex0005"]
    assert json.loads(parsed[3]["probabilities"])[parsed[3]["label"]] > 0
    as_json = runner.invoke(
        app, ["predict", str(trained["bundle"]), str(SAMPLE), "-f", "json", "--top-k", "1"]
    )
    records = json.loads(as_json.stdout)
    assert len(records) == 480 and all(len(r["top_k"]) == 1 for r in records)


def test_predict_out_file_is_written_whole_and_not_overwritten(runner, app, trained, tmp_path):
    out = tmp_path / "pred.jsonl"
    args = ["predict", str(trained["bundle"]), str(SAMPLE), "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert len(out.read_text().splitlines()) == 480
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "--force" in again.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_evaluate_on_prepared_folder_matches_raw_table(runner, app, trained, tmp_path):
    prepared = tmp_path / "prepared"
    runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(prepared), "--image-size", "32"])
    raw = json.loads(runner.invoke(app, ["evaluate", str(trained["bundle"]), str(SAMPLE)]).stdout)
    done = json.loads(
        runner.invoke(app, ["evaluate", str(trained["bundle"]), str(prepared)]).stdout
    )
    assert done["accuracy"] == raw["accuracy"]
    assert done["confusion_matrix"] == raw["confusion_matrix"]


def test_evaluate_rejects_unknown_labels(runner, app, trained, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,a happy day,green_happy\n")
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(table)])
    assert result.exit_code == 3
    assert "unknown label 'green_happy'" in result.stderr


def test_tampered_bundle_is_refused(runner, app, trained, tmp_path):
    import shutil

    copy = tmp_path / "bundle"
    shutil.copytree(trained["bundle"], copy)
    with open(copy / "model.keras", "r+b") as handle:
        handle.truncate(1000)
    result = runner.invoke(app, ["predict", str(copy), str(SAMPLE)])
    assert result.exit_code == 4
    assert "SHA-256" in result.stderr
