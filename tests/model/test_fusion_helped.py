"""fusion_helped is false when the fused score only ties the best modality alone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.tf


@pytest.mark.parametrize("fused, helped", [(0.5, False), (0.6, True), (0.4, False)])
def test_fusion_helped_only_when_fused_beats_the_best_modality(fused, helped):
    from mmcli.model.ablation import Ablation

    result = Ablation(fused=fused, alone={"image": 0.5, "text": 0.3},
                      without={"image": 0.3, "text": 0.5}, weights=None).to_dict()
    assert result["fusion_helped"] is helped
