"""Custom Keras layers of mmcli, each registered for safe (Lambda-free) loading."""

from mmcli.model.layers.attention_fusion import AttentionFusion
from mmcli.model.layers.gated_fusion import GatedFusion
from mmcli.model.layers.hub_text import HubText
from mmcli.model.layers.late_fusion import LateFusion
from mmcli.model.layers.log_mel_scale import LogMelScale
from mmcli.model.layers.modality_mask import ModalityMask
from mmcli.model.layers.position_embedding import PositionEmbedding
from mmcli.model.layers.spec_augment import SpecAugment
from mmcli.model.layers.tabular_cells import TabularCells
from mmcli.model.layers.tfidf_normalize import TfidfNormalize

__all__ = [
    "AttentionFusion",
    "GatedFusion",
    "HubText",
    "LateFusion",
    "LogMelScale",
    "ModalityMask",
    "PositionEmbedding",
    "SpecAugment",
    "TabularCells",
    "TfidfNormalize",
]
