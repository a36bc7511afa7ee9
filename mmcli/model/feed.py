"""Feeding the model: rows of a prepared dataset (or freshly prepared rows) to input dicts,
and seeded ``tf.data`` streams of them.

An input dict holds one batch per modality under its name (the kind decides its shape and
dtype: :mod:`mmcli.modalities`) and ``present``: one 0/1 flag per modality and row, in model
order, which the model's :class:`~mmcli.model.layers.ModalityMask` uses to mask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mmcli import modalities
from mmcli.model.backend import import_keras

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.dataset import Dataset
    from mmcli.data.rows import Row

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

PRESENT = "present"  # the model input holding the presence flags


def model_inputs(
    names: Sequence[str],
    values: Mapping[str, Any],
    present: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The input dict of :func:`mmcli.model.build.build` for one batch.

    ``values`` holds each modality's batch under its name; one left out is left out of the
    inputs too (a frozen extractor's head takes features instead). ``present`` holds each
    modality's 0/1 flags: they become the ``present`` input, ``(batch, len(names))``
    float32, in ``names`` order.
    """
    inputs: dict[str, np.ndarray] = {k: values[k] for k in names if k in values}
    inputs[PRESENT] = np.stack([np.asarray(present[m], np.float32) for m in names], axis=1)
    return inputs


def mask(inputs: dict[str, np.ndarray], names: Sequence[str], hidden: str) -> dict:
    """A copy of ``inputs`` with one modality marked absent (for ablations)."""
    present = inputs[PRESENT].copy()
    present[:, list(names).index(hidden)] = 0.0
    return {**inputs, PRESENT: present}


def rows_inputs(rows: Sequence[Row], names: Sequence[str], prep: PrepConfig) -> dict:
    """Input dict for rows prepared on the fly (predict, serving)."""
    values = {
        m: modalities.modality_of(m).batch([row.values.get(m) for row in rows], prep)
        for m in names
    }
    present = {m: np.array([row.present(m) for row in rows], np.float32) for m in names}
    return model_inputs(names, values, present)


def dataset_columns(
    data: Dataset, indices: np.ndarray, names: Sequence[str], prep: PrepConfig | None = None,
    *, skip: Sequence[str] = (),
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The (values, present) of :func:`model_inputs` for example positions of a dataset,
    leaving out the values of ``skip`` (modalities whose features are cached). A modality
    the data lacks is absent in every row, shaped by ``prep`` (default: the data's)."""
    values = {m: data.values(m, indices, prep) for m in names if m not in skip}
    present = {m: data.present(m, indices) for m in names}
    return values, present


def dataset_inputs(
    data: Dataset, indices: np.ndarray, names: Sequence[str], prep: PrepConfig | None = None
) -> dict:
    """Input dict for the given example positions of a prepared dataset."""
    return model_inputs(names, *dataset_columns(data, indices, names, prep))


def input_spec(names: Sequence[str], prep: PrepConfig, *, skip: Sequence[str] = ()) -> dict:
    """The ``tf.TensorSpec`` of each model input (but ``skip``), for ``tf.data`` generators."""
    spec = {PRESENT: tf.TensorSpec((None, len(names)), tf.float32)}
    for name in names:
        if name not in skip:
            shape, dtype = modalities.modality_of(name).input_spec(prep)
            spec[name] = tf.TensorSpec((None, *shape), tf.dtypes.as_dtype(dtype))
    return spec


def iter_batches(
    data: Dataset, indices: np.ndarray, names: Sequence[str], batch_size: int,
    prep: PrepConfig | None = None,
) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield (positions, inputs) batches in order: bounded memory for any dataset size."""
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        yield chunk, dataset_inputs(data, chunk, names, prep)


def seeded_stream(
    make_inputs: Callable[[np.ndarray], dict],
    spec: dict,
    indices: np.ndarray,
    targets: np.ndarray,
    batch_size: int,
    *,
    shuffle_seed: int | None,
    first_epoch: int = 0,
):
    """A ``tf.data.Dataset`` of ``(make_inputs(rows), targets)`` batches over ``indices``.

    With ``shuffle_seed`` the order is reshuffled every epoch, from a generator seeded by
    (seed, epoch): the same seed gives the same batches. ``first_epoch`` is the epoch the
    stream starts at (a resumed run). ``targets`` are int32, aligned with ``indices``.
    """
    epoch = {"n": first_epoch}

    def generate():
        order = np.arange(len(indices))
        if shuffle_seed is not None:
            np.random.default_rng([shuffle_seed, epoch["n"]]).shuffle(order)
            epoch["n"] += 1
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            yield make_inputs(indices[chosen]), targets[chosen]

    target_spec = tf.TensorSpec((None,), tf.int32)
    stream = tf.data.Dataset.from_generator(generate, output_signature=(spec, target_spec))
    batches = -(-len(indices) // batch_size)
    return stream.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(2)


def training_stream(
    data: Dataset,
    indices: np.ndarray,
    targets: np.ndarray,
    names: Sequence[str],
    batch_size: int,
    *,
    shuffle_seed: int | None,
    first_epoch: int = 0,
    prep: PrepConfig | None = None,
):
    """A seeded stream of (inputs, targets) batches read from the memory-mapped dataset."""
    prep = prep or data.schema.prep
    return seeded_stream(
        lambda rows: dataset_inputs(data, rows, names, prep), input_spec(names, prep),
        indices, targets, batch_size, shuffle_seed=shuffle_seed, first_epoch=first_epoch,
    )
