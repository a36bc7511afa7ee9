"""The steps of a training run that need Keras: build and compile the model, make the data
streams, run the epochs. :func:`mmcli.api.train.fit` calls them in order."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mmcli import modalities
from mmcli.config import RunConfig
from mmcli.data.dataset import Dataset
from mmcli.data.split import Split
from mmcli.errors import WeightsUnavailableError
from mmcli.model.backend import import_keras
from mmcli.tasks.base import Task

keras = import_keras()


def build_model(dataset: Dataset, split: Split, config: RunConfig, task: Task, console=None):
    """Seed, then build the model and compile the part that trains.

    With pretrained weights that cannot be had and a fallback allowed (``auto``), says so on
    stderr and builds the fallback instead; the returned config records what was built.

    Returns:
        ``(built, config)``: :class:`mmcli.model.build.Built` and the run config.
    """
    from mmcli.model import heads
    from mmcli.model.build import build

    tc = config.train
    keras.utils.set_random_seed(tc.seed)
    if tc.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    fit = fit_values(dataset, split.train)
    for name, fitted in fit.items():  # e.g. a constant tabular column: said, and recorded
        for note in getattr(fitted, "notes", lambda: ())():
            if console is not None:
                console.print(f"[yellow]note: {name}: {note}[/]")

    def attempt(run: RunConfig):
        return build(dataset.modalities, run.model, run.prep,
                     num_classes=len(split.targets.labels), fit=fit, seed=run.train.seed,
                     activation=task.head.activation)

    try:
        built = attempt(config)
    except WeightsUnavailableError as exc:
        if exc.fallback is None:
            raise
        if console is not None:
            console.print(f"[yellow]note: {exc}. Falling back to {exc.fallback_note}.[/]")
        config = replace(config, model=replace(config.model, **exc.fallback))
        built = attempt(config)
    trainable = built.trainable
    steps = max(1, int(np.ceil(len(split.train) / tc.batch_size))) * tc.epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=tc.learning_rate * 0.1, decay_steps=steps,
        warmup_target=tc.learning_rate, warmup_steps=max(1, steps // 20), alpha=0.05,
    )
    loss, metrics = heads.compiled(task.head, built.trainer, config.model.aux_loss_weight)
    trainable.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=tc.weight_decay, clipnorm=1.0),
        **loss, metrics=metrics,
    )
    return replace(built, fit=fit), config


def fit_values(dataset: Dataset, train_idx: np.ndarray) -> dict[str, Any]:
    """What each modality's encoder is given besides its input: what it learns from before
    training (e.g. a text vocabulary, from the training rows that have the modality), or the
    preparation settings it needs (``Modality.encoder_settings``, e.g. an audio rate)."""
    out = {}
    for name in dataset.modalities:
        kind = modalities.modality_of(name)
        if kind.needs_fit:
            present = dataset.present(name, train_idx).astype(bool)
            values = list(dataset.values(name, train_idx[present]))
            out[name] = kind.fit_values(values, dataset.schema.prep)
        elif (settings := kind.encoder_settings(dataset.schema.prep)) is not None:
            out[name] = settings
    return out


@dataclass(frozen=True)
class Streams:
    """The training and validation streams, and how the validation rows are read again for
    the report (cached features or the dataset)."""

    train: Any
    val: Any
    batches: Any  # None: read from the dataset; else FeatureCache.batches
    feature_seconds: float


def make_streams(built, dataset: Dataset, split: Split, config: RunConfig,
                 first_epoch: int) -> Streams:
    """Seeded ``tf.data`` streams of (inputs, targets[, weights]) batches. With frozen
    extractors their features are computed here, once, and the head trains on them."""
    from mmcli.model import heads
    from mmcli.model.cached import FeatureCache
    from mmcli.model.feed import training_stream

    tc = config.train
    started = time.perf_counter()
    positions = np.arange(len(dataset.examples), dtype=np.int32)
    if built.head is not None:
        cache = FeatureCache(built.extractors, dataset, np.concatenate([split.train, split.val]),
                             dataset.modalities, config.prep)

        def stream(rows, seed, epoch=0):
            return cache.stream(rows, positions[rows], tc.batch_size, shuffle_seed=seed,
                                first_epoch=epoch)
        batches = cache.batches
    else:
        def stream(rows, seed, epoch=0):
            return training_stream(dataset, rows, positions[rows], dataset.modalities,
                                   tc.batch_size, shuffle_seed=seed, first_epoch=epoch,
                                   prep=config.prep)
        batches = None
    targets, outputs = split.targets, heads.output_names(built.trainer)
    train = heads.attach_targets(stream(split.train, tc.seed, first_epoch), targets.matrix,
                                 targets.row_weights, outputs=outputs)
    val = (heads.attach_targets(stream(split.val, None), targets.matrix, outputs=outputs)
           if len(split.val) else None)
    return Streams(train, val, batches, time.perf_counter() - started)


def run_epochs(trainable, streams: Streams, config: RunConfig, resume, console=None,
               callbacks=()):
    """Fit with early stopping on the validation loss (the training loss without validation
    rows), the best weights restored, a line per epoch on stderr, and a checkpoint per epoch.
    ``callbacks``: further Keras callbacks, run after those (TensorBoard, tune's pruning).

    Returns:
        ``(history, monitor)``: the whole run's per-epoch history (a resumed run's earlier
        epochs included) and the key early stopping watched.
    """
    from mmcli.model.heads import AuxLogs
    from mmcli.model.progress import RichProgress

    tc = config.train
    monitor = "val_loss" if streams.val is not None else "loss"
    build_state(trainable, streams.train)
    stopper = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min", patience=tc.patience, restore_best_weights=True
    )
    history = trainable.fit(
        streams.train, validation_data=streams.val, epochs=tc.epochs,
        initial_epoch=resume.initial_epoch, verbose=0, shuffle=False,
        callbacks=[AuxLogs(), stopper, RichProgress(console, tc.epochs, monitor),
                   *resume.callbacks(stopper), *callbacks],
    )
    return resume.history(history.history), monitor


def build_state(trainable, stream) -> None:
    """Create the optimizer's and the compiled loss' and metrics' variables before ``fit``.

    Without a distribution strategy Keras defers them to the tracing of the first training
    step; TensorFlow then traces that step a second time, without variable creation
    (measured: two traces of ``train_step`` per run, about half of a short run's tracing).
    Built here from ``stream``'s element spec (symbolic, no batch read, so the seeded
    shuffles are unchanged); the values are those Keras would create (zeros).
    """
    trainable._symbolic_build(data_batch=stream.element_spec)
