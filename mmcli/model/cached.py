"""Training on cached features of a frozen image backbone.

A frozen backbone gives the same features every epoch, so they are computed once per
training run (one pass over the training and validation images) and the rest of the
model (:attr:`mmcli.model.build.Built.head`) trains on them: epochs take seconds. The
saved model is still the full one, taking raw images.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mmcli.model.backend import import_keras
from mmcli.model.feed import model_inputs
from mmcli.model.image_encoders import FEATURES_LAYER

if TYPE_CHECKING:
    from mmcli.data.dataset import Dataset

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

FEATURE_BATCH = 64


def compute_features(extractor, data: Dataset, indices: np.ndarray) -> np.ndarray:
    """Backbone features ``(len(indices), F)`` for the given rows, in order."""
    parts = [
        np.asarray(extractor.predict_on_batch(data.images(indices[i : i + FEATURE_BATCH])))
        for i in range(0, len(indices), FEATURE_BATCH)
    ]
    width = extractor.output_shape[-1]
    return np.concatenate(parts) if parts else np.zeros((0, width), np.float32)


class FeatureCache:
    """Head-model inputs for a set of rows: cached image features, texts and presence.

    Args:
        extractor: the ``features`` model of :class:`mmcli.model.build.Built`.
        data: the prepared dataset.
        indices: the rows (positions in ``data``) to cache.
        modalities: the model's modalities, in order.
    """

    def __init__(self, extractor, data: Dataset, indices: np.ndarray, modalities: Sequence[str]):
        self.modalities = list(modalities)
        self.position = {int(row): i for i, row in enumerate(indices)}
        self.features = compute_features(extractor, data, np.asarray(indices))
        frame = data.examples
        self.texts = frame["text"].to_numpy()[indices]
        self.image_present = frame["image_present"].to_numpy()[indices].astype(np.float32)
        self.text_present = frame["text_present"].to_numpy()[indices].astype(np.float32)

    def inputs(self, rows: np.ndarray) -> dict:
        """The head's input dict for dataset rows (which must have been cached)."""
        at = np.array([self.position[int(r)] for r in rows], dtype=np.int64)
        inputs = model_inputs(
            self.modalities,
            None,
            self.texts[at].tolist(),
            self.image_present[at],
            self.text_present[at],
        )
        inputs.pop("image", None)
        inputs[FEATURES_LAYER] = self.features[at]
        if "text" not in self.modalities:
            inputs.pop("text", None)
        return inputs

    def batches(
        self, indices: np.ndarray, batch_size: int
    ) -> Iterator[tuple[np.ndarray, dict]]:
        """Like :func:`mmcli.model.feed.iter_batches`, from the cache."""
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            yield chunk, self.inputs(chunk)

    def stream(
        self, indices: np.ndarray, targets: np.ndarray, batch_size: int, *, shuffle_seed: int | None
    ):
        """A ``tf.data.Dataset`` of (inputs, targets) batches, reshuffled each epoch from
        (seed, epoch) as :func:`mmcli.model.feed.training_stream` does."""
        epoch = {"n": 0}

        def generate():
            order = np.arange(len(indices))
            if shuffle_seed is not None:
                np.random.default_rng([shuffle_seed, epoch["n"]]).shuffle(order)
                epoch["n"] += 1
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                yield self.inputs(indices[chosen]), targets[chosen]

        spec = {
            "present": tf.TensorSpec((None, len(self.modalities)), tf.float32),
            FEATURES_LAYER: tf.TensorSpec((None, self.features.shape[1]), tf.float32),
        }
        if "text" in self.modalities:
            spec["text"] = tf.TensorSpec((None,), tf.string)
        stream = tf.data.Dataset.from_generator(
            generate, output_signature=(spec, tf.TensorSpec((None,), tf.int32))
        )
        batches = -(-len(indices) // batch_size)
        return stream.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(2)
