"""TensorBoard logs of a training run (``train --tensorboard DIR``, ``tune``'s trials).

TensorBoard is an optional install (``pip install 'mmcli[tensorboard]'``): TensorFlow 2.21
no longer brings it, and Keras' callback needs it to write summaries.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

from mmcli.errors import UsageError
from mmcli.model.backend import import_keras

keras = import_keras()
FUSION_RUN = "fusion"  # the sub-folder of the fusion weights' scalars


def require_tensorboard() -> None:
    """Raises UsageError naming the install when the tensorboard package is missing."""
    if importlib.util.find_spec("tensorboard") is None:
        raise UsageError("--tensorboard needs the tensorboard package: "
                         "pip install 'mmcli[tensorboard]' (or pip install tensorboard)")


def tensorboard_callbacks(folder: Path | None,
                          weights: Callable[[], dict[str, float] | None] | None = None) -> list:
    """Keras' ``TensorBoard`` callback writing to ``folder`` (per epoch: the losses, every
    compiled metric, so each modality's auxiliary accuracy when the model has one, and the
    learning rate) and, with ``weights``, :class:`FusionWeights`; [] when ``folder`` is None.

    Raises:
        UsageError: the ``tensorboard`` package is not installed.
    """
    if folder is None:
        return []
    require_tensorboard()
    Path(folder).mkdir(parents=True, exist_ok=True)
    board = keras.callbacks.TensorBoard(log_dir=str(folder), write_graph=False,
                                        update_freq="epoch")
    return [board] + ([FusionWeights(Path(folder) / FUSION_RUN, weights)] if weights else [])


class FusionWeights(keras.callbacks.Callback):
    """After each epoch, write each modality's mean fusion weight on the validation rows as
    the scalar ``fusion_weight/<modality>`` (nothing for a fusion without weights).

    Args:
        folder: the TensorBoard run folder to write.
        weights: ``() -> {modality: weight}`` or None (computed when called).
    """

    def __init__(self, folder: Path, weights: Callable[[], dict[str, float] | None]):
        super().__init__()
        self.folder = folder
        self.weights = weights
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        values = self.weights()
        if not values:
            return
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(str(self.folder))
        with self.writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(f"fusion_weight/{name}", value, step=epoch)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
