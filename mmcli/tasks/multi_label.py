"""Multi-label classification: label cells split on a delimiter, multi-hot targets, a sigmoid
head with binary cross-entropy, a threshold per label tuned on validation, scored by micro F1.

A multi-label bundle records ``multi_label: {delimiter, thresholds}`` in bundle.json; predict
gives each row the ``labels`` whose probability reaches their threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mmcli.config import TrainConfig
from mmcli.errors import DataError
from mmcli.metrics import per_label_scores
from mmcli.tasks.base import (
    Head,
    ReportPage,
    Targets,
    Task,
    ablation_lines,
    presence_flags,
    scores_table,
)

GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)
STATE_KEY = "multi_label"


@dataclass(frozen=True)
class MultiLabel(Task):
    """Any number of labels per row: each label whose probability reaches its threshold."""

    delimiter: str = "|"
    label_smoothing: float = 0.0
    thresholds: Mapping[str, float] | None = None  # by label; None until tuned

    name = "multi_label"
    metric = "micro_f1"
    metric_label = "micro F1"
    state_keys = (STATE_KEY,)
    record_fields = ("labels", "probabilities")

    @classmethod
    def from_config(cls, config: TrainConfig) -> MultiLabel:
        return cls(config.label_delimiter, config.label_smoothing)

    @classmethod
    def from_bundle(cls, config: TrainConfig, labels: Sequence[str],
                    state: Mapping[str, Any]) -> MultiLabel:
        spec = state[STATE_KEY]
        if not isinstance(spec, dict) or set(spec) != {"delimiter", "thresholds"}:
            raise ValueError(f"{STATE_KEY!r} must be an object with delimiter and thresholds")
        thresholds = spec["thresholds"]
        if not isinstance(thresholds, dict) or set(thresholds) != set(labels) or not all(
            isinstance(t, (int, float)) and not isinstance(t, bool) for t in thresholds.values()
        ):
            raise ValueError(f"{STATE_KEY}.thresholds must give a number for every label")
        if not isinstance(spec["delimiter"], str):
            raise ValueError(f"{STATE_KEY}.delimiter must be a string")
        return cls(spec["delimiter"], config.label_smoothing,
                   {label: float(thresholds[label]) for label in labels})

    @property
    def head(self) -> Head:
        # "accuracy" is per-label binary accuracy; micro F1 at threshold 0.5 beside it
        metrics = (("BinaryAccuracy", {"name": "accuracy"}),
                   ("F1Score", {"average": "micro", "threshold": 0.5, "name": "micro_f1"}))
        return Head("sigmoid", "binary_crossentropy", {"label_smoothing": self.label_smoothing},
                    metrics, self.label_smoothing)

    def targets(self, column, train_idx: np.ndarray, labels: Sequence[str]) -> Targets:
        """Every label found in the column (sorted) and multi-hot rows; ``y`` is the matrix.

        Raises:
            DataError: fewer than two labels among the training rows.
        """
        labelled = column.notna().to_numpy()
        cells = [c if ok else None for c, ok in zip(column.to_numpy(), labelled, strict=True)]
        labels = label_union(cells, self.delimiter)
        found = label_union([cells[i] for i in train_idx], self.delimiter)
        if len(found) < 2:
            raise DataError(
                f"multi-label training needs at least two labels; found {found} "
                f"(labels split on {self.delimiter!r})"
            )
        matrix = multi_hot(cells, labels, self.delimiter)
        return Targets(labels, matrix, matrix)

    def eval_targets(self, cells: Sequence[Any], rows: Sequence[Any],
                     labels: Sequence[str]) -> np.ndarray:
        return multi_hot(list(cells), labels, self.delimiter, list(rows))

    def _cuts(self, labels: Sequence[str]) -> np.ndarray:
        if self.thresholds is None:
            return np.full(len(labels), 0.5)
        return np.array([self.thresholds[label] for label in labels])

    def score(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> float:
        return scores(y, proba, labels, self._cuts(labels))["micro_f1"]

    def tune(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> MultiLabel:
        """Per label, the threshold with the best F1 on (y, proba): see :func:`tune_thresholds`."""
        tuned = tune_thresholds(y, proba)
        return replace(self, thresholds={
            label: float(t) for label, t in zip(labels, tuned, strict=True)})

    def validation(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> dict:
        fused = scores(y, proba, labels, self._cuts(labels))
        return {"metric": self.metric,
                **{k: fused[k] for k in ("micro_f1", "macro_f1", "subset_accuracy")}}

    def bundle_state(self, labels: Sequence[str]) -> dict[str, Any]:
        cuts = self._cuts(labels)
        return {STATE_KEY: {"delimiter": self.delimiter, "thresholds": {
            label: float(t) for label, t in zip(labels, cuts, strict=True)}}}

    def evaluate(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                 presence: Mapping[str, np.ndarray]) -> dict[str, Any]:
        return {"task": self.name, **scores(y, proba, labels, self._cuts(labels))}

    def misclassified(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                      rows) -> list[dict[str, Any]]:
        """Rows whose predicted label set differs from the true set: both sets and every
        probability."""
        truth, chosen = y > 0, proba >= self._cuts(labels)[None, :]
        records = []
        for i in np.flatnonzero((truth != chosen).any(axis=1)):
            predicted = self.prediction(proba[i], labels, 0)
            records.append({
                "row": int(rows["row"].iloc[i]),
                "id": str(rows["id"].iloc[i]),
                "labels": [label for j, label in enumerate(labels) if truth[i, j]],
                "predicted": predicted["labels"],
                "probabilities": predicted["probabilities"],
                **presence_flags(rows, i),
            })
        return records

    def prediction(self, proba: np.ndarray, labels: Sequence[str], top_k: int) -> dict:
        """The ``labels`` at or over their threshold (most probable first), every probability."""
        cuts = self._cuts(labels)
        chosen = sorted(((label, float(p)) for label, p, t in zip(labels, proba, cuts,
                                                                   strict=True) if p >= t),
                        key=lambda item: -item[1])
        return {
            "labels": [label for label, _ in chosen],
            "probabilities": {
                label: round(float(p), 6) for label, p in zip(labels, proba, strict=True)
            },
        }

    def no_prediction(self) -> dict[str, Any]:
        return {"labels": None, "probabilities": None}

    def report(self, metrics: dict[str, Any]) -> ReportPage:
        from mmcli.report import markdown, plots

        return ReportPage(markdown.multi_label_page(metrics),
                          {"per_label_f1.png": plots.plot_per_label_f1})

    def evaluate_lines(self, result: dict[str, Any]) -> list:
        return [
            scores_table(f"{result['split']} rows: {result['n']}", result["per_label"],
                         extra=("threshold",)),
            f"micro F1 {result['micro_f1']:.3f}  macro F1 {result['macro_f1']:.3f}  "
            f"subset accuracy {result['subset_accuracy']:.3f}  "
            f"Hamming loss {result['hamming_loss']:.3f}",
            *ablation_lines(result, self.metric_label),
        ]


def split_labels(cell: Any, delimiter: str) -> list[str]:
    """``"red|happy"`` -> ``["red", "happy"]``: parts stripped, empty parts dropped."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return []
    return [part.strip() for part in str(cell).split(delimiter) if part.strip()]


