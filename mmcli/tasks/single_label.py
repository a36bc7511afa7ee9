"""Single-label classification: one class per row, a softmax head with categorical
cross-entropy (optional label smoothing and balanced class weights), scored by accuracy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmcli.config import TrainConfig
from mmcli.errors import DataError
from mmcli.metrics import accuracy, classification_metrics, full_metrics
from mmcli.tasks.base import (
    Head,
    ReportPage,
    Targets,
    Task,
    ablation_lines,
    by_presence,
    presence_flags,
    scores_table,
)

TOP_K = (1, 3, 5)  # evaluate's top_k_accuracy


@dataclass(frozen=True)
class SingleLabel(Task):
    """One label per row, the most probable wins."""

    label_smoothing: float = 0.0
    class_weight: str = "none"

    name = "single_label"
    metric = "accuracy"
    metric_label = "accuracy"
    record_fields = ("label", "probability", "probabilities", "top_k")

    @classmethod
    def from_config(cls, config: TrainConfig) -> SingleLabel:
        return cls(config.label_smoothing, config.class_weight)

    @property
    def head(self) -> Head:
        metrics = (("CategoricalAccuracy", {"name": "accuracy"}),)
        return Head("softmax", "categorical_crossentropy",
                    {"label_smoothing": self.label_smoothing}, metrics,
                    self.label_smoothing, self.class_weight)

    def targets(self, column, train_idx: np.ndarray, labels: Sequence[str]) -> Targets:
        """Each row's class index (-1: unlabelled), one-hot rows, and with ``class_weight``
        ``balanced`` the class weights counted on the training rows.

        Raises:
            DataError: fewer than two classes among the training rows.
        """
        cells = column.to_numpy()
        labels = list(labels)
        lookup = {label: i for i, label in enumerate(labels)}
        classes = np.array([lookup.get(v, -1) for v in cells], np.int32)
        found = sorted(set(cells[train_idx]))
        if len(found) < 2:
            raise DataError(f"training needs at least two classes; found only {found}")
        weights = (
            balanced_weights(classes[train_idx], labels) if self.class_weight == "balanced"
            else None
        )
        return Targets(labels, classes, one_hot(classes, len(labels)), weights,
                       row_weights(classes, weights, labels) if weights else None)

    def eval_targets(self, cells: Sequence[Any], rows: Sequence[Any],
                     labels: Sequence[str]) -> np.ndarray:
        lookup = {label: i for i, label in enumerate(labels)}
        unknown = [(row, v) for row, v in zip(rows, cells, strict=True) if v not in lookup]
        if unknown:
            row, value = unknown[0]
            raise DataError(
                f"row {row}: unknown label {value!r} ({len(unknown)} row(s) with labels the "
                f"model was not trained on); the model knows: {', '.join(labels)}"
            )
        return np.array([lookup[v] for v in cells], dtype=np.int64)

    def score(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> float:
        return accuracy(y, proba)

    def validation(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> dict:
        return {"accuracy": accuracy(y, proba)}

    def evaluate(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                 presence: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """:func:`mmcli.metrics.full_metrics`, and with several modalities ``by_missingness``:
        accuracy and macro F1 by which modalities the rows had."""
        result = full_metrics(y, proba, list(labels), top_k=TOP_K)
        if len(presence) > 1:
            def group(chosen: np.ndarray) -> dict[str, Any]:
                scores = classification_metrics(y[chosen], proba[chosen], list(labels))
                return {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}

            result["by_missingness"] = by_presence(
                presence, group, {"accuracy": None, "macro_f1": None})
        return result

    def misclassified(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                      rows, top_k: int = 3) -> list[dict[str, Any]]:
        """Rows whose most probable label is not the true one: the truth, the prediction, both
        probabilities and the ``top_k`` most probable labels."""
        predicted = np.argmax(proba, axis=1)
        records = []
        for i in np.flatnonzero(predicted != y):
            p = proba[i]
            records.append({
                "row": int(rows["row"].iloc[i]),
                "id": str(rows["id"].iloc[i]),
                "label": labels[y[i]],
                "predicted": labels[predicted[i]],
                "probability": round(float(p[predicted[i]]), 6),
                "true_probability": round(float(p[y[i]]), 6),
                "top_k": _top_k(p, labels, top_k),
                **presence_flags(rows, i),
            })
        return records

    def prediction(self, proba: np.ndarray, labels: Sequence[str], top_k: int) -> dict:
        best = int(np.argmax(proba))
        return {
            "label": labels[best],
            "probability": round(float(proba[best]), 6),
            "probabilities": {
                label: round(float(p), 6) for label, p in zip(labels, proba, strict=True)
            },
            "top_k": _top_k(proba, labels, top_k),
        }

    def no_prediction(self) -> dict[str, Any]:
        return {"label": None, "probability": None, "probabilities": None, "top_k": []}

    def report(self, metrics: dict[str, Any]) -> ReportPage:
        from mmcli.report import markdown, plots

        return ReportPage(markdown.single_label_page(metrics), {
            "confusion_matrix.png": plots.plot_confusion,
            "reliability.png": plots.plot_reliability,
            "per_class_f1.png": plots.plot_per_class_f1,
        })

    def evaluate_lines(self, result: dict[str, Any]) -> list:
        auc = result["roc_auc"]["macro"]
        lines = [
            scores_table(f"{result['split']} rows: {result['n']}", result["per_class"]),
            f"accuracy {result['accuracy']:.3f}  macro F1 {result['macro_f1']:.3f}  "
            f"majority-class accuracy {result['majority_accuracy']:.3f}",
            f"balanced accuracy {result['balanced_accuracy']:.3f}  "
            f"{_top_3(result['top_k_accuracy'])}"
            f"log-loss {result['log_loss']:.3f}  ECE {result['ece']:.3f}  "
            f"ROC-AUC {'n/a' if auc is None else f'{auc:.3f}'}",
            *ablation_lines(result, self.metric_label),
        ]
        for name, scores in (result.get("by_missingness") or {}).items():
            if scores["n"]:
                lines.append(f"  rows with {name.replace('_', ' ')}: n {scores['n']}  "
                             f"accuracy {scores['accuracy']:.3f}")
        return lines


def _top_3(top_k_accuracy: dict[str, float]) -> str:
    """The line's top-3 field; absent with fewer than 3 labels (metrics leaves it out)."""
    return f"top-3 {top_k_accuracy['3']:.3f}  " if "3" in top_k_accuracy else ""


