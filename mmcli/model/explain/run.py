"""Explaining batches of rows: Shapley values over the modalities, then each present
modality's inside explanation by its kind's explainer; and the global view (mean absolute
attribution per class) that ``evaluate --report`` shows, from the same Shapley code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mmcli import modalities
from mmcli.model.explain import explainer_for
from mmcli.model.explain.base import Context, Inside, take
from mmcli.model.explain.forward import Forward
from mmcli.model.explain.shapley import Shapley, shapley
from mmcli.model.feed import PRESENT, dataset_inputs


@dataclass(frozen=True)
class Explained:
    """One batch explained: the Shapley values of every output, each row's target index,
    and per modality one :class:`Inside` per row (None where the row lacks the modality or
    its kind has no explainer)."""

    shapley: Shapley
    target: np.ndarray
    inside: dict[str, list[Inside | None]]
    methods: dict[str, str | None]


def modality_shapley(forward: Forward, prepared: dict, seed: int = 0) -> Shapley:
    """Shapley values of a batch (prepared by ``forward``), masking through ``present``."""
    return shapley(lambda present: forward.proba({**prepared, PRESENT: present}),
                   prepared[PRESENT] > 0.5, seed=seed)


def explain_batch(context: Context, inputs: dict,
                  choose: Callable[[np.ndarray], np.ndarray]) -> Explained:
    """Explain one batch of rows (a raw input dict).

    Args:
        choose: maps the probabilities with every modality ``(rows, outputs)`` to the
            output index explained in each row.
    """
    prepared = context.forward.prepare(inputs)
    values = modality_shapley(context.forward, prepared, context.settings.seed)
    target = np.asarray(choose(values.full), np.int64)
    inside: dict[str, list[Inside | None]] = {}
    methods: dict[str, str | None] = {}
    for position, name in enumerate(context.names):
        explainer = explainer_for(modalities.kind_of(name))
        methods[name] = explainer.method if explainer else None
        inside[name] = [None] * len(target)
        rows = np.flatnonzero(inputs[PRESENT][:, position] > 0.5)
        if explainer is None or not len(rows):
            continue
        found = explainer(context, name, take(inputs, rows), target[rows])
        for r, item in zip(rows, found, strict=True):
            inside[name][r] = item
    return Explained(values, target, inside, methods)


def mean_attribution(model, data, indices: np.ndarray, names: Sequence[str],
                     truth: np.ndarray, labels: Sequence[str], batch_size: int,
                     prep=None) -> dict[str, dict[str, float]]:
    """Mean absolute Shapley value of each modality for each class's probability, over the
    rows that truly have the class (``truth``: bool ``(rows, classes)``): which modality
    drives which class. A class without rows is left out."""
    forward = Forward(model, names)
    totals = np.zeros((len(labels), len(names)))
    counts = np.zeros(len(labels))
    for start in range(0, len(indices), batch_size):
        chunk = indices[start:start + batch_size]
        prepared = forward.prepare(dataset_inputs(data, chunk, names, prep))
        values = np.abs(modality_shapley(forward, prepared).values)  # (rows, M, C)
        have = np.asarray(truth[start:start + batch_size], bool)  # (rows, C)
        totals += np.einsum("rmc,rc->cm", values, have)
        counts += have.sum(axis=0)
    return {
        label: {m: round(float(totals[c, i] / counts[c]), 6) for i, m in enumerate(names)}
        for c, label in enumerate(labels) if counts[c] > 0
    }
