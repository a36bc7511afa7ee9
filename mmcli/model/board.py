"""TensorBoard logs of a training run (``train --tensorboard DIR``, ``tune``'s trials).

TensorBoard is an optional install (``pip install 'mmcli[tensorboard]'``): TensorFlow 2.21
no longer brings it, and Keras' callback needs it to write summaries.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mmcli.errors import UsageError


def tensorboard_callbacks(folder: Path | None) -> list:
    """Keras' ``TensorBoard`` callback writing to ``folder`` (per epoch: the losses, every
    compiled metric (each modality's auxiliary accuracy when the model has one), the learning
    rate), or [] when ``folder`` is None.

    Raises:
        UsageError: the ``tensorboard`` package is not installed.
    """
    if folder is None:
        return []
    if importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs the tensorboard package: "
                         "pip install 'mmcli[tensorboard]' (or pip install tensorboard)")
    from mmcli.model.backend import import_keras

    keras = import_keras()
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [keras.callbacks.TensorBoard(log_dir=str(folder), write_graph=False,
                                        update_freq="epoch")]
