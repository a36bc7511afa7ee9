"""Assemble the fused model: inputs, encoders, modality mask, fusion, softmax head."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mmcli import modality
from mmcli.config import ModelConfig
from mmcli.model.backend import import_keras
from mmcli.model.encoders import IMAGE_ENCODERS, TEXT_ENCODERS
from mmcli.model.image_encoders import BACKBONES, backbone_features, project_features
from mmcli.model.layers import AttentionFusion, GatedFusion, LateFusion, ModalityMask

keras = import_keras()

FUSION_LAYER = "fusion"
OUTPUT_LAYER = "probabilities"
EXTRACTOR_MODEL = "mmcli_features"  # image -> frozen backbone features (nested model)
HEAD_MODEL = "mmcli_head"  # features + other inputs -> probabilities (nested model)


@dataclass(frozen=True)
class Built:
    """The model to save, and for a frozen backbone the two halves training uses.

    ``features`` maps the ``image`` input to the backbone's pooled features; ``head`` takes
    those features (input ``image_features``) with the other inputs. ``model`` is the two
    nested one after the other, so training ``head`` trains ``model``, and the saved model
    still takes raw images.
    """

    model: Any
    features: Any = None
    head: Any = None
    head_weights: Any = None  # like fusion_weights_model(model), over the head's inputs


def gated(
    tokens, present, config: ModelConfig, num_classes: int, seed: int, activation: str = "softmax"
):
    fused, _ = GatedFusion(name=FUSION_LAYER)(tokens)
    return _softmax_head(fused, config, num_classes, seed, activation)


def attention(
    tokens, present, config: ModelConfig, num_classes: int, seed: int, activation: str = "softmax"
):
    fused, _ = AttentionFusion(num_heads=2, name=FUSION_LAYER)(tokens)
    return _softmax_head(fused, config, num_classes, seed, activation)


def concat(
    tokens, present, config: ModelConfig, num_classes: int, seed: int, activation: str = "softmax"
):
    fused = keras.layers.Flatten(name=FUSION_LAYER)(tokens)
    fused = keras.layers.Dense(config.embed_dim, activation="relu", name="fusion_dense")(fused)
    return _softmax_head(fused, config, num_classes, seed, activation)


def late(
    tokens, present, config: ModelConfig, num_classes: int, seed: int, activation: str = "softmax"
):
    tokens = keras.layers.Dropout(config.dropout, seed=seed + 5, name="head_dropout")(tokens)
    logits, _ = LateFusion(num_classes, name=FUSION_LAYER)([tokens, present])
    return keras.layers.Activation(activation, name=OUTPUT_LAYER)(logits)


def _softmax_head(fused, config: ModelConfig, num_classes: int, seed: int, activation="softmax"):
    fused = keras.layers.Dropout(config.dropout, seed=seed + 5, name="head_dropout")(fused)
    return keras.layers.Dense(num_classes, activation=activation, name=OUTPUT_LAYER)(fused)


FUSIONS = {"gated": gated, "late": late, "attention": attention, "concat": concat}


def build_model(modalities: Sequence[str], config: ModelConfig, **kwargs):
    """The (uncompiled) fused classifier; see :func:`build` for the arguments."""
    return build(modalities, config, **kwargs).model


def build(
    modalities: Sequence[str],
    config: ModelConfig,
    *,
    num_classes: int,
    image_size: int,
    texts: Sequence[str] | Mapping[str, Sequence[str]],
    seed: int,
    activation: str = "softmax",
) -> Built:
    """Build the (uncompiled) fused classifier.

    Inputs (a dict), one per modality (:mod:`mmcli.modality`): each image modality uint8
    ``(S, S, 3)``, each text modality a string scalar; and ``present`` float ``(M,)`` with
    1.0 for each modality present, in ``modalities`` order. Each modality gets its own
    encoder, except that several image modalities share one applications backbone (each
    with its own projection).

    Args:
        modalities: the modalities this model sees, e.g. ``("image", "text")``.
        config: encoder and fusion choices.
        num_classes: the number of labels.
        image_size: the side of the square input images.
        texts: the training texts each text modality learns its vocabulary from (a plain
            sequence: those of ``text``).
        seed: seed for initialization, dropout and augmentation.

    Returns:
        A :class:`Built`: the ``keras.Model`` giving class probabilities, plus its frozen
        feature extractor and head when the image backbone is frozen.

    Raises:
        WeightsUnavailableError, UsageError: backbone weights that cannot be had.
    """
    if not isinstance(texts, Mapping):
        texts = {modality.TEXT: texts}
    images = modality.of_kind(modalities, modality.IMAGE)
    inputs = {}
    for name in modalities:
        if name in images:
            inputs[name] = keras.Input((image_size, image_size, 3), dtype="uint8", name=name)
        else:
            inputs[name] = keras.Input((), dtype="string", name=name)
    inputs["present"] = keras.Input((len(modalities),), dtype="float32", name="present")
    args = (modalities, config, num_classes, texts, seed, activation)
    frozen = frozen_backbone(modalities, config)
    shared = frozen or (len(images) > 1 and config.image_encoder in BACKBONES)
    if not shared:
        return Built(keras.Model(inputs, _fused(inputs, *args), name="mmcli_fused"))
    features = backbone_features(config.image_encoder, inputs[images[0]], config)
    extractor = keras.Model(inputs[images[0]], features, name=EXTRACTOR_MODEL)
    joined = through_extractor(inputs, images, extractor)
    if not frozen:  # several image inputs fine-tuning one shared backbone
        return Built(keras.Model(inputs, _fused(joined, *args), name="mmcli_fused"))
    head_inputs = {k: v for k, v in inputs.items() if k not in images}
    for name in images:
        key = modality.features_key(name)
        head_inputs[key] = keras.Input((features.shape[-1],), dtype="float32", name=key)
    head = keras.Model(head_inputs, _fused(head_inputs, *args), name=HEAD_MODEL)
    model = keras.Model(inputs, head(joined), name="mmcli_fused")
    return Built(model, extractor, head, fusion_weights_model(head))


def _fused(
    inputs: dict, modalities, config: ModelConfig, num_classes: int, texts, seed: int,
    activation: str = "softmax",
):
    """Encoders, modality mask, fusion and head over ``inputs`` (an image as raw pixels, or
    as backbone features under ``<modality>_features``)."""
    layers = keras.layers
    embeddings = []
    counts = {modality.IMAGE: 0, modality.TEXT: 0}
    for name in modalities:
        kind = modality.kind(name)
        at = seed + 100 * counts[kind]  # the first of a kind keeps the seeds it always had
        counts[kind] += 1
        key = modality.features_key(name)
        if key in inputs:
            embeddings.append(project_features(inputs[key], config, at, name))
        elif kind == modality.IMAGE:
            embeddings.append(IMAGE_ENCODERS[config.image_encoder](inputs[name], config, at, name))
        else:
            embeddings.append(
                TEXT_ENCODERS[config.text_encoder](inputs[name], config, at, texts[name], name)
            )
    stacked = (
        layers.Concatenate(axis=1, name="stack")(
            [layers.Reshape((1, config.embed_dim))(e) for e in embeddings]
        )
        if len(embeddings) > 1
        else layers.Reshape((1, config.embed_dim), name="stack")(embeddings[0])
    )
    tokens, present = ModalityMask(
        rate=config.modality_dropout, seed=seed + 4, name="modality_mask"
    )([stacked, inputs["present"]])
    if len(embeddings) == 1:  # one modality: nothing to fuse
        flat = layers.Flatten(name=FUSION_LAYER)(tokens)
        return _softmax_head(flat, config, num_classes, seed, activation)
    return FUSIONS[config.fusion](tokens, present, config, num_classes, seed, activation)


def through_extractor(inputs: dict, images: Sequence[str], extractor) -> dict:
    """``inputs`` with each image modality replaced by its backbone features
    (``<modality>_features``), as the head takes them."""
    joined = {k: v for k, v in inputs.items() if k not in images}
    for name in images:
        joined[modality.features_key(name)] = extractor(inputs[name])
    return joined


def frozen_backbone(modalities: Sequence[str], config: ModelConfig) -> bool:
    """Whether the image branch is a frozen applications backbone (its features are cached)."""
    return (
        bool(modality.of_kind(modalities, modality.IMAGE))
        and config.image_encoder in BACKBONES
        and config.freeze_backbone
    )


def fusion_weights_model(model):
    """A model giving the fusion's per-row modality weights, or None when it has none.

    Works on a flat model and on one whose head is nested (frozen backbone)."""
    names = {layer.name for layer in model.layers}
    if HEAD_MODEL in names:
        inner = fusion_weights_model(model.get_layer(HEAD_MODEL))
        if inner is None:
            return None
        inputs = {t.name: t for t in model.inputs}
        images = modality.of_kind([k for k in inputs if k != "present"], modality.IMAGE)
        joined = through_extractor(inputs, images, model.get_layer(EXTRACTOR_MODEL))
        return keras.Model(inputs, inner(joined))
    if FUSION_LAYER not in names:
        return None
    layer = model.get_layer(FUSION_LAYER)
    if not _has_weights(layer):
        return None
    return keras.Model(model.inputs, layer.output[1])


def _has_weights(layer) -> bool:
    return isinstance(layer, (GatedFusion, LateFusion, AttentionFusion))