def _top_k(proba: np.ndarray, labels: Sequence[str], k: int) -> list[dict[str, Any]]:
    order = np.argsort(-proba, kind="stable")[:k]
    return [{"label": labels[i], "probability": round(float(proba[i]), 6)} for i in order]


def one_hot(classes: np.ndarray, num_classes: int) -> np.ndarray:
    """Rows of zeros for class -1 (unlabelled rows), one-hot otherwise."""
    matrix = np.zeros((len(classes), num_classes), np.float32)
    known = classes >= 0
    matrix[np.flatnonzero(known), classes[known]] = 1.0
    return matrix


def balanced_weights(classes: np.ndarray, labels: Sequence[str]) -> dict[str, float]:
    """``n / (k * count)`` for each of the k classes present in ``classes`` (training rows).

    Raises:
        DataError: no training rows.
    """
    if len(classes) == 0:
        raise DataError("class weights need training rows")
    counts = np.bincount(classes, minlength=len(labels))
    present = np.flatnonzero(counts)
    return {
        labels[i]: round(float(len(classes) / (len(present) * counts[i])), 6) for i in present
    }


def row_weights(classes: np.ndarray, weights: dict[str, float], labels: Sequence[str]):
    """The weight of every row's class (1.0 for a class without a weight or no class)."""
    table = np.array([weights.get(label, 1.0) for label in labels] + [1.0], np.float32)
    return table[np.where(classes >= 0, classes, len(labels))]
