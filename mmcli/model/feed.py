"""Feeding the model: rows of a prepared dataset (or freshly prepared rows) to input dicts."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mmcli import modality
from mmcli.model.backend import import_keras

if TYPE_CHECKING:
    from mmcli.data.dataset import Dataset
    from mmcli.data.rows import Row

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def model_inputs(
    modalities: Sequence[str],
    values: Mapping[str, Any],
    present: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The input dict of :func:`mmcli.model.build.build` for one batch.

    ``values`` holds each modality's batch (uint8 images, or texts) under its name; one
    left out is left out of the inputs too (a frozen backbone's head takes features instead).
    ``present`` holds each modality's 0/1 flags: they become the ``present`` input, in
    ``modalities`` order.
    """
    inputs: dict[str, np.ndarray] = {}
    for name in modalities:
        if name not in values:
            continue
        if modality.kind(name) == modality.TEXT:
            inputs[name] = np.asarray(values[name], dtype=object)
        else:
            inputs[name] = values[name]
    inputs["present"] = np.stack(
        [np.asarray(present[m], np.float32) for m in modalities], axis=1
    )
    return inputs


def mask(inputs: dict[str, np.ndarray], modalities: Sequence[str], hidden: str) -> dict:
    """A copy of ``inputs`` with one modality marked absent (for ablations)."""
    present = inputs["present"].copy()
    present[:, list(modalities).index(hidden)] = 0.0
    return {**inputs, "present": present}


def rows_inputs(rows: Sequence[Row], modalities: Sequence[str], image_size: int) -> dict:
    """Input dict for rows prepared on the fly (predict, evaluate on a raw table)."""
    values: dict[str, Any] = {}
    for name in modalities:
        if modality.kind(name) == modality.IMAGE:
            images = np.zeros((len(rows), image_size, image_size, 3), np.uint8)
            for i, row in enumerate(rows):
                image = row.images.get(name)
                if image is not None:
                    images[i] = image
            values[name] = images
        else:
            values[name] = [row.texts.get(name, "") for row in rows]
    present = {m: np.array([row.present(m) for row in rows], np.float32) for m in modalities}
    return model_inputs(modalities, values, present)


def dataset_columns(
    data: Dataset, indices: np.ndarray, modalities: Sequence[str], *, images: bool = True
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The (values, present) of :func:`model_inputs` for example positions of a dataset;
    without ``images``, the image modalities' values are left out."""
    frame = data.examples
    values: dict[str, Any] = {}
    present: dict[str, np.ndarray] = {}
    for name in modalities:
        flag = modality.present_column(name)
        if flag not in frame.columns:  # the data has no column for it: masked in every row
            size = data.schema["prep"]["image_size"]
            present[name] = np.zeros(len(indices), np.float32)
            if modality.kind(name) == modality.TEXT:
                values[name] = [""] * len(indices)
            elif images:
                values[name] = np.zeros((len(indices), size, size, 3), np.uint8)
            continue
        if modality.kind(name) == modality.TEXT:
            values[name] = frame[name].to_numpy()[indices].tolist()
        elif images:
            values[name] = data.images(indices, name)
        present[name] = frame[flag].to_numpy()[indices].astype(np.float32)
    return values, present


def dataset_inputs(data: Dataset, indices: np.ndarray, modalities: Sequence[str]) -> dict:
    """Input dict for the given example positions of a prepared dataset."""
    return model_inputs(modalities, *dataset_columns(data, indices, modalities))


def input_spec(modalities: Sequence[str], image_size: int) -> dict:
    """The ``tf.TensorSpec`` of each model input, for ``tf.data`` generators."""
    spec = {"present": tf.TensorSpec((None, len(modalities)), tf.float32)}
    for name in modalities:
        if modality.kind(name) == modality.IMAGE:
            spec[name] = tf.TensorSpec((None, image_size, image_size, 3), tf.uint8)
        else:
            spec[name] = tf.TensorSpec((None,), tf.string)
    return spec


def iter_batches(
    data: Dataset, indices: np.ndarray, modalities: Sequence[str], batch_size: int
) -> Iterator[tuple[np.ndarray, dict]]:
    """Yield (positions, inputs) batches in order: bounded memory for any dataset size."""
    for start in range(0, len(indices), batch_size):
        chunk = indices[start : start + batch_size]
        yield chunk, dataset_inputs(data, chunk, modalities)


def training_stream(
    data: Dataset,
    indices: np.ndarray,
    targets: np.ndarray,
    modalities: Sequence[str],
    batch_size: int,
    *,
    shuffle_seed: int | None,
    first_epoch: int = 0,
):
    """A ``tf.data.Dataset`` of (inputs, targets) batches streamed from the memory-mapped shards.

    With ``shuffle_seed`` the order is reshuffled every epoch, from a generator seeded by
    (seed, epoch): the same seed gives the same batches. ``first_epoch`` is the epoch the
    stream starts at (a resumed run).
    """
    size = data.schema["prep"]["image_size"]
    epoch = {"n": first_epoch}

    def generate():
        order = np.arange(len(indices))
        if shuffle_seed is not None:
            np.random.default_rng([shuffle_seed, epoch["n"]]).shuffle(order)
            epoch["n"] += 1
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            yield dataset_inputs(data, indices[chosen], modalities), targets[chosen]

    spec = input_spec(modalities, size)
    target_spec = tf.TensorSpec((None,), tf.int32)
    stream = tf.data.Dataset.from_generator(generate, output_signature=(spec, target_spec))
    batches = -(-len(indices) // batch_size)
    return stream.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(2)
