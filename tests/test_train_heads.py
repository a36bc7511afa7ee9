"""Heads and losses through the CLI: class weights, label smoothing, multi-label end to end,
the run manifest, curves.png, the progress lines and --deterministic."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.tf

LABELS = ["blue_happy", "blue_sad", "red_happy", "red_sad"]
QUICK = ["--image-size", "16", "--epochs", "3", "--seed", "0"]
# 4 epochs since small_cnn lost its flip and gained a layer norm (issue 16/13 accuracy work):
# at 3 epochs, seed 0, neither run predicted red_sad any more (both recalls 0.0)
WEIGHTED = ["--image-size", "16", "--epochs", "4", "--seed", "0"]
# Measured at 32 px, 25 epochs, seed 0: micro-F1 1.0 on the 120 test rows (each modality
# alone about 0.75-0.8, since one of the two labels of a row is always out of its reach).
MULTI_LABEL_FLOOR = 0.85


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def with_images(rows: list[dict]) -> list[dict]:
    return [{**r, "image": str(SAMPLE.parent / r["image"])} for r in rows]


@pytest.fixture(scope="module")
def imbalanced(tmp_path_factory) -> Path:
    """sample_data's training rows with red_sad cut to 12, 8 'val' rows per class, and
    sample_data's 'test' rows untouched (30 per class), held out for scoring."""
    rows, kept, seen = read_rows(SAMPLE), [], {}
    for row in rows:
        if row["split"] == "test":
            kept.append(row)
        if row["split"] != "train":
            continue
        n = seen[row["label"]] = seen.get(row["label"], 0) + 1
        if row["label"] == "red_sad" and n > 20:
            continue
        kept.append({**row, "split": "val" if n <= 8 else "train"})
    return write_rows(tmp_path_factory.mktemp("imbalanced") / "data.csv", with_images(kept))


@pytest.fixture(scope="module")
def weighted_runs(tmp_path_factory, runner, app, imbalanced) -> dict:
    """Three runs that differ in one head option each: none, class weights, smoothing."""
    work, runs = tmp_path_factory.mktemp("weighted"), {}
    for name, extra in {
        "plain": ["--quiet"],
        "weighted": ["--class-weight", "balanced"],
        "smoothed": ["--label-smoothing", "0.1", "--quiet"],
    }.items():
        out = work / name
        result = runner.invoke(app, ["train", str(imbalanced), "--out", str(out),
                                     "--allow-outside-root", *WEIGHTED, *extra])
        assert result.exit_code == 0, result.stderr
        runs[name] = {"out": out, "stderr": result.stderr,
                      "meta": json.loads((out / "bundle.json").read_text())}
    return runs


def test_balanced_class_weights_are_recorded_and_raise_minority_recall(
        runner, app, weighted_runs, imbalanced):
    counts = {}
    for row in read_rows(imbalanced):
        if row["split"] == "train":
            counts[row["label"]] = counts.get(row["label"], 0) + 1
    assert counts["red_sad"] == 12 and counts["blue_sad"] == 82
    total = sum(counts.values())
    head = weighted_runs["weighted"]["meta"]["head"]
    assert head["class_weight"] == "balanced" and head["label_smoothing"] == 0.0
    assert head["class_weights"] == pytest.approx(
        {label: total / (4 * counts[label]) for label in LABELS}, rel=1e-5
    )
    assert head["class_weights"]["red_sad"] > 5 * head["class_weights"]["blue_sad"]
    plain = weighted_runs["plain"]["meta"]
    assert plain["head"]["class_weight"] == "none" and plain["head"]["class_weights"] is None
    # Scored on the 120 held-out test rows (30 red_sad). Measured at 16 px, 3 epochs (the
    # former small_cnn): the plain run never predicts red_sad (recall 0.0 with seeds 0, 1,
    # 2), the weighted one does (0.23, 0.13, 0.37); the configs differ in the class weights
    # alone. Now 4 epochs (WEIGHTED), seed 0: passes.
    recall = {}
    for name in ("plain", "weighted"):
        result = runner.invoke(app, ["evaluate", str(weighted_runs[name]["out"]),
                                     str(imbalanced), "--allow-outside-root"])
        assert result.exit_code == 0, result.stderr
        metrics = json.loads(result.stdout)
        assert metrics["per_class"]["red_sad"]["support"] == 30
        recall[name] = metrics["per_class"]["red_sad"]["recall"]
    assert recall["weighted"] >= recall["plain"] + 0.1, recall


