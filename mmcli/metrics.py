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
    precision = np.divide(tp, predicted, out=np.zeros(n), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(n), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(n), where=denom > 0)
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
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {"labels": list(labels), "matrix": matrix.tolist()},
    }
