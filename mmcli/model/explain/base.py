"""What explaining one modality of a row yields, and what a kind's explainer is handed.

Every modality kind gets a per-row modality attribution (Shapley values over the ``present``
mask, :mod:`mmcli.model.explain.shapley`), which needs nothing from the kind. What happens
*inside* a modality is the kind's business: an explainer registered for the kind in
:data:`mmcli.model.explain.EXPLAINERS` (image: Integrated Gradients, text: token occlusion).
A kind without one gets its Shapley value only, and the output says so (``methods``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Inside:
    """What an explainer found inside one modality of one row (every field optional).

    Attributes:
        tokens: ``(token, score)`` pairs in text order (score: drop of the target probability
            when the token is left out).
        columns: column -> score (tabular kinds: drop when the column is reset to missing).
        pictures: caption -> uint8 ``(H, W, 3)`` array, written as one PNG each (``image``:
            the input as the model saw it, ``saliency``: the overlay).
        notes: JSON-ready facts about the method (its baseline, a completeness gap ...).
        saliency: the raw map behind a picture (e.g. ``(S, S)`` per pixel), not written.
    """

    tokens: tuple[tuple[str, float], ...] = ()
    columns: Mapping[str, float] | None = None
    pictures: Mapping[str, np.ndarray] = field(default_factory=dict)
    notes: Mapping[str, Any] = field(default_factory=dict)
    saliency: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    """How hard to look. ``steps``: Integrated Gradients' Riemann steps; ``max_tokens``: the
    tokens of a text scored (the first ones); ``seed``: sampled Shapley values' generator."""

    steps: int = 16
    max_tokens: int = 64
    seed: int = 0
    batch_size: int = 64

    def __post_init__(self) -> None:
        for name in ("steps", "max_tokens", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"Expected a positive integer for `{name}`. "
                                 f"Received: {name}={value!r}")


class Explainer(Protocol):
    """A kind's inside-the-modality explainer (registered in ``EXPLAINERS``).

    Called with the explanation context (the model, its :class:`~.forward.Forward`, settings
    and a per-run ``cache`` dict the explainer may keep things in), the modality's name, the
    raw input dict of some rows that all have the modality (one batch, as
    :func:`mmcli.model.feed.dataset_inputs` gives it) and each row's target class index.
    Returns one :class:`Inside` per row, in order.
    """

    method: str

    def __call__(self, context: Context, name: str, inputs: dict,
                 target: np.ndarray) -> list[Inside]: ...


@dataclass
class Context:
    """What explainers share during one run."""

    model: Any
    forward: Any
    names: Sequence[str]
    settings: Settings
    cache: dict[str, Any] = field(default_factory=dict)
    prep: Any = None  # the bundle's PrepConfig (the tabular explainer's column names)


def take(inputs: Mapping[str, Any], index: np.ndarray) -> dict:
    """Rows ``index`` of every array of an input dict (repeats allowed)."""
    return {k: np.asarray(v)[index] for k, v in inputs.items()}


ValueFn = Callable[[dict], np.ndarray]
