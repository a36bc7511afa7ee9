"""Training on cached features of frozen extractors (e.g. a frozen image backbone).

A frozen extractor gives the same features every epoch, so they are computed once per
training run (one pass over the training and validation rows) and the rest of the model
(:attr:`mmcli.model.build.Built.head`) trains on them: epochs take seconds. The saved model
is still the full one, taking raw inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from mmcli import modalities
from mmcli.model.backend import import_keras
from mmcli.model.feed import dataset_columns, input_spec, model_inputs, seeded_stream

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.dataset import Dataset

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

FEATURE_BATCH = 64


def compute_features(extractor, data: Dataset, indices: np.ndarray, name: str,
                     prep: PrepConfig) -> np.ndarray:
    """An extractor's features ``(len(indices), F)`` of one modality's rows, in order."""
    parts = [
        np.asarray(extractor.predict_on_batch(
            data.values(name, indices[i : i + FEATURE_BATCH], prep)))
        for i in range(0, len(indices), FEATURE_BATCH)
    ]
    width = extractor.output_shape[-1]
    return np.concatenate(parts) if parts else np.zeros((0, width), np.float32)


class FeatureCache:
    """Head-model inputs for a set of rows: cached features, the other inputs and presence.

    Args:
        extractors: each modality whose features are cached, and its frozen extractor
            (:attr:`mmcli.model.build.Built.extractors`).
        data: the prepared dataset.
        indices: the rows (positions in ``data``) to cache.
        names: the model's modalities, in order.
        prep: the model's preparation settings (shapes of absent inputs).
    """

    def __init__(self, extractors: Mapping[str, object], data: Dataset, indices: np.ndarray,
                 names: Sequence[str], prep: PrepConfig):
        self.names = list(names)
        self.prep = prep
        indices = np.asarray(indices)
        self.position = {int(row): i for i, row in enumerate(indices)}
        self.features = {
            modalities.features_key(name): compute_features(model, data, indices, name, prep)
            for name, model in extractors.items()
        }
        self.skip = list(extractors)
        self.values, self.present = dataset_columns(data, indices, self.names, prep,
                                                    skip=self.skip)

    def inputs(self, rows: np.ndarray) -> dict:
        """The head's input dict for dataset rows (which must have been cached)."""
        at = np.array([self.position[int(r)] for r in rows], dtype=np.int64)
        inputs = model_inputs(
            self.names,
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
        """A seeded ``tf.data.Dataset`` of (inputs, targets) batches from the cache
        (see :func:`mmcli.model.feed.seeded_stream`)."""
        spec = input_spec(self.names, self.prep, skip=self.skip)
        for key, features in self.features.items():
            spec[key] = tf.TensorSpec((None, features.shape[1]), tf.float32)
        return seeded_stream(self.inputs, spec, indices, targets, batch_size,
                             shuffle_seed=shuffle_seed, first_epoch=first_epoch)
