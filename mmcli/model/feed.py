"""Feeding the model: rows of a prepared dataset (or freshly prepared rows) to input dicts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mmcli.model.backend import import_keras

if TYPE_CHECKING:
    from mmcli.data.dataset import Dataset
    from mmcli.data.rows import Row

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def model_inputs(
    modalities: Sequence[str],
    images: np.ndarray | None,
    texts: Sequence[str],
    image_present: np.ndarray,
    text_present: np.ndarray,
) -> dict[str, np.ndarray]:
    """The input dict of :func:`mmcli.model.build.build_model` for one batch."""
    inputs: dict[str, np.ndarray] = {}
    present = []
    if "image" in modalities:
        inputs["image"] = images
        present.append(image_present)
    if "text" in modalities:
        inputs["text"] = np.asarray(texts, dtype=object)
        present.append(text_present)
    inputs["present"] = np.stack(present, axis=1).astype(np.float32)
    return inputs


def mask(inputs: dict[str, np.ndarray], modalities: Sequence[str], hidden: str) -> dict:
    """A copy of ``inputs`` with one modality marked absent (for ablations)."""
    present = inputs["present"].copy()
    present[:, list(modalities).index(hidden)] = 0.0
    return {**inputs, "present": present}


def rows_inputs(rows: Sequence[Row], modalities: Sequence[str], image_size: int) -> dict:
    """Input dict for rows prepared on the fly (predict, evaluate on a raw table)."""
    images = np.zeros((len(rows), image_size, image_size, 3), np.uint8)
    for i, row in enumerate(rows):
        if row.image is not None:
            images[i] = row.image
    return model_inputs(
        modalities,
        images,
        [r.text for r in rows],
        np.array([r.image_present for r in rows], np.float32),
        np.array([r.text_present for r in rows], np.float32),
    )


def dataset_inputs(data: Dataset, indices: np.ndarray, modalities: Sequence[str]) -> dict:
    """Input dict for the given example positions of a prepared dataset."""
    frame = data.examples
    return model_inputs(
        modalities,
        data.images(indices) if "image" in modalities else None,
        frame["text"].to_numpy()[indices].tolist(),
        frame["image_present"].to_numpy()[indices].astype(np.float32),
        frame["text_present"].to_numpy()[indices].astype(np.float32),
    )


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

    spec = {"present": tf.TensorSpec((None, len(modalities)), tf.float32)}
    if "image" in modalities:
        spec["image"] = tf.TensorSpec((None, size, size, 3), tf.uint8)
    if "text" in modalities:
        spec["text"] = tf.TensorSpec((None,), tf.string)
    target_spec = tf.TensorSpec((None,), tf.int32)
    stream = tf.data.Dataset.from_generator(generate, output_signature=(spec, target_spec))
    batches = -(-len(indices) // batch_size)
    return stream.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(2)
