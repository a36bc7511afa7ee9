"""The model's choosable parts by name: encoders per kind and fusions.

Light on purpose (no TensorFlow): the config validates choices against these tables and the
CLI lists them in its help, while the builders are imported only when a model is built
(:func:`load`). Adding an encoder or a fusion is its builder function in its module plus one
line here.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mmcli.errors import UsageError


@dataclass(frozen=True)
class Entry:
    """One choice: where its builder lives (``module:attribute``) and one line for the help.

    ``weighted``: for a fusion, whether it learns per-modality weights that mmcli reports
    (``fusion_weights``); its builder then returns ``(output, weights)``.
    """

    target: str
    summary: str
    weighted: bool = False


IMAGE_ENCODERS: dict[str, Entry] = {
    "small_cnn": Entry("mmcli.model.image_encoders:small_cnn",
                       "a compact CNN trained from scratch, with augmentation"),
    "mobilenet": Entry("mmcli.model.image_encoders:mobilenet", "Keras' MobileNet v1"),
    "mobilenet_v3_small": Entry("mmcli.model.image_encoders:mobilenet_v3_small",
                                "Keras' MobileNetV3Small"),
    "efficientnet_b0": Entry("mmcli.model.image_encoders:efficientnet_b0",
                             "Keras' EfficientNetB0"),
}

TEXT_ENCODERS: dict[str, Entry] = {
    "bow": Entry("mmcli.model.text_encoders:bow", "TF-IDF 1-2-grams, log1p + L2, dense"),
    "embedding": Entry("mmcli.model.text_encoders:embedding",
                       "word embeddings, mean + max pooling"),
    "cnn": Entry("mmcli.model.text_encoders:cnn", "1-D convolutions over word embeddings"),
    "transformer": Entry("mmcli.model.text_encoders:transformer",
                         "one transformer block with learned positions"),
}

HUB_PREFIX = "hub:"  # --text-encoder hub:<KerasHub preset name or folder>
HUB_SUMMARY = ("hub:NAME or hub:FOLDER (a KerasHub preset, BERT family; frozen unless "
               "--set model.freeze_text_backbone=false; pip install 'mmcli[hub]')")


def hub_preset(encoder: str) -> str | None:
    """The KerasHub preset (name or folder) a text encoder choice names, else None: the text
    after ``hub:``, or a folder holding a preset's ``config.json``."""
    if not isinstance(encoder, str):
        return None
    if encoder.startswith(HUB_PREFIX):
        return encoder[len(HUB_PREFIX):].strip() or None
    if encoder not in TEXT_ENCODERS and os.path.isfile(
            os.path.join(os.path.expanduser(encoder), "config.json")):
        return encoder
    return None


FUSIONS: dict[str, Entry] = {
    "gated": Entry("mmcli.model.fusions:gated",
                   "learned per-row weights over the modality embeddings", weighted=True),
    "late": Entry("mmcli.model.fusions:late",
                  "a classifier per modality, logits mixed by learned weights", weighted=True),
    "attention": Entry("mmcli.model.fusions:attention",
                       "cross-modal attention over modality tokens", weighted=True),
    "concat": Entry("mmcli.model.fusions:concat", "concatenated embeddings, a dense layer"),
}


def load(registry: Mapping[str, Entry], name: str) -> Callable[..., Any]:
    """The builder registered under ``name``.

    Raises:
        UsageError: ``name`` is not registered (the message lists the valid names).
    """
    if name not in registry:
        raise UsageError(f"Unknown choice {name!r}. Choose one of: {', '.join(registry)}")
    module, _, attribute = registry[name].target.partition(":")
    return getattr(importlib.import_module(module), attribute)
