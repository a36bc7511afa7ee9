"""Modality names: what each model input is called, and what it is.

A table gives one modality per image column and one per text input: the first of each
kind is ``image`` / ``text``, further ones ``image_2``, ``image_3`` ... (``text_2`` ...).
Modalities are ordered images first, then texts; that order is the order of the model's
``present`` input and of every per-modality report. The names key the model's inputs, the
prepared dataset's columns (``<m>`` for a text, ``<m>_present``) and its image folders.
Pure functions, no heavy imports.
"""

from __future__ import annotations

IMAGE = "image"
TEXT = "text"
KINDS = (IMAGE, TEXT)


def name(kind: str, index: int) -> str:
    """The modality name of the ``index``-th (0-based) input of a kind."""
    return kind if index == 0 else f"{kind}_{index + 1}"


def kind(modality: str) -> str:
    """``image`` or ``text``: which encoder family a modality uses."""
    for k in KINDS:
        if modality == k or (modality.startswith(f"{k}_") and modality[len(k) + 1 :].isdigit()):
            return k
    raise ValueError(f"not a modality name: {modality!r}")


def of_kind(modalities, which: str) -> list[str]:
    """The modalities of one kind, in order."""
    return [m for m in modalities if kind(m) == which]


def present_column(modality: str) -> str:
    """The boolean column of a prepared dataset telling whether a row has this modality."""
    return f"{modality}_present"


def features_key(modality: str) -> str:
    """The head-model input holding an image modality's frozen backbone features."""
    return f"{modality}_features"


def images_dir(modality: str) -> str:
    """The folder of a prepared dataset holding an image modality's shards."""
    return "images" + modality[len(IMAGE) :]
