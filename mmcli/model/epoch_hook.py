"""A Keras callback that hands each epoch's logs to a plain function, which may stop the run."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from mmcli.model.backend import import_keras

keras = import_keras()


class EpochHook(keras.callbacks.Callback):
    """Call ``on_epoch(epoch, logs)`` after every epoch; when it returns True, training stops
    at the end of that epoch (``model.stop_training``) and :attr:`stopped` is set.

    ``mmcli tune`` reports the validation score to Optuna through it and stops a pruned trial.

    Args:
        on_epoch: ``(epoch, logs) -> bool``; ``epoch`` counts from 0, ``logs`` holds the
            epoch's losses and metrics (``val_accuracy`` ...).

    Example::

        EpochHook(lambda epoch, logs: logs.get("val_accuracy", 0) < 0.2 and epoch >= 3)
    """

    def __init__(self, on_epoch: Callable[[int, Mapping[str, float]], bool]):
        super().__init__()
        self.on_epoch = on_epoch
        self.stopped = False

    def on_epoch_end(self, epoch, logs=None):
        if self.on_epoch(epoch, dict(logs or {})):
            self.stopped = True
            self.model.stop_training = True
