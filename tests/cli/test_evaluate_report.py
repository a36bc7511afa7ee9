"""``mmcli evaluate``: the JSON schema, the modality analysis, --report and --errors."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf

LABELS = ["blue_happy", "blue_sad", "red_happy", "red_sad"]
PNG = b"\x89PNG\r\n\x1a\n"

# key -> type of every top-level key evaluate documents (docs/architecture.md)
SCHEMA = {
    "bundle": str,
    "data": str,
    "split": str,
    "n": int,
    "accuracy": float,
    "balanced_accuracy": float,
    "macro_f1": float,
    "weighted_f1": float,
    "log_loss": float,
    "majority_accuracy": float,
    "per_class": dict,
    "confusion_matrix": dict,
    "top_k_accuracy": dict,
    "roc_auc": dict,
    "ece": float,
    "calibration": list,
    "modalities": dict,
    "modality_contribution": dict,
    "fusion_gain": float,
    "fusion_helped": bool,
    "fusion_weights": dict,
    "by_missingness": dict,
    "modality_attribution": dict,  # with --report
    "data_issues": dict,
}


@pytest.fixture(scope="module")
def evaluated(runner, app, trained, tmp_path_factory):
    """One evaluation over all sample rows (the broken ones included) with both outputs."""
    work = tmp_path_factory.mktemp("evaluate")
    args = [
        "evaluate", str(trained["bundle"]), str(SAMPLE), "--split", "all",
        "--report", str(work / "report"), "--errors", str(work / "errors.jsonl"),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return {"metrics": json.loads(result.stdout), "stderr": result.stderr, "work": work,
            "args": args}


def test_json_has_the_documented_keys_and_types(evaluated):
    m = evaluated["metrics"]
    assert set(m) == set(SCHEMA)
    for key, kind in SCHEMA.items():
        assert isinstance(m[key], kind), key
    assert m["n"] == 480 and m["split"] == "all"
    assert m["data_issues"]["issues"] == {"masked:missing": 2, "masked:unreadable": 1}
    assert (m["data_issues"]["rows"], m["data_issues"]["rejected"]) == (480, 0)
    assert set(m["per_class"]) == set(LABELS)
    for scores in m["per_class"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
    assert m["confusion_matrix"]["labels"] == LABELS
    assert set(m["top_k_accuracy"]) == {"1", "3"}
    assert m["top_k_accuracy"]["1"] == pytest.approx(m["accuracy"])
    assert m["accuracy"] <= m["top_k_accuracy"]["3"] <= 1
    assert set(m["roc_auc"]) == {"macro", "weighted", "per_class"}
    assert 0.5 < m["roc_auc"]["macro"] <= 1
    assert len(m["calibration"]) == 10
    assert sum(b["count"] for b in m["calibration"]) == 480
    assert 0 <= m["ece"] <= 1
    assert m["majority_accuracy"] == pytest.approx(0.25)  # 120 rows per class


def test_ablation_shows_each_modality_contributes(evaluated):
    m = evaluated["metrics"]
    # By construction each modality alone tells only half the label (~0.5 accuracy).
    assert m["modalities"]["image_only"] < m["accuracy"] - 0.2
    assert m["modalities"]["text_only"] < m["accuracy"] - 0.2
    assert m["modality_contribution"]["image"] == pytest.approx(
        m["accuracy"] - m["modalities"]["text_only"]
    )
    assert m["modality_contribution"]["image"] > 0.2
    assert m["modality_contribution"]["text"] > 0.2
    assert m["fusion_gain"] > 0.2 and m["fusion_helped"] is True
    assert sum(m["fusion_weights"].values()) == pytest.approx(1, abs=1e-3)
    assert "image contributes" in evaluated["stderr"]


ABLATION = ("modalities", "modality_contribution", "fusion_gain", "fusion_helped",
            "fusion_weights")


def test_train_and_evaluate_report_the_ablation_under_the_same_keys(evaluated, trained):
    validation = trained["summary"]["validation"]
    assert set(ABLATION) <= set(validation) and set(ABLATION) <= set(evaluated["metrics"])
    assert set(validation["modalities"]) == set(evaluated["metrics"]["modalities"])
    assert validation["fusion_gain"] == pytest.approx(
        validation["accuracy"] - max(validation["modalities"].values()))
    assert validation["modality_contribution"]["text"] == pytest.approx(
        validation["accuracy"] - validation["modalities"]["image_only"])
    assert validation["fusion_helped"] == (validation["fusion_gain"] > 0)


def test_metrics_by_missingness_count_the_masked_rows(evaluated):
    # sample_data: ex0001 has no image file, ex0002 a corrupt image, ex0003 no text.
    groups = evaluated["metrics"]["by_missingness"]
    assert {k: v["n"] for k, v in groups.items()} == {"both": 477, "text_only": 2,
                                                       "image_only": 1}


def test_errors_file_lists_exactly_the_misclassified_rows(evaluated):
    m = evaluated["metrics"]
    lines = (evaluated["work"] / "errors.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == round(m["n"] * (1 - m["accuracy"]))
    for record in records:
        assert record["label"] != record["predicted"]
        assert record["top_k"][0]["label"] == record["predicted"]
        assert record["probability"] >= record["true_probability"]
        assert record["id"].startswith("ex")


def test_report_folder_has_plots_and_a_page_embedding_them(evaluated):
    folder = evaluated["work"] / "report"
    page = (folder / "report.md").read_text()
    for name in ("confusion_matrix.png", "reliability.png", "per_class_f1.png"):
        assert (folder / name).read_bytes()[:8] == PNG
        assert f"]({name})" in page
    assert json.loads((folder / "metrics.json").read_text()) == evaluated["metrics"]
    assert f"| accuracy | {evaluated['metrics']['accuracy']:.3f} |" in page


def test_existing_report_is_not_overwritten_without_force(runner, app, evaluated):
    before = (evaluated["work"] / "report" / "report.md").read_text()
    result = runner.invoke(app, evaluated["args"])
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert (evaluated["work"] / "report" / "report.md").read_text() == before


def test_errors_file_needs_a_known_extension(runner, app, trained, tmp_path):
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(SAMPLE),
                                 "--errors", str(tmp_path / "errors.txt")])
    assert result.exit_code == 2
    assert not (tmp_path / "errors.txt").exists()


def test_report_adds_the_mean_modality_attribution_per_class(evaluated):
    """Every sample_data class is a colour and a mood: both modalities drive every class."""
    table = evaluated["metrics"]["modality_attribution"]
    assert sorted(table) == LABELS
    for row in table.values():
        assert set(row) == {"image", "text"}
        assert row["image"] > 0.02 and row["text"] > 0.02
    page = (evaluated["work"] / "report" / "report.md").read_text()
    assert "## Modality attribution per class" in page
    assert f"| red_sad | {table['red_sad']['image']:.3f} | {table['red_sad']['text']:.3f} |" \
        in page