def label_union(cells: Iterable[Any], delimiter: str) -> list[str]:
    """The sorted set of every label found in the cells."""
    return sorted({label for cell in cells for label in split_labels(cell, delimiter)})


def multi_hot(
    cells: Sequence[Any], labels: Sequence[str], delimiter: str, rows: Sequence[Any] = ()
) -> np.ndarray:
    """A ``(len(cells), len(labels))`` float32 matrix of 0/1.

    Raises:
        DataError: a cell names a label not in ``labels`` (``rows`` gives row numbers).
    """
    lookup = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(cells), len(labels)), np.float32)
    for r, cell in enumerate(cells):
        for label in split_labels(cell, delimiter):
            if label not in lookup:
                row = rows[r] if len(rows) else r + 1
                raise DataError(
                    f"row {row}: unknown label {label!r}; the model knows: {', '.join(labels)}"
                )
            matrix[r, lookup[label]] = 1.0
    return matrix


def tune_thresholds(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Per label, the threshold on a grid (0.05 ... 0.95) with the best F1 on (y, proba);
    0.5 for a label without positive rows, ties going to the threshold nearest 0.5."""
    thresholds = np.full(y.shape[1], 0.5)
    order = np.argsort(np.abs(GRID - 0.5), kind="stable")
    for j in range(y.shape[1]):
        if y[:, j].sum() == 0:
            continue
        f1s = [_f1(y[:, j], proba[:, j] >= t) for t in GRID[order]]
        thresholds[j] = float(GRID[order][int(np.argmax(f1s))])
    return thresholds


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum((truth > 0) & predicted))
    denom = float(np.sum(truth > 0) + np.sum(predicted))
    return 2 * tp / denom if denom else 0.0


def scores(y: np.ndarray, proba: np.ndarray, labels: Sequence[str], thresholds) -> dict:
    """Micro/macro F1, subset accuracy, Hamming loss and per-label scores at the thresholds."""
    truth = y > 0
    predicted = proba >= np.asarray(thresholds)[None, :]
    tp = (truth & predicted).sum(axis=0).astype(float)
    fp = (~truth & predicted).sum(axis=0).astype(float)
    fn = (truth & ~predicted).sum(axis=0).astype(float)
    f1, per_label = per_label_scores(tp, fp, fn, labels)
    for j, label in enumerate(labels):
        per_label[label]["threshold"] = float(thresholds[j])
    micro_denom = 2 * tp.sum() + fp.sum() + fn.sum()
    present = (tp + fn) > 0
    return {
        "n": int(len(y)),
        "micro_f1": float(2 * tp.sum() / micro_denom) if micro_denom else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "subset_accuracy": float(np.mean((truth == predicted).all(axis=1))) if len(y) else 0.0,
        "hamming_loss": float(np.mean(truth != predicted)) if len(y) else 0.0,
        "per_label": per_label,
    }
