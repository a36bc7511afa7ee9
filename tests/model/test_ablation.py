"""The ablation's contribution is leave-one-modality-out: fused minus the score with that one
modality masked (the others kept), so two modalities that duplicate each other each
contribute little, while one that alone carries information contributes much."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tf


class Scores:
    """A task whose score is the fake "probabilities" themselves (a float per masking)."""

    def score(self, y, proba, labels):
        return float(proba)


def test_contribution_masks_only_that_modality(monkeypatch):
    import mmcli.model.ablation as ablation_module

    # a and b carry the same information; c carries its own. Scores by what is masked:
    table = {(): 1.0, ("a",): 0.95, ("b",): 0.95, ("c",): 0.6,
             ("b", "c"): 0.55, ("a", "c"): 0.55, ("a", "b"): 0.5}

    def fake_proba(model, data, indices, modalities, batch_size, hidden=(), batches=None):
        return table[tuple(sorted(hidden))]

    monkeypatch.setattr(ablation_module, "dataset_proba", fake_proba)
    monkeypatch.setattr(ablation_module, "fusion_weights", lambda *a, **k: None)
    result = ablation_module.ablation(None, None, np.arange(3), np.zeros(3), ["a", "b", "c"],
                                      Scores(), ["x"], 8)
    assert result["modalities"] == {"a_only": 0.55, "b_only": 0.55, "c_only": 0.5}
    contribution = result["modality_contribution"]
    assert contribution == pytest.approx({"a": 0.05, "b": 0.05, "c": 0.4})
    assert result["fusion_gain"] == pytest.approx(0.45) and result["fusion_helped"] is True


def test_with_two_modalities_masking_one_leaves_the_other_alone(monkeypatch):
    import mmcli.model.ablation as ablation_module

    table = {(): 0.9, ("image",): 0.5, ("text",): 0.4}
    calls = []

    def fake_proba(model, data, indices, modalities, batch_size, hidden=(), batches=None):
        calls.append(tuple(hidden))
        return table[tuple(hidden)]

    monkeypatch.setattr(ablation_module, "dataset_proba", fake_proba)
    monkeypatch.setattr(ablation_module, "fusion_weights", lambda *a, **k: None)
    result = ablation_module.ablation(None, None, np.arange(3), np.zeros(3), ["image", "text"],
                                      Scores(), ["x"], 8)
    assert result["modality_contribution"] == pytest.approx({"image": 0.4, "text": 0.5})
    assert len(calls) == 3  # fused, and each alone: nothing scored twice
