"""Multi-label pieces without TensorFlow: splitting cells, multi-hot targets, thresholds, scores."""

from __future__ import annotations

import numpy as np
import pytest

from mmcli import multilabel
from mmcli.errors import DataError


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
