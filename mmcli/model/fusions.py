"""Fusions: from the modality tokens to the class scores. One builder per fusion, registered by
name in :data:`mmcli.registry.FUSIONS`.

A builder takes ``tokens`` ``(batch, M, embed_dim)`` (after
:class:`~mmcli.model.layers.ModalityMask`), ``present`` ``(batch, M)``, the model config, the
number of outputs, the seed and the output activation, and returns the output tensor (layer
``probabilities``). A weighted fusion names its fusion layer ``fusion`` and makes it return
``(fused, weights)`` with weights ``(batch, M)``: mmcli reports their mean as
``fusion_weights``.
"""

from __future__ import annotations

from mmcli.config import ModelConfig
from mmcli.model.backend import import_keras
from mmcli.model.layers import AttentionFusion, GatedFusion, LateFusion

keras = import_keras()

FUSION_LAYER = "fusion"
OUTPUT_LAYER = "probabilities"


def gated(tokens, present, config: ModelConfig, num_classes: int, seed: int,
          activation: str = "softmax"):
    """A per-row softmax gate over the modality tokens (:class:`GatedFusion`), then the head."""
    fused, _ = GatedFusion(name=FUSION_LAYER)(tokens)
    return head(fused, config, num_classes, seed, activation)


def attention(tokens, present, config: ModelConfig, num_classes: int, seed: int,
              activation: str = "softmax"):
    """Cross-modal self-attention pooled by a learned query (:class:`AttentionFusion`)."""
    fused, _ = AttentionFusion(num_heads=2, name=FUSION_LAYER)(tokens)
    return head(fused, config, num_classes, seed, activation)


def concat(tokens, present, config: ModelConfig, num_classes: int, seed: int,
           activation: str = "softmax"):
    """The tokens flattened, a dense layer, then the head."""
    fused = keras.layers.Flatten(name=FUSION_LAYER)(tokens)
    fused = keras.layers.Dense(config.embed_dim, activation="relu", name="fusion_dense")(fused)
    return head(fused, config, num_classes, seed, activation)


def late(tokens, present, config: ModelConfig, num_classes: int, seed: int,
         activation: str = "softmax"):
    """A linear classifier per modality; logits mixed by learned weights over the modalities
    present in the row (:class:`LateFusion`)."""
    tokens = keras.layers.Dropout(config.dropout, seed=seed + 5, name="head_dropout")(tokens)
    logits, _ = LateFusion(num_classes, name=FUSION_LAYER)([tokens, present])
    return keras.layers.Activation(activation, name=OUTPUT_LAYER)(logits)


def head(fused, config: ModelConfig, num_classes: int, seed: int, activation: str = "softmax"):
    """Dropout and the dense output layer (``probabilities``)."""
    fused = keras.layers.Dropout(config.dropout, seed=seed + 5, name="head_dropout")(fused)
    return keras.layers.Dense(num_classes, activation=activation, name=OUTPUT_LAYER)(fused)
