"""The modality ablation: each modality alone (the others masked), what each contributes
(leave-one-modality-out: the fused score minus the score with that modality masked), the
fusion gain and the learned fusion weights, scored by the task's headline metric. The
validation report of ``train`` and the JSON of ``evaluate`` both come from :func:`ablation`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmcli.data.dataset import Dataset
from mmcli.model.inference import Batches, dataset_proba, fusion_weights
from mmcli.tasks.base import Task


@dataclass(frozen=True)
class Ablation:
    """Scores of one fused model with its modalities masked in turn (``metric`` of the task).

    Attributes:
        fused: the score with every modality.
        alone: modality -> the score with every other modality masked.
        without: modality -> the score with only that modality masked (the others kept).
        weights: modality -> mean learned fusion weight, or None (a fusion without weights).
    """

    fused: float
    alone: dict[str, float]
    without: dict[str, float]
    weights: dict[str, float] | None

    def contribution(self, name: str) -> float:
        """Leave-one-modality-out: the fused score minus the score of the same model with
        ``name`` masked (every other modality kept). With two modalities, masking one leaves
        the other alone; with three or more, two modalities that duplicate each other each
        contribute little, since the other still carries what they share."""
        return self.fused - self.without[name]

    def to_dict(self) -> dict[str, Any]:
        """The keys shared by the validation report and the evaluate JSON."""
        best = max(self.alone.values())
        return {
            "modalities": {f"{m}_only": s for m, s in self.alone.items()},
            "modality_contribution": {m: self.contribution(m) for m in self.alone},
            "fusion_gain": self.fused - best,
            # a tie is no help: fusion helped only when it beats the best modality alone
            "fusion_helped": bool(self.fused - best > 1e-9),
            "fusion_weights": self.weights,
        }


def ablation(
    model,
    data: Dataset,
    indices: np.ndarray,
    y: np.ndarray,
    modalities: Sequence[str],
    task: Task,
    labels: Sequence[str],
    batch_size: int,
    *,
    fused: np.ndarray | None = None,
    batches: Batches | None = None,
    gates=None,
) -> dict[str, Any]:
    """The ablation keys (:meth:`Ablation.to_dict`) of a model with several modalities, or
    ``{}`` with one.

    Args:
        model: the Keras model whose inputs ``batches`` yields (the head on cached features).
        data, indices: the rows scored; ``y`` their targets (``task.score``'s ``y``).
        modalities: the model's modalities, in input order.
        task: scores each run (:meth:`Task.score`, at its tuned thresholds).
        fused: the model's probabilities for these rows, when already computed.
        batches, gates: a frozen-backbone run's cached-feature batches and weights model.
    """
    if len(modalities) < 2:
        return {}

    def proba(hidden: Sequence[str] = ()) -> np.ndarray:
        return dataset_proba(model, data, indices, modalities, batch_size, hidden=hidden,
                             batches=batches)

    fused = proba() if fused is None else fused
    alone = {keep: task.score(y, proba([m for m in modalities if m != keep]), labels)
             for keep in modalities}
    if len(modalities) == 2:  # masking one leaves the other alone: already scored
        without = {m: alone[other] for m, other in zip(modalities, modalities[::-1], strict=True)}
    else:
        without = {m: task.score(y, proba([m]), labels) for m in modalities}
    result = Ablation(
        fused=task.score(y, fused, labels),
        alone=alone,
        without=without,
        weights=fusion_weights(model, data, indices, modalities, batch_size, batches=batches,
                               gates=gates),
    )
    return result.to_dict()
