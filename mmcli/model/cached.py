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

from mmcli import modality
from mmcli.model.backend import import_keras
from mmcli.model.feed import dataset_columns, input_spec, model_inputs

if TYPE_CHECKING:
    from mmcli.data.dataset import Dataset

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

FEATURE_BATCH = 64


def compute_features(
    extractor, data: Dataset, indices: np.ndarray, name: str = modality.IMAGE
) -> np.ndarray:
    """Backbone features ``(len(indices), F)`` of an image modality's rows, in order."""
    parts = [
        np.asarray(
            extractor.predict_on_batch(data.images(indices[i : i + FEATURE_BATCH], name))
        )
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
        indices = np.asarray(indices)
        self.position = {int(row): i for i, row in enumerate(indices)}
        self.features = {
            modality.features_key(name): compute_features(extractor, data, indices, name)
            for name in modality.of_kind(self.modalities, modality.IMAGE)
        }
        self.values, self.present = dataset_columns(data, indices, self.modalities, images=False)
        self.values = {k: np.asarray(v, dtype=object) for k, v in self.values.items()}

    def inputs(self, rows: np.ndarray) -> dict:
        """The head's input dict for dataset rows (which must have been cached)."""
        at = np.array([self.position[int(r)] for r in rows], dtype=np.int64)
        inputs = model_inputs(
            self.modalities,
            {k: v[at] for k, v in self.values.items()},
            {k: v[at] for k, v in self.present.items()},
        )
        for key, features in self.features.items():
            inputs[key] = features[at]
        return inputs

    def batches(
        self, indices: np.ndarray, batch_size: int
    ) -> Iterator[tuple[np.ndarray, dict]]:
        """Like :func:`mmcli.model.feed.iter_batches`, from the cache."""
        for start in range(0, len(indices), batch_size):
            chunk = indices[start : start + batch_size]
            yield chunk, self.inputs(chunk)

    def stream(
        self, indices: np.ndarray, targets: np.ndarray, batch_size: int, *,
        shuffle_seed: int | None, first_epoch: int = 0,
    ):
        """A ``tf.data.Dataset`` of (inputs, targets) batches, reshuffled each epoch from
        (seed, epoch) as :func:`mmcli.model.feed.training_stream` does; ``first_epoch`` is the
        epoch the stream starts at (a resumed run)."""
        epoch = {"n": first_epoch}

        def generate():
            order = np.arange(len(indices))
            if shuffle_seed is not None:
                np.random.default_rng([shuffle_seed, epoch["n"]]).shuffle(order)
                epoch["n"] += 1
            for start in range(0, len(order), batch_size):
                chosen = order[start : start + batch_size]
                yield self.inputs(indices[chosen]), targets[chosen]

        spec = {
            key: value
            for key, value in input_spec(self.modalities, 1).items()
            if key == "present" or modality.kind(key) == modality.TEXT
        }
        for key, features in self.features.items():
            spec[key] = tf.TensorSpec((None, features.shape[1]), tf.float32)
        stream = tf.data.Dataset.from_generator(
            generate, output_signature=(spec, tf.TensorSpec((None,), tf.int32))
        )
        batches = -(-len(indices) // batch_size)
        return stream.apply(tf.data.experimental.assert_cardinality(batches)).prefetch(2)