def test_label_smoothing_is_recorded(weighted_runs):
    meta = weighted_runs["smoothed"]["meta"]
    assert meta["config"]["train"]["label_smoothing"] == 0.1
    assert meta["head"] == {**meta["head"], "label_smoothing": 0.1,
                            "loss": "categorical_crossentropy", "activation": "softmax"}
    assert weighted_runs["plain"]["meta"]["head"]["label_smoothing"] == 0.0


def test_manifest_records_seed_versions_data_hash_and_command(weighted_runs):
    plain, weighted, smoothed = (weighted_runs[k]["meta"]["manifest"]
                                 for k in ("plain", "weighted", "smoothed"))
    assert plain["seed"] == 0 and plain["deterministic"] is False
    assert len(plain["data_sha256"]) == 64 and plain["data_sha256"] == weighted["data_sha256"]
    assert {"tensorflow", "keras", "numpy", "python"} <= set(plain["versions"])
    assert plain["command"].startswith("mmcli train ")
    assert "--class-weight balanced" in weighted["command"]
    assert "--label-smoothing 0.1" in smoothed["command"]
    assert "--allow-outside-root" in weighted["command"] and "--epochs 4" in weighted["command"]


def test_progress_lines_on_stderr_and_quiet(weighted_runs):
    lines = [ln for ln in weighted_runs["weighted"]["stderr"].splitlines()
             if ln.startswith("epoch ")]
    assert [ln.split()[1] for ln in lines] == ["1/4", "2/4", "3/4", "4/4"]
    assert all("val_loss" in ln and "val_acc" in ln for ln in lines)
    # --quiet: no progress and no summary; warnings (one unwrapped line each) still show
    quiet = weighted_runs["plain"]["stderr"].splitlines()
    assert all(line.startswith("mmcli: warning: ") for line in quiet), quiet


def test_curves_png_is_a_valid_image_recorded_in_the_bundle(weighted_runs):
    out, meta = weighted_runs["weighted"]["out"], weighted_runs["weighted"]["meta"]
    path = out / "curves.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > image.height > 100
    assert "curves.png" in meta["files"]


def test_multi_label_bundle_has_labels_and_thresholds(multi):
    meta = json.loads((multi["bundle"] / "bundle.json").read_text())
    assert meta["labels"] == ["blue", "happy", "red", "sad"]
    assert meta["head"]["activation"] == "sigmoid"
    assert meta["head"]["loss"] == "binary_crossentropy"
    spec = meta["multi_label"]
    assert spec["delimiter"] == "|"
    assert set(spec["thresholds"]) == set(meta["labels"])
    assert all(0.0 < t < 1.0 for t in spec["thresholds"].values())
    assert multi["summary"]["validation"]["micro_f1"] >= MULTI_LABEL_FLOOR


