"""Modalities: the kinds of model input (image, text, ...) and the names of their inputs.

Each kind implements :class:`~mmcli.modalities.base.Modality` in its own module and is
registered here, once. A table gives one *modality* per source of a kind: the first is named
after the kind (``image``), further ones ``image_2``, ``image_3`` ... (``text_2`` ...).
Modalities are ordered by kind, in registration order (images first, then texts), then by
source; that order is the order of the model's ``present`` input and of every per-modality
report. Modality names key the model's inputs, the prepared dataset's columns and folders,
and the ``<m>_present`` fields of outputs. Importing this package is cheap (no NumPy,
pandas or TensorFlow at import).
"""

from __future__ import annotations

from collections.abc import Iterable

from mmcli.modalities.audio import AudioModality
from mmcli.modalities.base import Modality
from mmcli.modalities.image import ImageModality
from mmcli.modalities.tabular import TabularModality
from mmcli.modalities.text import TextModality

REGISTRY: dict[str, Modality] = {}
PRESENT_SUFFIX = "_present"


def register(modality: Modality) -> Modality:
    """Add a kind (a :class:`Modality` instance); later registrations come later in order.

    Raises:
        ValueError: the kind's name is taken, or would be confused with another's numbered
            names (``image_2``).
    """
    kind = modality.kind
    if kind in REGISTRY or not kind.isidentifier() or kind[-1].isdigit():
        raise ValueError(f"cannot register a modality kind named {kind!r}")
    REGISTRY[kind] = modality
    return modality


def unregister(kind: str) -> None:
    """Remove a kind (tests that register a throwaway kind clean up with this)."""
    REGISTRY.pop(kind, None)


def get(kind: str) -> Modality:
    """The registered implementation of a kind.

    Raises:
        KeyError: no such kind is registered.
    """
    return REGISTRY[kind]


def kinds() -> tuple[str, ...]:
    """The registered kinds, in order."""
    return tuple(REGISTRY)


def name(kind: str, index: int) -> str:
    """The modality name of the ``index``-th (0-based) source of a kind."""
    return kind if index == 0 else f"{kind}_{index + 1}"


def kind_of(modality: str) -> str:
    """The kind of a modality name (``image_2`` -> ``image``).

    Raises:
        ValueError: not a modality name of a registered kind.
    """
    base, _, number = modality.rpartition("_")
    if modality in REGISTRY:
        return modality
    if base in REGISTRY and number.isdigit() and int(number) >= 2:
        return base
    raise ValueError(f"not a modality name: {modality!r}")


def modality_of(modality: str) -> Modality:
    """The implementation behind a modality name."""
    return REGISTRY[kind_of(modality)]


def of_kind(modalities: Iterable[str], kind: str) -> list[str]:
    """The modalities of one kind, in order."""
    return [m for m in modalities if kind_of(m) == kind]


def ordered(modalities: Iterable[str]) -> list[str]:
    """Modalities in model order: by kind (registration order), then by number."""
    order = {k: i for i, k in enumerate(REGISTRY)}

    def key(m: str) -> tuple[int, int]:
        kind = kind_of(m)
        return order[kind], 1 if m == kind else int(m.rpartition("_")[2])

    return sorted(modalities, key=key)


def present_column(modality: str) -> str:
    """The boolean field telling whether a row has this modality (``image_present``): a
    column of the prepared examples and a field of predict and evaluate records."""
    return f"{modality}{PRESENT_SUFFIX}"


def features_key(modality: str) -> str:
    """The head-model input holding a modality's features from a frozen shared extractor."""
    return f"{modality}_features"


# Modalities whose presence every prediction record reports, whatever the model has: the
# fields mmcli's first records carried (``image_present``, ``text_present``), kept stable.
RECORD_MODALITIES = ("image", "text")

register(ImageModality())
register(TextModality())
register(AudioModality())
register(TabularModality())  # last: it takes the columns the kinds before it left
