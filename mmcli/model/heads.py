"""The head's targets, loss and metrics: softmax (with label smoothing and class weights) or
sigmoid (multi-label, binary cross-entropy).

Targets travel through the training stream as row positions and are looked up here as
matrices (one-hot, or multi-hot), so one stream serves both heads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmcli import multilabel
from mmcli.config import TrainConfig
from mmcli.errors import DataError
from mmcli.model.backend import import_keras

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def activation(config: TrainConfig) -> str:
    """The output activation: ``sigmoid`` for multi-label, else ``softmax``."""
    return "sigmoid" if config.multi_label else "softmax"


def loss_and_metrics(config: TrainConfig):
    """The compiled loss and metrics. The metric named ``accuracy`` is per-label binary
    accuracy for multi-label (plus ``micro_f1`` at threshold 0.5), else categorical accuracy."""
    if config.multi_label:
        return (
            keras.losses.BinaryCrossentropy(label_smoothing=config.label_smoothing),
            [
                keras.metrics.BinaryAccuracy(name="accuracy"),
                keras.metrics.F1Score(average="micro", threshold=0.5, name="micro_f1"),
            ],
        )
    return (
        keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        [keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


def targets(column, train_idx: np.ndarray, config: TrainConfig, labels: Sequence[str]):
    """The label list, each row's class index (-1: none; always -1 for multi-label) and the
    target matrix (one-hot, or multi-hot with ``multi_label``) of a label column.

    Args:
        column: the examples' ``label`` column (raw cells; None for unlabelled rows).
        train_idx: the training rows, which must hold at least two labels.
        config: ``multi_label`` and ``label_delimiter``.
        labels: the dataset's labels (single-label order).

    Raises:
        DataError: fewer than two labels among the training rows.
    """
    cells = column.to_numpy()
    if config.multi_label:
        labelled = column.notna().to_numpy()
        cells = [c if ok else None for c, ok in zip(cells, labelled, strict=True)]
        labels = multilabel.label_union(cells, config.label_delimiter)
        found = multilabel.label_union([cells[i] for i in train_idx], config.label_delimiter)
        if len(found) < 2:
            raise DataError(
                f"multi-label training needs at least two labels; found {found} "
                f"(labels split on {config.label_delimiter!r})"
            )
        matrix = multilabel.multi_hot(cells, labels, config.label_delimiter)
        return labels, np.full(len(cells), -1, np.int32), matrix
    labels = list(labels)
    lookup = {label: i for i, label in enumerate(labels)}
    classes = np.array([lookup.get(v, -1) for v in cells], np.int32)
    found = sorted(set(cells[train_idx]))
    if len(found) < 2:
        raise DataError(f"training needs at least two classes; found only {found}")
    return labels, classes, one_hot(classes, len(labels))


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


def attach_targets(stream, matrix: np.ndarray, weights: np.ndarray | None = None):
    """Map a stream of ``(inputs, row positions)`` to ``(inputs, target rows[, weights])``."""
    targets = tf.constant(matrix)
    if weights is None:
        return stream.map(lambda x, i: (x, tf.gather(targets, i)))
    per_row = tf.constant(weights)
    return stream.map(lambda x, i: (x, tf.gather(targets, i), tf.gather(per_row, i)))
