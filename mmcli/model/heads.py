"""The head's loss and metrics as Keras objects, from the task's description of them
(:class:`mmcli.tasks.base.Head`), and the targets attached to the training stream.

Targets travel through the training stream as row positions and are looked up here as
matrices (one-hot, multi-hot ...), so one stream serves every task.
"""

from __future__ import annotations

import numpy as np

from mmcli.model.backend import import_keras
from mmcli.tasks.base import Head

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def loss_and_metrics(head: Head):
    """The compiled loss and metrics: ``keras.losses.<loss_class>(**loss_args)`` and each
    ``keras.metrics.<class>(**args)`` the head names."""
    loss = getattr(keras.losses, head.loss_class)(**head.loss_args)
    return loss, [getattr(keras.metrics, name)(**args) for name, args in head.metrics]


def attach_targets(stream, matrix: np.ndarray, weights: np.ndarray | None = None):
    """Map a stream of ``(inputs, row positions)`` to ``(inputs, target rows[, weights])``."""
    targets = tf.constant(matrix)
    if weights is None:
        return stream.map(lambda x, i: (x, tf.gather(targets, i)))
    per_row = tf.constant(weights)
    return stream.map(lambda x, i: (x, tf.gather(targets, i), tf.gather(per_row, i)))
