"""Assemble the fused model: inputs, encoders, modality mask, fusion, softmax head."""

from __future__ import annotations

from collections.abc import Sequence

from mmcli.config import ModelConfig
from mmcli.model.backend import import_keras
from mmcli.model.encoders import IMAGE_ENCODERS, TEXT_ENCODERS
from mmcli.model.layers import GatedFusion, ModalityMask

keras = import_keras()

FUSION_LAYER = "fusion"


def build_model(
    modalities: Sequence[str],
    config: ModelConfig,
    *,
    num_classes: int,
    image_size: int,
    texts: Sequence[str],
    seed: int,
    activation: str = "softmax",
):
    """Build the (uncompiled) fused classifier.

    Inputs (a dict): ``image`` uint8 ``(S, S, 3)`` when the image modality is used,
    ``text`` a string scalar when text is used, and ``present`` float ``(M,)``
    with 1.0 for each modality present, in ``modalities`` order.

    Args:
        modalities: the modalities this model sees, e.g. ``("image", "text")``.
        config: encoder and fusion choices.
        num_classes: the number of labels.
        image_size: the side of the square input images.
        texts: the training texts, to learn the vocabulary from.
        seed: seed for initialization, dropout and augmentation.
        activation: the head's activation: ``softmax`` (one label per row) or ``sigmoid``
            (multi-label: one independent probability per label).

    Returns:
        A ``keras.Model`` giving class probabilities.
    """
    layers = keras.layers
    inputs, embeddings = {}, []
    if "image" in modalities:
        inputs["image"] = keras.Input((image_size, image_size, 3), dtype="uint8", name="image")
        embeddings.append(IMAGE_ENCODERS[config.image_encoder](inputs["image"], config, seed))
    if "text" in modalities:
        inputs["text"] = keras.Input((), dtype="string", name="text")
        embeddings.append(TEXT_ENCODERS[config.text_encoder](inputs["text"], config, seed, texts))
    inputs["present"] = keras.Input((len(modalities),), dtype="float32", name="present")
    stacked = (
        layers.Concatenate(axis=1, name="stack")(
            [layers.Reshape((1, config.embed_dim))(e) for e in embeddings]
        )
        if len(embeddings) > 1
        else layers.Reshape((1, config.embed_dim), name="stack")(embeddings[0])
    )
    tokens, _ = ModalityMask(rate=config.modality_dropout, seed=seed + 4, name="modality_mask")(
        [stacked, inputs["present"]]
    )
    if config.fusion == "gated":
        fused, _ = GatedFusion(name=FUSION_LAYER)(tokens)
    else:
        fused = layers.Flatten(name=FUSION_LAYER)(tokens)
        fused = layers.Dense(config.embed_dim, activation="relu", name="fusion_dense")(fused)
    fused = layers.Dropout(config.dropout, seed=seed + 5, name="head_dropout")(fused)
    outputs = layers.Dense(num_classes, activation=activation, name="probabilities")(fused)
    return keras.Model(inputs, outputs, name="mmcli_fused")


def fusion_weights_model(model):
    """A model giving the gate's per-row modality weights, or None when the fusion has none."""
    layer = model.get_layer(FUSION_LAYER)
    if not isinstance(layer, GatedFusion):
        return None
    return keras.Model(model.inputs, layer.output[1])
