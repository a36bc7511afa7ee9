"""The tabular kind's model side: raw cells in, an ``embed_dim`` vector out.

Everything learnt from the training rows lives in the model (so the bundle takes the raw
cells): :class:`~mmcli.model.layers.TabularCells` imputes each numeric column's training
median and adds a missing flag per numeric column; a ``Normalization`` layer holds the
training means and variances (a constant column's variance is recorded as 1.0); each
categorical column has a ``StringLookup`` over its training values (plus a token for
missing, and index 0 for values unseen in training) and its own ``Embedding``. The parts are
concatenated and go through two dense layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mmcli.config import ModelConfig, PrepConfig
from mmcli.modalities.tabular import TabularFit
from mmcli.model.backend import import_keras
from mmcli.model.layers import TabularCells
from mmcli.model.layers.tabular_cells import MISSING_TOKEN

keras = import_keras()


def embedding_width(values: int) -> int:
    """An embedding's width for a vocabulary of ``values`` (fast.ai's rule, capped at 16)."""
    return int(min(16, max(2, round(1.6 * values ** 0.56))))


def encode(x, config: ModelConfig, seed: int, name: str, fit: TabularFit):
    """From the ``(batch, columns)`` string input to an ``embed_dim`` vector."""
    layers = keras.layers
    outputs = TabularCells([f.median for f in fit.numeric], name=f"{name}_cells")(x)
    numbers, missing, categories = outputs[0], outputs[1], outputs[2:]
    parts = []
    if fit.numeric:
        parts.append(layers.Normalization(
            mean=[f.mean for f in fit.numeric], variance=[f.variance for f in fit.numeric],
            name=f"{name}_normalize")(numbers))
        parts.append(missing)
    for j, (column, cells) in enumerate(zip(fit.categorical, categories, strict=True)):
        vocabulary = [*column.vocabulary, MISSING_TOKEN]
        ids = layers.StringLookup(vocabulary=vocabulary, num_oov_indices=1,
                                  name=f"{name}_lookup_{j}")(cells)
        vectors = layers.Embedding(len(vocabulary) + 1, embedding_width(len(vocabulary)),
                                   name=f"{name}_embedding_{j}")(ids)
        parts.append(layers.Flatten(name=f"{name}_flatten_{j}")(vectors))
    joined = parts[0] if len(parts) == 1 else layers.Concatenate(name=f"{name}_concat")(parts)
    hidden = layers.Dense(2 * config.embed_dim, activation="relu", name=f"{name}_hidden")(joined)
    hidden = layers.Dropout(config.dropout, seed=seed + 3, name=f"{name}_dropout")(hidden)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{name}_embed")(hidden)


def input_report(model, name: str, values: np.ndarray, prep: PrepConfig) -> dict[str, Any]:
    """How rows' cells compare with what the model learnt: ``unseen_categories``, per
    categorical column the number of non-empty cells outside its training vocabulary (they
    went to the out-of-vocabulary bucket)."""
    numeric, categorical = prep.numeric_col or (), prep.category_col or ()
    counts = {}
    for j, column in enumerate(categorical):
        known = set(_layer(model, f"{name}_lookup_{j}").get_vocabulary())
        cells = [str(v).strip() for v in np.asarray(values)[:, len(numeric) + j]]
        counts[column] = sum(1 for v in cells if v and v not in known)
    return {"unseen_categories": counts} if categorical else {}


def vocabularies(model, name: str, prep: PrepConfig) -> tuple[frozenset[str], ...]:
    """Per categorical column of the tabular modality ``name``, the values the model learnt
    (a cell outside goes to the out-of-vocabulary bucket)."""
    return tuple(frozenset(_layer(model, f"{name}_lookup_{j}").get_vocabulary())
                 for j in range(len(prep.category_col or ())))


def _layer(model, layer_name: str):
    """A layer by name, looked for in nested models too (the head of frozen extractors)."""
    for layer in model.layers:
        if layer.name == layer_name:
            return layer
        if hasattr(layer, "layers"):
            try:
                return _layer(layer, layer_name)
            except KeyError:
                continue
    raise KeyError(layer_name)
