"""Checkpoint every epoch, and resume a run exactly where it stopped.

A resumed run restores everything the next epoch depends on: the model variables
(weights, batch-norm statistics, and the state of every ``SeedGenerator``, so dropout and
augmentation draw the same numbers), the optimizer variables (moments and the step counter
that drives the learning-rate schedule), early stopping's state (best value, best weights,
patience counter), the history, and the epoch counter (which seeds the data order in
:func:`mmcli.model.feed.training_stream`). With the same data, flags and seed it ends as
an uninterrupted run does.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from mmcli.io.checkpoint import Checkpoints, Saved
from mmcli.model.backend import import_keras

keras = import_keras()

IGNORED_SETTINGS = ("prep.workers",)  # do not change the model or its training


def fingerprint(config, dataset, train_idx: np.ndarray, val_idx: np.ndarray) -> dict[str, Any]:
    """What a checkpoint must have been written with to be resumed: config and data."""
    flat = {
        f"{section}.{key}": value
        for section, values in config.to_dict().items()
        for key, value in values.items()
        if f"{section}.{key}" not in IGNORED_SETTINGS
    }
    digest = hashlib.sha256()
    digest.update(json.dumps(
        [dataset.schema.sha256, dataset.labels, dataset.modalities]
    ).encode())
    digest.update(np.asarray(train_idx, np.int64).tobytes())
    digest.update(np.asarray(val_idx, np.int64).tobytes())
    return {"config": json.loads(json.dumps(flat)), "data": digest.hexdigest()}


class Resume:
    """What ``fit`` needs to start fresh or resume: first epoch, callbacks, history."""

    def __init__(self, checkpoints: Checkpoints | None, epochs: int):
        self.checkpoints = checkpoints
        saved = checkpoints.saved if checkpoints is not None else None
        self.saved = saved
        done = saved.epoch if saved else 0
        # A run early stopping had ended, killed before its bundle was written: no more epochs.
        self.initial_epoch = epochs if saved and saved.meta["stopped"] else done
        self.seconds = float(saved.meta["seconds"]) if saved else 0.0
        self.prior = saved.meta["history"] if saved else {}

    def callbacks(self, stopper) -> list:
        if self.checkpoints is None:
            return []
        return [EpochCheckpoint(self.checkpoints, stopper, self)]

    def history(self, new: dict[str, list[float]]) -> dict[str, list[float]]:
        """The whole run's history: the epochs before the interruption, then this call's."""
        keys = list(self.prior) or list(new)
        return {k: [*self.prior.get(k, []), *new.get(k, [])] for k in keys}


def resume_training(checkpoints: Checkpoints | None, model, config, dataset, train_idx,
                    val_idx) -> Resume:
    """Check a checkpoint against this run and load it into ``model`` (compiled).

    Raises:
        UsageError: the checkpoint was written with another config or other data, or does
            not fit this model.
    """
    if checkpoints is not None:
        checkpoints.fingerprint = fingerprint(config, dataset, train_idx, val_idx)
        checkpoints.check(checkpoints.fingerprint)
    resume = Resume(checkpoints, config.train.epochs)
    if resume.saved is not None:
        model.optimizer.build(model.trainable_variables)
        _assign(model.variables, resume.saved.arrays["variables"], "model")
        _assign(model.optimizer.variables, resume.saved.arrays["optimizer"], "optimizer")
    return resume


def _assign(variables, values, what: str) -> None:
    from mmcli.errors import UsageError

    shapes = [tuple(v.shape) for v in variables]
    if shapes != [tuple(np.shape(a)) for a in values]:
        raise UsageError(f"the checkpoint's {what} state does not fit this model; "
                         "pass --force without --resume to start again")
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


class EpochCheckpoint(keras.callbacks.Callback):
    """Save the whole training state after every epoch; restore early stopping on resume.

    Args:
        checkpoints: the run's checkpoint folder.
        stopper: the run's ``EarlyStopping`` callback (listed before this one).
        resume: where the run starts from.
    """

    def __init__(self, checkpoints: Checkpoints, stopper, resume: Resume):
        super().__init__()
        self.checkpoints = checkpoints
        self.stopper = stopper
        self.resume = resume
        self.record: dict[str, list[float]] = {}

    def on_train_begin(self, logs=None):
        import time

        self.started = time.perf_counter()
        saved = self.resume.saved
        self.record = {k: list(v) for k, v in self.resume.prior.items()}
        if saved is None:
            return
        state = saved.meta["early_stopping"]  # EarlyStopping.on_train_begin just reset it
        self.stopper.wait = state["wait"]
        self.stopper.best = state["best"]
        self.stopper.best_epoch = state["best_epoch"]
        self.stopper.stopped_epoch = state["stopped_epoch"]
        best = saved.arrays["best"]
        self.stopper.best_weights = [np.array(w) for w in best] if best else None

    def on_epoch_end(self, epoch, logs=None):
        import time

        for key, value in (logs or {}).items():
            self.record.setdefault(key, []).append(float(value))
        stopper = self.stopper
        meta = {
            "epoch": epoch + 1,
            "stopped": bool(self.model.stop_training),
            "seconds": self.resume.seconds + time.perf_counter() - self.started,
            "history": self.record,
            "fingerprint": self.checkpoints.fingerprint,
            "early_stopping": {
                "wait": int(stopper.wait),
                "best": None if stopper.best is None else float(stopper.best),
                "best_epoch": int(stopper.best_epoch),
                "stopped_epoch": int(stopper.stopped_epoch),
            },
        }
        arrays = {
            "variables": [v.numpy() for v in self.model.variables],
            "optimizer": [v.numpy() for v in self.model.optimizer.variables],
            "best": list(stopper.best_weights or []),
        }
        self.checkpoints.save(Saved(meta, arrays))
