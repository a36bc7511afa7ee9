"""The epochs of a distributed run: a custom training step under the strategy.

Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` on TensorFlow 2.21 (measured on
this machine with two loopback workers: its symbolic build reduces the first batch with a
collective that does not take nested inputs, "Attempt to convert a value ({'a': PerReplica..})
... to a Tensor", dict and list inputs alike; with that patched, its compiled metrics fail
next: keras #20585, #20329). So each step runs ``strategy.run`` over the replicas' slices of
the global batch: per-replica loss (the compiled loss on the slice, divided by the replicas,
so the all-reduced gradients are the gradients of the global batch's mean loss), the
optimizer's own all-reduce and update, the losses summed across replicas. Validation is
computed by every worker on the whole validation stream with the same weights, so every
worker takes the same early-stopping decision. The callbacks are those ``fit`` would run
(early stopping, the progress line, the epoch checkpoint) driven by hand.
"""

from __future__ import annotations

import numpy as np

from mmcli.model.backend import import_keras
from mmcli.model.distribute import Placement, distribute

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def train_epochs(built, streams, config, resume, placement: Placement, task, console=None, *,
                 dataset=None, split=None, callbacks=()):
    """Run the epochs where ``placement`` says: ``one`` as always
    (:func:`mmcli.model.training.run_epochs`), ``mirrored`` and ``multi-worker`` through
    :func:`run_epochs_custom` (``fit`` under ``MirroredStrategy`` fails on string inputs: its
    symbolic build averages the first batch across replicas, text included). A distributed run's
    weights (and a ``--mixed-precision`` run's) are then copied into the same model built on
    one device in float32, which the report and the bundle use (so the saved model holds no
    distributed variables and no float16 layers).

    Returns:
        ``(built, history, monitor)``.

    With frozen extractors (``built.head``) every worker has computed their features once, on
    the training and validation rows (:func:`mmcli.model.training.make_streams`), and the
    custom step trains the head (or its trainer) on those feature streams.
    """
    from mmcli.model import training

    trainable = built.trainable  # with the per-modality auxiliary heads when there are some
    if placement.strategy is None:
        history, monitor = training.run_epochs(trainable, streams, config, resume, console,
                                               callbacks=callbacks)
        if not placement.mixed_precision:
            return built, history, monitor
        return _float32_copy(built, dataset, split, config, task), history, monitor
    history, monitor = run_epochs_custom(trainable, streams, config, resume, placement, console,
                                         task_head=task.head, callbacks=callbacks)
    return _float32_copy(built, dataset, split, config, task), history, monitor


def _float32_copy(built, dataset, split, config, task):
    """The trained weights in the same model built on one device in float32 (the global
    policy reset after ``--mixed-precision``), so a bundle loads and predicts anywhere."""
    from mmcli.model import training

    keras.mixed_precision.set_global_policy("float32")
    copy, _ = training.build_model(dataset, split, config, task, None)
    for mine, theirs in zip(copy.model.variables, built.model.variables, strict=True):
        mine.assign(np.asarray(theirs.numpy(), dtype=mine.dtype))
    return copy


def run_epochs_custom(trainable, streams, config, resume, placement: Placement, console=None,
                      *, task_head=None, callbacks=()):
    """As :func:`mmcli.model.training.run_epochs`, under ``placement``'s strategy.

    Returns:
        ``(history, monitor)``: the whole run's per-epoch history and the monitored key.
    """
    from mmcli.model import heads
    from mmcli.model.progress import RichProgress

    tc, strategy = config.train, placement.strategy
    monitor = "val_loss" if streams.val is not None else "loss"
    stopper = keras.callbacks.EarlyStopping(monitor=monitor, mode="min", patience=tc.patience,
                                            restore_best_weights=True)
    callbacks = keras.callbacks.CallbackList(
        [stopper, RichProgress(console, tc.epochs, monitor), *resume.callbacks(stopper),
         *callbacks],
        model=trainable)
    loss_fn, replicas = trainable.loss, placement.replicas
    _, metrics = heads.loss_and_metrics(task_head)  # fresh, outside the strategy

    @tf.function
    def step(batch):
        def replica(*batch):
            x, y, w = (*batch, None)[:3]
            with tf.GradientTape() as tape:
                pred = trainable(x, training=True)
                loss = loss_fn(y, pred, sample_weight=w) / replicas
            grads = tape.gradient(loss, trainable.trainable_variables)
            trainable.optimizer.apply_gradients(
                zip(grads, trainable.trainable_variables, strict=True))
            return loss, y, pred
        loss, y, pred = strategy.run(replica, args=tuple(batch))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, loss, axis=None), y, pred

    with strategy.scope():  # variables made inside the step would need a cond per call
        if not trainable.optimizer.built:
            trainable.optimizer.build(trainable.trainable_variables)
    distributed = distribute(streams.train, placement)
    history: dict[str, list[float]] = {}
    trainable.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(resume.initial_epoch, tc.epochs):
        callbacks.on_epoch_begin(epoch)
        total, steps = 0.0, 0
        for metric in metrics:
            metric.reset_state()
        for batch in distributed:
            loss, y, pred = step(batch)
            total, steps = total + float(loss), steps + 1
            for y_part, p_part in zip(strategy.experimental_local_results(y),
                                      strategy.experimental_local_results(pred), strict=True):
                for metric in metrics:  # this worker's slices only: logged, never decided on
                    metric.update_state(y_part, p_part)
        logs = {"loss": total / max(steps, 1),
                **{m.name: float(m.result()) for m in metrics}}
        if streams.val is not None:
            logs.update(_validate(trainable, streams.val, loss_fn, task_head))
        logs = _agree(strategy, logs)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        callbacks.on_epoch_end(epoch, logs)
        if trainable.stop_training:
            break
    callbacks.on_train_end()
    return resume.history(history), monitor


def _agree(strategy, logs: dict[str, float]) -> dict[str, float]:
    """The logs averaged over every replica of every worker, so all workers log and decide
    (early stopping) on the same numbers: each worker's training metrics cover only its
    slices, and its validation uses its own batch-norm moving statistics."""
    keys = sorted(logs)
    local = tf.constant([logs[k] for k in keys], tf.float32)
    mean = strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(lambda: tf.identity(local)),
                           axis=None)
    return {k: float(v) for k, v in zip(keys, mean.numpy(), strict=True)}


def _validate(model, stream, loss_fn, head) -> dict[str, float]:
    """Validation loss and metrics over the whole stream, on this worker alone."""
    from mmcli.model import heads

    _, metrics = heads.loss_and_metrics(head)
    total, rows = 0.0, 0
    for batch in stream:
        x, y = batch[0], batch[1]
        pred = model(x, training=False)
        n = int(tf.shape(y)[0])
        total, rows = total + float(loss_fn(y, pred)) * n, rows + n
        for metric in metrics:
            metric.update_state(y, pred)
    return {"val_loss": total / max(rows, 1),
            **{f"val_{m.name}": float(m.result()) for m in metrics}}
