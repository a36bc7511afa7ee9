"""Multi-label pieces without TensorFlow: splitting cells, multi-hot targets, thresholds, scores,
the rows evaluate --errors lists and the --report it writes."""

from __future__ import annotations

import numpy as np
import pytest

from mmcli.config import TrainConfig
from mmcli.errors import DataError
from mmcli.tasks import TASKS, task_for
from mmcli.tasks import multi_label as multilabel
from mmcli.tasks.multi_label import MultiLabel


def test_cells_split_on_the_delimiter_and_union_is_sorted():
    assert multilabel.split_labels(" red | happy|", "|") == ["red", "happy"]
    assert multilabel.split_labels(None, "|") == []
    assert multilabel.label_union(["red|happy", "blue", None, "sad;x"], "|") == [
        "blue", "happy", "red", "sad;x"
    ]


def test_multi_hot_and_unknown_label():
    matrix = multilabel.multi_hot(["b|a", "c", None], ["a", "b", "c"], "|")
    assert matrix.tolist() == [[1, 1, 0], [0, 0, 1], [0, 0, 0]]
    with pytest.raises(DataError, match="row 12: unknown label 'z'"):
        multilabel.multi_hot(["a", "z"], ["a", "b"], "|", rows=[11, 12])


def test_thresholds_maximise_f1_per_label():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(200, 2)).astype(np.float32)
    # Label 0: positives score 0.3-0.4, negatives 0-0.2, so 0.5 misses every positive.
    proba = np.where(y > 0, rng.uniform(0.3, 0.4, y.shape), rng.uniform(0.0, 0.2, y.shape))
    proba[:, 1] = rng.uniform(size=200)  # label 1: noise
    thresholds = multilabel.tune_thresholds(y, proba)
    assert 0.2 < thresholds[0] <= 0.3
    at_half = multilabel.scores(y, proba, ["a", "b"], [0.5, 0.5])["per_label"]["a"]["f1"]
    tuned = multilabel.scores(y, proba, ["a", "b"], thresholds)["per_label"]["a"]["f1"]
    assert at_half == 0.0 and tuned == 1.0
    assert multilabel.tune_thresholds(np.zeros((3, 1)), np.ones((3, 1))).tolist() == [0.5]


def test_scores_match_their_definitions():
    y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    proba = np.array([[0.9, 0.1, 0.2], [0.2, 0.8, 0.1], [0.7, 0.9, 0.6]])
    result = multilabel.scores(y, proba, ["a", "b", "c"], [0.5, 0.5, 0.5])
    # predicted: {a}, {b}, {a, b, c}; true: {a, c}, {b}, {a, b}
    tp, fp, fn = 4, 1, 1
    assert result["micro_f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert result["subset_accuracy"] == pytest.approx(1 / 3)
    assert result["hamming_loss"] == pytest.approx(2 / 9)
    assert result["per_label"]["c"] == {
        "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "threshold": 0.5
    }
    assert result["macro_f1"] == pytest.approx((1.0 + 1.0 + 0.0) / 3)


LABELS = ["a", "b", "c"]
# Thresholds a 0.5, b 0.3, c 0.7. Predicted sets: {a}, {b}, {a, b}, {c}, {}; true sets:
# {a}, {b, c}, {a, b}, {a}, {}. Rows 2 and 4 (row numbers 11 and 13) differ.
TASK = MultiLabel("|", 0.0, {"a": 0.5, "b": 0.3, "c": 0.7})
Y = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], np.float32)
PROBA = np.array([[0.9, 0.1, 0.2], [0.1, 0.35, 0.65], [0.6, 0.3, 0.1], [0.4, 0.2, 0.7],
                  [0.1, 0.1, 0.1]])


def scored_rows():
    import pandas as pd

    return pd.DataFrame({
        "row": [10, 11, 12, 13, 14], "id": ["r0", "r1", "r2", "r3", "r4"],
        "label": ["a", "b|c", "a|b", "a", ""],
        "image_present": [True, True, False, True, True],
        "text_present": [True, False, True, True, True],
    })


def test_the_task_is_chosen_from_the_config_and_rebuilt_from_the_bundle():
    assert type(task_for(TrainConfig())) is TASKS["single_label"]
    task = task_for(TrainConfig(multi_label=True, label_delimiter=";"))
    assert isinstance(task, MultiLabel) and task.delimiter == ";" and task.thresholds is None
    tuned = task.tune(Y, PROBA, LABELS)
    state = tuned.bundle_state(LABELS)
    assert set(state) == set(MultiLabel.state_keys)
    again = MultiLabel.from_bundle(TrainConfig(multi_label=True), LABELS, state)
    assert again.thresholds == tuned.thresholds and again.delimiter == ";"
    with pytest.raises(ValueError, match="every label"):
        MultiLabel.from_bundle(TrainConfig(multi_label=True), [*LABELS, "d"], state)


def test_misclassified_lists_exactly_the_rows_whose_label_set_differs():
    records = TASK.misclassified(Y, PROBA, LABELS, scored_rows())
    assert [r["row"] for r in records] == [11, 13]
    first, second = records
    assert first == {
        "row": 11, "id": "r1", "labels": ["b", "c"], "predicted": ["b"],
        "probabilities": {"a": 0.1, "b": 0.35, "c": 0.65},
        "image_present": True, "text_present": False,
    }
    assert second["labels"] == ["a"] and second["predicted"] == ["c"]
    for record in records:  # the predicted set is what predict would give
        cuts = TASK.thresholds
        assert record["predicted"] == TASK.prediction(
            np.array(list(record["probabilities"].values())), LABELS, 0)["labels"]
        assert set(record["predicted"]) == {
            k for k, p in record["probabilities"].items() if p >= cuts[k]}


def test_report_writes_a_per_label_table_and_f1_plot(tmp_path):
    from mmcli.report.markdown import write_report

    metrics = {"bundle": "b", "data": "d", "split": "test",
               **TASK.evaluate(Y, PROBA, LABELS, {}),
               "modalities": {"image_only": 0.5, "text_only": 0.25},
               "modality_contribution": {"image": 0.25, "text": 0.0},
               "fusion_gain": 0.0, "fusion_helped": True, "fusion_weights": None}
    page = write_report(metrics, tmp_path / "report", TASK.report(metrics))
    text = page.read_text()
    assert (tmp_path / "report" / "per_label_f1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](per_label_f1.png)" in text
    assert f"| micro_f1 | {metrics['micro_f1']:.3f} |" in text
    for label, s in metrics["per_label"].items():
        assert f"| {label} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | " \
               f"{s['support']} | {s['threshold']:.2f} |" in text
    assert "| image only | 0.500 |" in text
