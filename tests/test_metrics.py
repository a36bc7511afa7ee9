"""Metrics against values computed by hand on small examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmcli.metrics import (
    calibration_bins,
    classification_metrics,
    expected_calibration_error,
    full_metrics,
    roc_auc_binary,
    roc_auc_ovr,
    top_k_accuracy,
)

# 4 rows, 3 classes; argmax predictions: 0, 1, 1, 2 ; truth: 0, 1, 2, 2
Y = np.array([0, 1, 2, 2])
P = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.6, 0.3],
        [0.2, 0.5, 0.3],
        [0.1, 0.1, 0.8],
    ]
)
LABELS = ["a", "b", "c"]


def test_classification_metrics_by_hand():
    m = classification_metrics(Y, P, LABELS)
    assert m["accuracy"] == pytest.approx(0.75)
    # recall: a 1, b 1, c 0.5 -> balanced 2.5/3
    assert m["balanced_accuracy"] == pytest.approx(2.5 / 3)
    # precision: a 1, b 0.5, c 1 ; f1: a 1, b 2/3, c 2/3
    assert m["per_class"]["b"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert m["weighted_f1"] == pytest.approx((1 + 2 / 3 + 2 * 2 / 3) / 4)
    assert m["log_loss"] == pytest.approx(-np.mean(np.log([0.7, 0.6, 0.3, 0.8])))
    assert m["majority_accuracy"] == pytest.approx(0.5)
    assert m["confusion_matrix"]["matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 1]]


def test_top_k_accuracy_by_hand():
    assert top_k_accuracy(Y, P, 1) == pytest.approx(0.75)
    # row 3 (truth c): order b 0.5, c 0.3, a 0.2 -> in top 2
    assert top_k_accuracy(Y, P, 2) == pytest.approx(1.0)
    assert top_k_accuracy(np.array([0]), np.array([[0.1, 0.5, 0.4]]), 2) == 0.0
    assert top_k_accuracy(Y, P, 10) == 1.0


def test_roc_auc_binary_by_hand():
    # positives 0.8, 0.4 ; negatives 0.5, 0.1: pairs (0.8>0.5) (0.8>0.1) (0.4<0.5) (0.4>0.1) = 3/4
    assert roc_auc_binary(np.array([1, 0, 1, 0]), np.array([0.8, 0.5, 0.4, 0.1])) == 0.75
    # a tie counts one half
    assert roc_auc_binary(np.array([1, 0]), np.array([0.5, 0.5])) == 0.5
    assert roc_auc_binary(np.array([1, 1]), np.array([0.2, 0.3])) is None


def test_roc_auc_ovr_by_hand():
    auc = roc_auc_ovr(Y, P, LABELS)
    # a: positive row 0 (0.7) beats all three negatives -> 1
    assert auc["per_class"]["a"] == 1.0
    # b: positive 0.6 vs negatives 0.2, 0.5, 0.1 -> 1
    assert auc["per_class"]["b"] == 1.0
    # c: positives 0.3, 0.8 vs negatives 0.1, 0.3: 0.3>0.1, 0.3=0.3 (1/2), 0.8>both -> 3.5/4
    assert auc["per_class"]["c"] == pytest.approx(0.875)
    assert auc["macro"] == pytest.approx((1 + 1 + 0.875) / 3)
    assert auc["weighted"] == pytest.approx((1 + 1 + 2 * 0.875) / 4)


def test_expected_calibration_error_by_hand():
    # confidences 0.7, 0.6, 0.5, 0.8 land in bins 7, 6, 5, 8 alone; correct 1, 1, 0, 1
    # gaps 0.3, 0.4, 0.5, 0.2 -> ece = 1.4 / 4
    assert expected_calibration_error(Y, P) == pytest.approx(0.35)
    bins = calibration_bins(Y, P)["bins"]
    assert [b["count"] for b in bins] == [0, 0, 0, 0, 0, 1, 1, 1, 1, 0]
    assert bins[5]["accuracy"] == 0.0 and bins[0]["accuracy"] is None
    # two rows in one bin: confidences 0.9, 0.95, one correct -> |0.5 - 0.925|
    two = np.array([[0.9, 0.1], [0.05, 0.95]])
    assert expected_calibration_error(np.array([0, 0]), two) == pytest.approx(0.425)
    # a probability of 1 lands in the last bin, perfectly calibrated
    assert expected_calibration_error(np.array([0]), np.array([[1.0, 0.0]])) == 0.0


def test_full_metrics_keys_and_empty_input():
    m = full_metrics(Y, P, LABELS, top_k=(1, 3, 5))
    assert set(m["top_k_accuracy"]) == {"1", "3"}
    assert m["top_k_accuracy"]["1"] == m["accuracy"]
    assert math.isnan(expected_calibration_error(np.zeros(0, int), np.zeros((0, 3))))
