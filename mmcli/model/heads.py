"""The head's loss and metrics as Keras objects, from the task's description of them
(:class:`mmcli.tasks.base.Head`), and the targets attached to the training stream.

Targets travel through the training stream as row positions and are looked up here as
matrices (one-hot, multi-hot ...), so one stream serves every task.
"""

from __future__ import annotations

import numpy as np

from mmcli.model.backend import import_keras
from mmcli.model.fusions import OUTPUT_LAYER as OUTPUT_NAME
from mmcli.tasks.base import Head

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def loss_and_metrics(head: Head):
    """The compiled loss and metrics: ``keras.losses.<loss_class>(**loss_args)`` and each
    ``keras.metrics.<class>(**args)`` the head names."""
    loss = getattr(keras.losses, head.loss_class)(**head.loss_args)
    return loss, [getattr(keras.metrics, name)(**args) for name, args in head.metrics]


def compiled(head: Head, trainer, aux_weight: float):
    """``(loss arguments of compile, metrics)``: the head's loss and metrics, or, for a
    trainer with auxiliary heads (:attr:`mmcli.model.build.Built.trainer`), the same loss
    and metrics for every output, each auxiliary loss weighted ``aux_weight``."""
    names = output_names(trainer)
    if names is None:
        loss, metrics = loss_and_metrics(head)
        return {"loss": loss}, metrics
    losses, metrics = {}, {}
    for name in names:
        losses[name], metrics[name] = loss_and_metrics(head)
    weights = {n: 1.0 if n == OUTPUT_NAME else float(aux_weight) for n in names}
    return {"loss": losses, "loss_weights": weights}, metrics


def output_names(trainer) -> list[str] | None:
    """The trainer's output names (``probabilities``, ``aux_<m>`` ...), or None without one."""
    if trainer is None:
        return None
    return list(trainer.output.keys()) if isinstance(trainer.output, dict) else None


def attach_targets(stream, matrix: np.ndarray, weights: np.ndarray | None = None,
                   outputs: list[str] | None = None):
    """Map a stream of ``(inputs, row positions)`` to ``(inputs, target rows[, weights])``;
    with ``outputs`` (a trainer's), targets and weights are dicts giving each output the
    same rows."""
    targets = tf.constant(matrix)

    def spread(value):
        return value if outputs is None else {name: value for name in outputs}

    if weights is None:
        return stream.map(lambda x, i: (x, spread(tf.gather(targets, i))))
    per_row = tf.constant(weights)
    return stream.map(lambda x, i: (x, spread(tf.gather(targets, i)),
                                    spread(tf.gather(per_row, i))))


class AuxLogs(keras.callbacks.Callback):
    """Give a trainer's logs the names of a single-output model's, in place, before the other
    callbacks (early stopping, progress, checkpoint, history) read them: ``loss`` and
    ``<metric>`` are the fused output's (``probabilities_loss`` ...), the weighted sum
    fitted becomes ``total_loss``, and each auxiliary head keeps ``aux_<m>_<metric>``.
    A model without auxiliary heads logs those names already and is left alone."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or f"{OUTPUT_NAME}_loss" not in logs:
            return
        for prefix in ("", "val_"):
            if f"{prefix}loss" in logs:
                logs[f"{prefix}total_loss"] = logs.pop(f"{prefix}loss")
            start = f"{prefix}{OUTPUT_NAME}_"
            for key in [k for k in logs if k.startswith(start)]:
                logs[prefix + key[len(start):]] = logs.pop(key)
