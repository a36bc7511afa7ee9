"""Explanations of single predictions: which modality decided (Shapley values over the
``present`` mask, any kind), and what inside each modality mattered (the kind's explainer).

``EXPLAINERS`` maps a modality kind to its inside-the-modality explainer (the module and the
class, imported when used; see :class:`~mmcli.model.explain.base.Explainer`). A new kind adds
one line here and its module; until then its rows get the Shapley value alone. ``audio``:
Integrated Gradients over the model's own log-mel spectrogram; ``tabular``: each column
reset to its missing value.
"""

from __future__ import annotations

import importlib

from mmcli.model.explain.base import Explainer

EXPLAINERS: dict[str, tuple[str, str]] = {
    "image": ("mmcli.model.explain.image", "ImageExplainer"),
    "text": ("mmcli.model.explain.text", "TextExplainer"),
    "audio": ("mmcli.model.explain.audio", "AudioExplainer"),
    "tabular": ("mmcli.model.explain.tabular", "TabularExplainer"),
}


def explainer_for(kind: str) -> Explainer | None:
    """The registered explainer of a modality kind, or None when it has none."""
    entry = EXPLAINERS.get(kind)
    if entry is None:
        return None
    module, name = entry
    return getattr(importlib.import_module(module), name)()
