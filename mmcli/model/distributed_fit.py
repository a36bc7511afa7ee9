"""The epochs of a distributed run: a custom training step under the strategy.

Keras 3's ``fit`` fails under ``MultiWorkerMirroredStrategy`` on TensorFlow 2.21 (measured on
this machine with two loopback workers: its symbolic build reduces the first batch with a
collective that does not take nested inputs, "Attempt to convert a value ({'a': PerReplica..})
... to a Tensor", dict and list inputs alike; with that patched, its compiled metrics fail
next: keras #20585, #20329). So each step runs ``strategy.run`` over the replicas' slices of
the global batch: per-replica loss (the compiled loss on the slice, which Keras divides by the
replicas itself in a replica context, so the all-reduced gradients are the gradients of the
global batch's mean loss; with auxiliary heads, the fused loss plus ``aux_loss_weight`` times
each head's, as ``compile`` weights them on one device), the
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
    """As :func:`mmcli.model.training.run_epochs`, under ``placement``'s strategy. A trainer
    with auxiliary heads (dict outputs) trains on the fused loss plus
    ``model.aux_loss_weight`` times each head's loss, as ``compile`` weights them on one
    device (:func:`mmcli.model.heads.compiled`), and logs as :class:`heads.AuxLogs` names:
    ``loss`` and the metrics are the fused output's, ``total_loss`` the weighted sum, and
    ``aux_<m>_<metric>`` each head's.

    Returns:
        ``(history, monitor)``: the whole run's per-epoch history and the monitored key.
    """
    from mmcli.model.progress import RichProgress

    tc, strategy = config.train, placement.strategy
    monitor = "val_loss" if streams.val is not None else "loss"
    stopper = keras.callbacks.EarlyStopping(monitor=monitor, mode="min", patience=tc.patience,
                                            restore_best_weights=True)
    callbacks = keras.callbacks.CallbackList(
        [stopper, RichProgress(console, tc.epochs, monitor), *resume.callbacks(stopper),
         *callbacks],
        model=trainable)
    losses = _Losses(trainable, config.model.aux_loss_weight)
    metrics = _Metrics(losses.names, task_head)  # fresh, outside the strategy

    @tf.function
    def step(batch):
        def replica(*batch):
            x, y, w = (*batch, None)[:3]
            with tf.GradientTape() as tape:
                pred = trainable(x, training=True)
                parts = losses.parts(y, pred, w)
                total = losses.total(parts)
            grads = tape.gradient(total, trainable.trainable_variables)
            trainable.optimizer.apply_gradients(
                zip(grads, trainable.trainable_variables, strict=True))
            return {**parts, _TOTAL: total}, y, pred
        parts, y, pred = strategy.run(replica, args=tuple(batch))
        return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in parts.items()}, y, pred

    with strategy.scope():  # variables made inside the step would need a cond per call
        if not trainable.optimizer.built:
            trainable.optimizer.build(trainable.trainable_variables)
    distributed = distribute(streams.train, placement)
    history: dict[str, list[float]] = {}
    trainable.stop_training = False
    callbacks.on_train_begin()
    for epoch in range(resume.initial_epoch, tc.epochs):
        callbacks.on_epoch_begin(epoch)
        sums, steps = {}, 0
        metrics.reset()
        for batch in distributed:
            parts, y, pred = step(batch)
            sums = {k: sums.get(k, 0.0) + float(v) for k, v in parts.items()}
            steps += 1
            for y_part, p_part in zip(strategy.experimental_local_results(y),
                                      strategy.experimental_local_results(pred), strict=True):
                metrics.update(y_part, p_part)  # this worker's slices: logged, never decided on
        logs = {**losses.logs({k: v / max(steps, 1) for k, v in sums.items()}),
                **metrics.logs()}
        if streams.val is not None:
            logs.update(_validate(trainable, streams.val, losses, task_head))
        logs = _agree(strategy, logs)
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        callbacks.on_epoch_end(epoch, logs)
        if trainable.stop_training:
            break
    callbacks.on_train_end()
    return resume.history(history), monitor


_TOTAL = "__total__"


class _Losses:
    """The compiled loss of each output (``None``: the model's single output), weighted 1
    for the fused output and ``aux_weight`` for each auxiliary head. In a replica context a
    Keras loss divides itself by the replicas in sync (``scale_loss_for_distribution``), so
    the all-reduced gradients are those of the global batch's mean loss and the losses
    summed over the replicas are its mean: no second division here."""

    def __init__(self, trainable, aux_weight: float):
        from mmcli.model.heads import OUTPUT_NAME

        loss = trainable.loss
        self.fns = dict(loss) if isinstance(loss, dict) else {None: loss}
        self.names = list(self.fns)
        self.weights = {n: 1.0 if n in (None, OUTPUT_NAME) else float(aux_weight)
                        for n in self.names}

    def parts(self, y, pred, w=None) -> dict:
        """Each output's loss (``fused`` for the fused one)."""
        def pick(value, name):
            return value if name is None or value is None else value[name]

        return {_key(n): fn(pick(y, n), pick(pred, n), sample_weight=pick(w, n))
                for n, fn in self.fns.items()}

    def total(self, parts: dict):
        return tf.add_n([self.weights[n] * parts[_key(n)] for n in self.names])

    def logs(self, parts: dict, prefix: str = "") -> dict[str, float]:
        """``loss`` (the fused output's), ``total_loss`` and ``aux_<m>_loss`` with aux heads."""
        out = {f"{prefix}loss": parts["fused"]}
        if len(self.names) > 1:
            out[f"{prefix}total_loss"] = parts.get(_TOTAL, sum(
                self.weights[n] * parts[_key(n)] for n in self.names))
            out.update({f"{prefix}{n}_loss": parts[n] for n in self.names if _key(n) == n})
        return out


def _key(name) -> str:
    from mmcli.model.heads import OUTPUT_NAME

    return "fused" if name in (None, OUTPUT_NAME) else name


class _Metrics:
    """The head's metrics for each output, logged ``<metric>`` for the fused output and
    ``aux_<m>_<metric>`` for each auxiliary head."""

    def __init__(self, names, head):
        from mmcli.model import heads

        self.per = {name: heads.loss_and_metrics(head)[1] for name in names}

    def reset(self):
        for metrics in self.per.values():
            for metric in metrics:
                metric.reset_state()

    def update(self, y, pred):
        for name, metrics in self.per.items():
            for metric in metrics:
                metric.update_state(y if name is None else y[name],
                                    pred if name is None else pred[name])

    def logs(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{'' if _key(n) == 'fused' else n + '_'}{m.name}": float(m.result())
                for n, metrics in self.per.items() for m in metrics}


def _agree(strategy, logs: dict[str, float]) -> dict[str, float]:
    """The logs averaged over every replica of every worker, so all workers log and decide
    (early stopping) on the same numbers: each worker's training metrics cover only its
    slices, and its validation uses its own batch-norm moving statistics."""
    keys = sorted(logs)
    local = tf.constant([logs[k] for k in keys], tf.float32)
    mean = strategy.reduce(tf.distribute.ReduceOp.MEAN, strategy.run(lambda: tf.identity(local)),
                           axis=None)
    return {k: float(v) for k, v in zip(keys, mean.numpy(), strict=True)}


def _validate(model, stream, losses: _Losses, head) -> dict[str, float]:
    """Validation losses and metrics over the whole stream, on this worker alone."""
    metrics = _Metrics(losses.names, head)
    sums, rows = {}, 0
    for batch in stream:
        x, y = batch[0], batch[1]
        pred = model(x, training=False)
        n = int(tf.shape(batch[0][next(iter(batch[0]))])[0])
        parts = losses.parts(y, pred)  # outside the strategy: not scaled
        sums = {k: sums.get(k, 0.0) + float(v) * n for k, v in parts.items()}
        rows += n
        metrics.update(y, pred)
    return {**losses.logs({k: v / max(rows, 1) for k, v in sums.items()}, "val_"),
            **metrics.logs("val_")}
