"""One encoder per modality: each maps its input to a vector of ``embed_dim`` numbers.

Image encoders live in :mod:`mmcli.model.image_encoders`, text encoders in
:mod:`mmcli.model.text_encoders`; a new modality (audio, tabular) adds its module and table.
"""

from __future__ import annotations

from mmcli.model.image_encoders import IMAGE_ENCODERS
from mmcli.model.text_encoders import TEXT_ENCODERS

ENCODERS = {"image": IMAGE_ENCODERS, "text": TEXT_ENCODERS}

__all__ = ["ENCODERS", "IMAGE_ENCODERS", "TEXT_ENCODERS"]
