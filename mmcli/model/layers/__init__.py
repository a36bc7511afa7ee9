"""Custom Keras layers of mmcli, each registered for safe (Lambda-free) loading."""

from mmcli.model.layers.gated_fusion import GatedFusion
from mmcli.model.layers.modality_mask import ModalityMask
from mmcli.model.layers.tfidf_normalize import TfidfNormalize

__all__ = ["GatedFusion", "ModalityMask", "TfidfNormalize"]
