"""Classification metrics from true label indices and predicted probabilities (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    """Counts with true labels on rows and predicted labels on columns."""
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def accuracy(y_true: np.ndarray, proba: np.ndarray) -> float:
    if len(y_true) == 0:
        return float("nan")
    return float(np.mean(np.argmax(proba, axis=1) == y_true))


def classification_metrics(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, balanced accuracy, macro/weighted F1, log-loss, per-class scores, confusion.

    Args:
        y_true: true label indices, shape ``(n,)``.
        proba: predicted probabilities, shape ``(n, len(labels))``.
        labels: label names in index order.

    Returns:
        A JSON-ready dict; per-class precision/recall/F1 are 0.0 where undefined.
    """
    n = len(labels)
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.argmax(proba, axis=1)
    matrix = confusion_matrix(y_true, y_pred, n)
    tp = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    f1, per_class = per_label_scores(tp, predicted - tp, support - tp, labels)
    recall = np.divide(tp, support, out=np.zeros(n), where=support > 0)
    present = support > 0
    total = max(len(y_true), 1)
    clipped = np.clip(proba[np.arange(len(y_true)), y_true], 1e-15, 1.0)
    return {
        "n": int(len(y_true)),
        "accuracy": float(tp.sum() / total),
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_f1": float((f1 * support).sum() / total),
        "log_loss": float(-np.mean(np.log(clipped))) if len(y_true) else 0.0,
        "majority_accuracy": float(support.max() / total) if len(y_true) else 0.0,
        "per_class": per_class,
        "confusion_matrix": {"labels": list(labels), "matrix": matrix.tolist()},
    }


def per_label_scores(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, labels: Sequence[str]
) -> tuple[np.ndarray, dict[str, dict[str, Any]]]:
    """Precision, recall, F1 and support of each label from its true positive, false positive
    and false negative counts (arrays of ``len(labels)``); 0.0 where undefined.

    Returns:
        ``(f1, {label: {precision, recall, f1, support}})``.
    """
    precision = np.divide(tp, tp + fp, out=np.zeros(len(tp)), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros(len(tp)), where=(tp + fn) > 0)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(len(tp)), where=denom > 0)
    return f1, {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(tp[i] + fn[i]),
        }
        for i, label in enumerate(labels)
    }


def top_k_accuracy(y_true: np.ndarray, proba: np.ndarray, k: int) -> float:
    """Share of rows whose true label is among the ``k`` most probable (ties: lower index first)."""
    if len(y_true) == 0:
        return float("nan")
    k = min(k, proba.shape[1])
    order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    return float(np.mean((order == np.asarray(y_true)[:, None]).any(axis=1)))


def roc_auc_binary(positive: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties count one half); None if one class only."""
    positive = np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(np.asarray(score, dtype=np.float64))
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2  # mean of 1-based ranks start+1..end
    return ranks


def roc_auc_ovr(y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """One-vs-rest ROC-AUC per label, and their unweighted and support-weighted means over the
    labels that have both positive and negative rows (others are None and left out)."""
    y_true = np.asarray(y_true, dtype=np.int64)
    per_label = {
        label: roc_auc_binary(y_true == i, proba[:, i]) for i, label in enumerate(labels)
    }
    defined = [(i, v) for i, v in enumerate(per_label.values()) if v is not None]
    if not defined:
        return {"macro": None, "weighted": None, "per_class": per_label}
    support = np.bincount(y_true, minlength=len(labels)).astype(float)
    weights = np.array([support[i] for i, _ in defined])
    values = np.array([v for _, v in defined])
    return {
        "macro": float(values.mean()),
        "weighted": float((values * weights).sum() / weights.sum()),
        "per_class": per_label,
    }


def calibration_bins(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> dict[str, Any]:
    """Reliability data: rows binned by top probability into ``n_bins`` equal-width bins
    (a probability of exactly 1 goes in the last). ``ece`` is the expected calibration error:
    the row-weighted mean gap between a bin's accuracy and its mean confidence."""
    y_true = np.asarray(y_true, dtype=np.int64)
    confidence = proba.max(axis=1) if len(y_true) else np.zeros(0)
    correct = (np.argmax(proba, axis=1) == y_true) if len(y_true) else np.zeros(0, bool)
    which = np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    acc_sum = np.bincount(which, weights=correct.astype(float), minlength=n_bins)
    safe = np.maximum(count, 1)
    gap = np.abs(acc_sum / safe - conf_sum / safe)
    ece = float((gap * count).sum() / len(y_true)) if len(y_true) else float("nan")
    return {
        "ece": ece,
        "bins": [
            {
                "lower": i / n_bins,
                "upper": (i + 1) / n_bins,
                "count": int(count[i]),
                "confidence": float(conf_sum[i] / count[i]) if count[i] else None,
                "accuracy": float(acc_sum[i] / count[i]) if count[i] else None,
            }
            for i in range(n_bins)
        ],
    }


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> float:
    return calibration_bins(y_true, proba, n_bins)["ece"]


def full_metrics(
    y_true: np.ndarray, proba: np.ndarray, labels: Sequence[str], *, top_k: Sequence[int] = (3,)
) -> dict[str, Any]:
    """:func:`classification_metrics` plus ROC-AUC, top-k accuracy and calibration."""
    result = classification_metrics(y_true, proba, labels)
    result["top_k_accuracy"] = {
        str(k): top_k_accuracy(y_true, proba, k) for k in top_k if k <= len(labels)
    }
    result["roc_auc"] = roc_auc_ovr(y_true, proba, labels)
    calibration = calibration_bins(y_true, proba)
    result["ece"] = calibration["ece"]
    result["calibration"] = calibration["bins"]
    return result
