"""Running a model over a prepared dataset: probabilities (optionally with modalities masked)
and the mean learned fusion weights. The modality ablation is ``ablation.py``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from mmcli.data.dataset import Dataset
from mmcli.model.build import fusion_weights_model
from mmcli.model.feed import iter_batches, mask

# (indices, batch_size) -> (positions, inputs) batches; default: read from the dataset
Batches = Callable[[np.ndarray, int], Iterator[tuple[np.ndarray, dict]]]


def _batches(data: Dataset, modalities: Sequence[str], batches: Batches | None) -> Batches:
    if batches is not None:
        return batches
    return lambda indices, size: iter_batches(data, indices, modalities, size)


def predict_proba(model, inputs: dict) -> np.ndarray:
    """Class probabilities for one batch of inputs."""
    return np.asarray(model.predict_on_batch(inputs), dtype=np.float64)


def dataset_proba(
    model,
    data: Dataset,
    indices: np.ndarray,
    modalities: Sequence[str],
    batch_size: int,
    *,
    hidden: Sequence[str] = (),
    batches: Batches | None = None,
) -> np.ndarray:
    """Probabilities for the given positions, with the ``hidden`` modalities masked."""
    parts = []
    for _, inputs in _batches(data, modalities, batches)(indices, max(batch_size, 64)):
        for name in hidden:
            inputs = mask(inputs, modalities, name)
        parts.append(predict_proba(model, inputs))
    if not parts:
        return np.zeros((0, model.output_shape[-1]))
    return np.concatenate(parts)


def fusion_weights(
    model,
    data: Dataset,
    indices: np.ndarray,
    modalities: Sequence[str],
    batch_size: int,
    *,
    batches: Batches | None = None,
    gates=None,
) -> dict[str, float] | None:
    """Mean learned modality weight over the rows (gated, late and attention fusions), or
    None when the fusion has none. ``gates`` overrides the weights model (cached features)."""
    gates = gates if gates is not None else fusion_weights_model(model)
    if gates is None or len(indices) == 0:
        return None
    parts = [
        np.asarray(gates.predict_on_batch(inputs))
        for _, inputs in _batches(data, modalities, batches)(indices, max(batch_size, 64))
    ]
    mean = np.concatenate(parts).mean(axis=0)
    return {m: round(float(w), 4) for m, w in zip(modalities, mean, strict=True)}



def input_reports(model, dataset, indices, names, prep) -> dict:
    """What each kind's model side says about the scored rows' values against what it learnt
    (its optional ``input_report(model, name, values, prep)``; tabular: ``unseen_categories``,
    the cells of each categorical column outside its training vocabulary)."""
    import importlib

    from mmcli import modalities

    out: dict = {}
    for name in names:
        side = importlib.import_module(modalities.modality_of(name).encoders)
        report = getattr(side, "input_report", None)
        if report is not None and name in dataset.modalities:
            out.update(report(model, name, dataset.values(name, indices, prep), prep))
    return out