def test_multi_label_predict_gives_label_lists(runner, app, multi):
    result = runner.invoke(app, ["predict", str(multi["bundle"]), str(multi["table"]),
                                 "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(multi["rows"])
    thresholds = json.loads((multi["bundle"] / "bundle.json").read_text())["multi_label"][
        "thresholds"]
    exact = []  # scored on the 120 held-out test rows only
    for record, row in zip(records, multi["rows"], strict=True):
        assert record["id"] == row["id"]
        assert set(record["probabilities"]) == set(thresholds)
        over = {k for k, p in record["probabilities"].items() if p >= thresholds[k]}
        assert set(record["labels"]) == over
        if row["split"] == "test":
            exact.append(sorted(record["labels"]) == sorted(row["label"].split("|")))
    assert len(exact) == 120 and sum(exact) / len(exact) >= MULTI_LABEL_FLOOR
    as_csv = runner.invoke(app, ["predict", str(multi["bundle"]), str(multi["table"]),
                                 "--format", "csv"])
    first = next(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert json.loads(first["labels"]) == records[0]["labels"]


def test_multi_label_evaluate_reports_f1s_and_subset_accuracy(runner, app, multi):
    result = runner.invoke(app, ["evaluate", str(multi["bundle"]), str(multi["table"])])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["task"] == "multi_label" and metrics["split"] == "test"
    assert metrics["n"] == 120
    assert metrics["micro_f1"] >= MULTI_LABEL_FLOOR
    assert metrics["macro_f1"] >= MULTI_LABEL_FLOOR - 0.05
    assert 0.0 <= metrics["subset_accuracy"] <= metrics["micro_f1"] + 1e-9
    assert set(metrics["per_label"]) == {"blue", "happy", "red", "sad"}
    assert all(s["support"] == 60 for s in metrics["per_label"].values())
    assert set(metrics["modalities"]) == {"image_only", "text_only"}
    assert max(metrics["modalities"].values()) < metrics["micro_f1"]
    assert "micro F1" in result.stderr


def test_multi_label_evaluate_errors_and_report(runner, app, multi, tmp_path):
    """--errors lists exactly the test rows whose predicted label set (as predict gives it)
    differs from the true set; --report writes the per-label page and plot."""
    other = {"red": "blue", "blue": "red", "happy": "sad", "sad": "happy"}
    rows, flipped = [dict(r) for r in multi["rows"]], set()
    for row in [r for r in rows if r["split"] == "test"][:6]:  # truths the model cannot match
        row["label"] = "|".join(other[part] for part in row["label"].split("|"))
        flipped.add(row["id"])
    table = write_rows(tmp_path / "data.csv", with_images(rows))
    predicted = runner.invoke(app, ["predict", str(multi["bundle"]), str(table)])
    labels_of = {r["id"]: r["labels"] for r in map(json.loads, predicted.stdout.splitlines())}
    truth = {r["id"]: sorted(r["label"].split("|")) for r in rows if r["split"] == "test"}
    wrong = {i for i, want in truth.items() if sorted(labels_of[i]) != want}
    assert flipped <= wrong
    result = runner.invoke(app, ["evaluate", str(multi["bundle"]), str(table),
                                 "--errors", str(tmp_path / "errors.jsonl"),
                                 "--report", str(tmp_path / "report")])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    records = [json.loads(line) for line in
               (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert {r["id"] for r in records} == wrong
    assert f"{len(wrong)} misclassified rows" in result.stderr
    assert round(metrics["subset_accuracy"] * metrics["n"]) == metrics["n"] - len(wrong)
    for record in records:
        assert sorted(record["labels"]) == truth[record["id"]]
        assert record["predicted"] == labels_of[record["id"]]
        assert set(record["probabilities"]) == {"blue", "happy", "red", "sad"}
    page = (tmp_path / "report" / "report.md").read_text()
    assert (tmp_path / "report" / "per_label_f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"| micro_f1 | {metrics['micro_f1']:.3f} |" in page
    assert all(f"| {label} |" in page for label in metrics["per_label"])
    assert json.loads((tmp_path / "report" / "metrics.json").read_text()) == metrics
    ablation = ("modalities", "modality_contribution", "fusion_gain", "fusion_helped",
                "fusion_weights")
    assert set(ablation) <= set(metrics) and set(ablation) <= set(multi["summary"]["validation"])


def test_multi_label_rejects_an_unknown_label_at_evaluate(runner, app, multi, tmp_path):
    rows = [dict(r) for r in multi["rows"]]
    test_rows = [r for r in rows if r["split"] == "test"]
    test_rows[-1]["label"] = "red|angry"
    table = write_rows(tmp_path / "data.csv", with_images(rows))
    result = runner.invoke(app, ["evaluate", str(multi["bundle"]), str(table)])
    assert result.exit_code == 3 and "unknown label 'angry'" in result.stderr


def test_deterministic_turns_on_op_determinism_and_is_recorded(tmp_path):
    """What --deterministic changes is TensorFlow's op determinism for the whole process (on
    this CPU, seeded runs repeat without it too, so comparing two runs would prove nothing):
    it stays off through a plain run, is on after a --deterministic run, and the manifest
    says which. Run apart, since it cannot be turned off again."""
    code = (
        "import json\n"
        "from tensorflow.python.framework import config\n"
        "from typer.testing import CliRunner\n"
        "from mmcli.cli.app import app\n"
        "state = []\n"
        "for name, extra in (('plain', []), ('det', ['--deterministic'])):\n"
        f"    r = CliRunner().invoke(app, ['train', {str(SAMPLE)!r}, '--out', "
        f"{str(tmp_path)!r} + '/' + name, '--quiet', '--image-size', '8', "
        "'--epochs', '1', *extra])\n"
        "    assert r.exit_code == 0, r.stderr\n"
        "    state.append(config.is_op_determinism_enabled())\n"
        "print(json.dumps(state))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [False, True]
    for name, expected in (("plain", False), ("det", True)):
        meta = json.loads((tmp_path / name / "bundle.json").read_text())
        assert meta["manifest"]["deterministic"] is expected
