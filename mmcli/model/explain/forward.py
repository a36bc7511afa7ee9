"""Forward passes of a loaded model for explanations: frozen extractors' features computed
once per batch, then the head run as often as masks and occlusions need.

A model saved with frozen extractors nests them (``mmcli_features``) and the rest
(``mmcli_head``, :data:`mmcli.model.build.HEAD_MODEL`); its head is called directly on the
features, so masking a modality or occluding a token never recomputes an image backbone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mmcli import modalities
from mmcli.model.build import HEAD_MODEL, extractor_name

CHUNK = 256  # rows per predict_on_batch call


class Forward:
    """Probabilities of a loaded model from raw input dicts, reusing extractor features.

    Args:
        model: the loaded fused model (raw inputs).
        names: its modalities, in input order.
    """

    def __init__(self, model, names: Sequence[str]):
        self.model = model
        self.names = list(names)
        layers = {layer.name for layer in model.layers}
        if HEAD_MODEL in layers:
            self.head = model.get_layer(HEAD_MODEL)
            wanted = {t.name for t in self.head.inputs}
            self.extractors = {
                m: model.get_layer(extractor_name(modalities.kind_of(m)))
                for m in self.names if modalities.features_key(m) in wanted
            }
        else:
            self.head, self.extractors = model, {}

    def prepare(self, inputs: dict) -> dict:
        """The head's inputs for a raw input dict: extracted modalities replaced by their
        features (``<m>_features``, float ``(rows, F)``)."""
        out = {k: v for k, v in inputs.items() if k not in self.extractors}
        for name in self.extractors:
            out[modalities.features_key(name)] = self.features(name, inputs[name])
        return out

    def features(self, name: str, values) -> np.ndarray:
        """An extracted modality's features ``(rows, F)`` of its raw values."""
        extractor = self.extractors[name]
        if not len(values):
            return np.zeros((0, extractor.output_shape[-1]), np.float32)
        return np.concatenate([np.asarray(extractor.predict_on_batch(values[i:i + CHUNK]))
                               for i in range(0, len(values), CHUNK)])

    def proba(self, prepared: dict) -> np.ndarray:
        """Probabilities ``(rows, outputs)`` (float64) of prepared inputs."""
        rows = len(next(iter(prepared.values())))
        parts = [
            np.asarray(self.head.predict_on_batch(
                {k: v[i:i + CHUNK] for k, v in prepared.items()}), np.float64)
            for i in range(0, rows, CHUNK)
        ]
        return np.concatenate(parts) if parts else np.zeros((0, self.head.output_shape[-1]))
