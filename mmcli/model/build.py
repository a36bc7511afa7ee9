"""Assemble the fused model: an input and an encoder per modality, the modality mask, a fusion
(:data:`mmcli.registry.FUSIONS`), the head.

What each modality's input and encoder are is its kind's business (:mod:`mmcli.modalities`);
this module only wires them. A kind may provide a shared feature extractor (a Keras
applications backbone for images): one nested model for all modalities of the kind, and when
it is frozen the model is built as two halves so that training computes its features once.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmcli import modalities, registry
from mmcli.config import ModelConfig, PrepConfig
from mmcli.model.backend import import_keras
from mmcli.model.feed import PRESENT
from mmcli.model.fusions import FUSION_LAYER, OUTPUT_LAYER, head
from mmcli.model.layers import ModalityMask

keras = import_keras()

HEAD_MODEL = "mmcli_head"  # features + other inputs -> probabilities (nested model)
AUX_PREFIX = "aux_"  # aux_<modality>: a modality's own head, in the training model only


def model_side(kind: str):
    """The module holding a kind's encoder (:attr:`mmcli.modalities.base.Modality.encoders`)."""
    return importlib.import_module(modalities.get(kind).encoders)


def extractor_name(kind: str) -> str:
    """The nested model holding a kind's shared extractor (``mmcli_features`` for images,
    the name bundles have always used)."""
    return "mmcli_features" if kind == "image" else f"mmcli_{kind}_features"


@dataclass(frozen=True)
class Built:
    """The model to save and, when extractors are frozen, the two halves training uses.

    ``extractors`` maps each modality whose features are computed once to its frozen
    extractor (several modalities of a kind share one); ``head`` takes those features (inputs
    ``<m>_features``) with the other inputs. ``model`` is the two nested one after the other,
    so training ``head`` trains ``model``, and the saved model still takes raw inputs.
    """

    model: Any
    extractors: dict[str, Any] = field(default_factory=dict)
    head: Any = None
    head_weights: Any = None  # like fusion_weights_model(model), over the head's inputs
    fit: Mapping[str, Any] = field(default_factory=dict)  # what each encoder learnt first
    trainer: Any = None  # the trained half with each modality's auxiliary head as outputs

    @property
    def trainable(self):
        """The model ``fit`` trains: the trainer when there are auxiliary heads, else the
        head (frozen extractors) or the whole model. Its weights are the saved model's."""
        if self.trainer is not None:
            return self.trainer
        return self.head if self.head is not None else self.model


def build(
    names: Sequence[str],
    config: ModelConfig,
    prep: PrepConfig,
    *,
    num_classes: int,
    fit: Mapping[str, Any],
    seed: int,
    activation: str = "softmax",
) -> Built:
    """Build the (uncompiled) fused classifier.

    Inputs (a dict): one per modality, shaped and typed by its kind (e.g. an image uint8
    ``(S, S, 3)``, a text a string scalar), and ``present`` float ``(M,)`` with 1.0 for each
    modality present, in ``names`` order.

    Args:
        names: the model's modalities in order, e.g. ``("image", "text")``.
        config: encoder and fusion choices.
        prep: the preparation settings (input shapes).
        num_classes: the number of outputs.
        fit: what each modality's encoder learns from first (a text vocabulary's texts),
            by modality (see :meth:`mmcli.modalities.base.Modality.fit_values`).
        seed: seed for initialization, dropout and augmentation.
        activation: the output activation (``softmax``, ``sigmoid``).

    Returns:
        A :class:`Built`: the ``keras.Model`` giving the outputs, plus its frozen extractors
        and head when some extractor is frozen.

    Raises:
        WeightsUnavailableError, UsageError: pretrained weights that cannot be had.
    """
    inputs = {}
    for name in names:
        shape, dtype = modalities.modality_of(name).input_spec(prep)
        inputs[name] = keras.Input(shape, dtype=dtype, name=name)
    inputs[PRESENT] = keras.Input((len(names),), dtype="float32", name=PRESENT)
    args = (names, config, num_classes, fit, seed, activation)
    shared, frozen = _extractors(names, inputs, config)
    if not frozen:
        output, aux = _fused(inputs, shared, *args)
        model = keras.Model(inputs, output, name="mmcli_fused")
        return Built(model, trainer=_trainer(inputs, output, aux))
    head_inputs = {k: v for k, v in inputs.items() if k not in frozen}
    for name, extractor in frozen.items():
        key = modalities.features_key(name)
        head_inputs[key] = keras.Input((extractor.output_shape[-1],), dtype="float32", name=key)
    output, aux = _fused(head_inputs, shared, *args)
    head_model = keras.Model(head_inputs, output, name=HEAD_MODEL)
    joined = through_extractors(inputs, frozen)
    model = keras.Model(inputs, head_model(joined), name="mmcli_fused")
    return Built(model, frozen, head_model, fusion_weights_model(head_model),
                 trainer=_trainer(head_inputs, output, aux))


