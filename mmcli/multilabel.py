"""Multi-label classification: label cells split on a delimiter, multi-hot targets, a
threshold per label tuned on validation, and the scores (pure numpy, no TensorFlow).

A multi-label bundle records ``multi_label: {delimiter, thresholds}`` in bundle.json;
predict gives each row the ``labels`` whose probability reaches their threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from mmcli.errors import DataError
from mmcli.modalities import RECORD_MODALITIES, present_column

GRID = np.round(np.arange(0.05, 0.96, 0.05), 2)


def is_multi_label(meta: dict[str, Any]) -> bool:
    """Whether a bundle's metadata describes a multi-label model."""
    return bool(meta.get("multi_label"))


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
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    support = truth.sum(axis=0)
    micro_denom = 2 * tp.sum() + fp.sum() + fn.sum()
    present = support > 0
    return {
        "n": int(len(y)),
        "micro_f1": float(2 * tp.sum() / micro_denom) if micro_denom else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "subset_accuracy": float(np.mean((truth == predicted).all(axis=1))) if len(y) else 0.0,
        "hamming_loss": float(np.mean(truth != predicted)) if len(y) else 0.0,
        "per_label": {
            label: {
                "precision": float(precision[j]),
                "recall": float(recall[j]),
                "f1": float(f1[j]),
                "support": int(support[j]),
                "threshold": float(thresholds[j]),
            }
            for j, label in enumerate(labels)
        },
    }


def record(row, proba: np.ndarray, labels: Sequence[str], thresholds: dict) -> dict:
    """A prediction record: the ``labels`` at or over their threshold, and every probability."""
    chosen = [
        (label, float(p)) for label, p in zip(labels, proba, strict=True) if p >= thresholds[label]
    ]
    chosen.sort(key=lambda item: -item[1])
    return {
        "id": row.id,
        "labels": [label for label, _ in chosen],
        "probabilities": {
            label: round(float(p), 6) for label, p in zip(labels, proba, strict=True)
        },
        **{present_column(m): row.present(m) for m in RECORD_MODALITIES},
        "error": None,
    }


def error_record(record: dict) -> dict:
    """A single-label error record reshaped to the multi-label record's keys."""
    return {
        "id": record["id"],
        "labels": None,
        "probabilities": None,
        **{present_column(m): record[present_column(m)] for m in RECORD_MODALITIES},
        "error": record["error"],
    }


def evaluate(model, dataset, indices: np.ndarray, meta: dict, batch_size: int) -> dict:
    """``mmcli evaluate`` for a multi-label bundle: scores of the fused model and of each
    modality alone, at the thresholds saved in the bundle. Imports TensorFlow."""
    from mmcli.model.inference import dataset_proba, fusion_weights

    labels, spec = list(meta["labels"]), meta["multi_label"]
    thresholds = [spec["thresholds"][label] for label in labels]
    frame = dataset.examples
    y = multi_hot(
        frame["label"].to_numpy()[indices].tolist(),
        labels,
        spec["delimiter"],
        frame["row"].to_numpy()[indices].tolist(),
    )
    modalities = list(meta["modalities"])
    result = {"task": "multi_label", **scores(y, dataset_proba(
        model, dataset, indices, modalities, batch_size), labels, thresholds)}
    if len(modalities) > 1:
        result["modalities"] = {}
        for keep in modalities:
            hidden = [m for m in modalities if m != keep]
            only = dataset_proba(model, dataset, indices, modalities, batch_size, hidden=hidden)
            result["modalities"][f"{keep}_only"] = scores(y, only, labels, thresholds)["micro_f1"]
        result["fusion_weights"] = fusion_weights(model, dataset, indices, modalities, batch_size)
    return result


def validation_report(model, dataset, indices, y, modalities, labels, batch_size) -> dict:
    """Tune the thresholds on (``indices``, ``y``) and report micro-F1 of the fused model and
    of each modality alone, as ``modality_report`` does for accuracy. Imports TensorFlow."""
    from mmcli.model.inference import dataset_proba, fusion_weights

    proba = dataset_proba(model, dataset, indices, modalities, batch_size)
    thresholds = tune_thresholds(y, proba)
    fused = scores(y, proba, labels, thresholds)
    report: dict[str, Any] = {
        "metric": "micro_f1",
        "rows": int(len(indices)),
        "micro_f1": fused["micro_f1"],
        "macro_f1": fused["macro_f1"],
        "subset_accuracy": fused["subset_accuracy"],
    }
    if len(modalities) > 1:
        alone = {}
        for keep in modalities:
            hidden = [m for m in modalities if m != keep]
            only = dataset_proba(model, dataset, indices, modalities, batch_size, hidden=hidden)
            alone[f"{keep}_only"] = scores(y, only, labels, thresholds)["micro_f1"]
        report["modalities"] = alone
        report["fusion_helped"] = bool(fused["micro_f1"] >= max(alone.values()))
        report["fusion_weights"] = fusion_weights(model, dataset, indices, modalities, batch_size)
    return report, {label: float(t) for label, t in zip(labels, thresholds, strict=True)}