def _trainer(inputs: dict, output, aux: dict):
    """The model training fits when there are auxiliary heads: the same layers, the fused
    output under ``probabilities`` and each modality's own output under ``aux_<m>``. Only
    the model without them is saved, so inference never sees the auxiliary heads."""
    if not aux:
        return None
    return keras.Model(inputs, {OUTPUT_LAYER: output, **aux}, name="mmcli_trainer")


def _extractors(names, inputs, config: ModelConfig) -> tuple[dict, dict]:
    """Each modality with a shared extractor: (fine-tuned ones, frozen ones)."""
    shared, frozen = {}, {}
    for kind in dict.fromkeys(modalities.kind_of(m) for m in names):
        members = modalities.of_kind(names, kind)
        extract = getattr(model_side(kind), "extractor", None)
        made = extract(config, inputs[members[0]], len(members)) if extract else None
        if made is None:
            continue
        features, is_frozen = made
        extractor = keras.Model(inputs[members[0]], features, name=extractor_name(kind))
        for name in members:
            (frozen if is_frozen else shared)[name] = extractor
    return shared, frozen


def _fused(inputs: dict, shared: Mapping[str, Any], names, config: ModelConfig,
           num_classes: int, fit, seed: int, activation: str = "softmax"):
    """Encoders, modality mask, fusion and head over ``inputs`` (a modality as its raw input,
    or as frozen features under ``<m>_features``); ``shared`` maps modalities to fine-tuned
    shared extractors.

    Returns ``(output, aux)``: the fused output and, with several modalities and a positive
    ``aux_loss_weight``, each modality's auxiliary output by name ``aux_<m>``: a dense layer
    with the task's activation over the modality's embedding (before the mask), so every
    encoder is trained to classify on its own whatever the fusion does with it."""
    layers = keras.layers
    embeddings = []
    counts: dict[str, int] = {}
    for name in names:
        kind = modalities.kind_of(name)
        impl = model_side(kind)
        at = seed + 100 * counts.get(kind, 0)  # the first of a kind keeps its seeds
        counts[kind] = counts.get(kind, 0) + 1
        key = modalities.features_key(name)
        if key in inputs:
            embeddings.append(impl.encode_features(inputs[key], config, at, name))
        elif name in shared:
            embeddings.append(impl.encode_features(shared[name](inputs[name]), config, at, name))
        else:
            embeddings.append(impl.encode(inputs[name], config, at, name, fit.get(name)))
    stacked = (
        layers.Concatenate(axis=1, name="stack")(
            [layers.Reshape((1, config.embed_dim))(e) for e in embeddings]
        )
        if len(embeddings) > 1
        else layers.Reshape((1, config.embed_dim), name="stack")(embeddings[0])
    )
    tokens, present = ModalityMask(
        rate=config.modality_dropout, seed=seed + 4, name="modality_mask"
    )([stacked, inputs[PRESENT]])
    if len(embeddings) == 1:  # one modality: nothing to fuse
        flat = layers.Flatten(name=FUSION_LAYER)(tokens)
        return head(flat, config, num_classes, seed, activation), {}
    fusion = registry.load(registry.FUSIONS, config.fusion)
    output = fusion(tokens, present, config, num_classes, seed, activation)
    if config.aux_loss_weight <= 0:
        return output, {}
    aux = {
        f"{AUX_PREFIX}{name}": layers.Dense(num_classes, activation=activation,
                                            name=f"{AUX_PREFIX}{name}")(embedding)
        for name, embedding in zip(names, embeddings, strict=True)
    }
    return output, aux


def through_extractors(inputs: dict, extractors: Mapping[str, Any]) -> dict:
    """``inputs`` with each extracted modality replaced by its features (``<m>_features``),
    as the head takes them."""
    joined = {k: v for k, v in inputs.items() if k not in extractors}
    for name, extractor in extractors.items():
        joined[modalities.features_key(name)] = extractor(inputs[name])
    return joined


def fusion_weights_model(model):
    """A model giving the fusion's per-row modality weights ``(batch, M)``, or None when the
    fusion has none. Works on a flat model and on one whose head is nested (frozen
    extractors), as built or as loaded."""
    names = {layer.name for layer in model.layers}
    if HEAD_MODEL in names:
        inner = fusion_weights_model(model.get_layer(HEAD_MODEL))
        if inner is None:
            return None
        inputs = {t.name: t for t in model.inputs}
        wanted = {t.name for t in model.get_layer(HEAD_MODEL).inputs}
        extractors = {
            m: model.get_layer(extractor_name(modalities.kind_of(m)))
            for m in inputs if modalities.features_key(m) in wanted
        }
        return keras.Model(inputs, inner(through_extractors(inputs, extractors)))
    if FUSION_LAYER not in names:
        return None
    output = model.get_layer(FUSION_LAYER).output
    if not isinstance(output, (list, tuple)) or len(output) != 2:
        return None  # a fusion without weights (concat, or a single modality)
    return keras.Model(model.inputs, output[1])
