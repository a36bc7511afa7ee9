"""``mmcli train`` as a library call: data in, bundle out."""

from __future__ import annotations

import csv
import hashlib
import platform
import shlex
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mmcli import __version__, layout, modalities
from mmcli.api.source import open_source
from mmcli.bundle import write_meta
from mmcli.config import PrepConfig, RunConfig
from mmcli.data.dataset import Dataset, is_dataset
from mmcli.errors import DataError, UsageError
from mmcli.io.atomic import atomic_dir, check_writable
from mmcli.io.checkpoint import Checkpoints


def split_indices(data: Dataset, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation positions. Test rows are never returned.

    Validation is the table's ``val`` rows when it has any, else a stratified
    ``val_fraction`` of the training rows (seeded).
    """
    frame = data.examples
    labelled = frame["label"].notna().to_numpy()
    train = np.flatnonzero((frame["split"] == "train").to_numpy() & labelled)
    val = np.flatnonzero((frame["split"] == "val").to_numpy() & labelled)
    if len(val) or val_fraction == 0:
        return train, val
    rng = np.random.default_rng(seed)
    labels = frame["label"].to_numpy()[train]
    chosen = []
    for label in sorted(set(labels)):
        members = train[labels == label]
        members = members[rng.permutation(len(members))]
        take = int(round(len(members) * val_fraction))
        if len(members) - take >= 1:
            chosen.extend(members[:take])
    val = np.sort(np.array(chosen, dtype=np.int64))
    return np.setdiff1d(train, val), val


def train(
    data: str | Path,
    config: RunConfig,
    out: Path,
    *,
    force: bool = False,
    fmt: str | None = None,
    console=None,
    resume: bool = False,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """Train a fused model on ``data`` and write the bundle ``out``.

    Returns:
        The bundle metadata (also written to ``out/bundle.json``).

    Raises:
        DataError: unusable data (no training rows, a single class, no text to learn from).
        OutputExistsError: ``out`` exists and ``force`` is false.
        OutputLockedError: another mmcli process is writing ``out``.
        UsageError: ``resume`` without a checkpoint to resume, or with other data or flags.
    """
    check_writable(Path(out), force=force)
    checkpoints = Checkpoints(Path(out), resume=resume, force=force)  # locks out; <out>.ckpt
    with checkpoints, tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        notify = console.print if console is not None else None
        dataset = open_source(data, config.prep, Path(work), fmt=fmt, need_label=True,
                              notify=notify)
        if is_dataset(Path(data)) and str(data) != "-":
            config = replace(config, prep=_prepared_config(dataset, config.prep))
        model, meta, history = fit(dataset, config, console=console, command=command,
                                   checkpoints=checkpoints)
        save_bundle(model, meta, history, Path(out), force=force)
        checkpoints.finish()
        return meta


def _prepared_config(dataset: Dataset, given: PrepConfig) -> PrepConfig:
    stored = dataset.schema.prep
    if given.image_size != PrepConfig().image_size and given.image_size != stored.image_size:
        raise UsageError(
            f"--image-size {given.image_size} differs from the prepared dataset's "
            f"{stored.image_size}; run mmcli preprocess again or train on the raw table"
        )
    return stored


def fit(dataset: Dataset, config: RunConfig, *, console=None, command: list[str] | None = None,
        checkpoints=None):
    """Build and train the fused model on a prepared dataset.

    The task (:mod:`mmcli.tasks`, chosen by ``config.train``) gives the targets, the head and
    its loss, and what it tunes on the validation rows after training (multi-label
    thresholds); the validation report is its scores plus the modality ablation.

    Returns:
        ``(model, meta, history)``: the trained Keras model (best weights restored), the
        bundle metadata, and the per-epoch history dict.

    With ``checkpoints`` (:class:`mmcli.io.checkpoint.Checkpoints`) the state is saved after
    every epoch, and a saved checkpoint is resumed.
    """
    from mmcli.model.backend import import_keras

    keras = import_keras()
    from mmcli.model import heads
    from mmcli.model.ablation import ablation
    from mmcli.model.feed import training_stream
    from mmcli.model.inference import dataset_proba
    from mmcli.model.progress import RichProgress
    from mmcli.tasks import task_for

    tc = config.train
    task = task_for(tc)
    modalities = dataset.modalities
    train_idx, val_idx = split_indices(dataset, tc.val_fraction, tc.seed)
    if len(train_idx) == 0:
        raise DataError("no labelled training rows (all rows are test or were rejected)")
    column = dataset.examples["label"]
    targets = task.targets(column, train_idx, dataset.labels)
    labels = targets.labels

    keras.utils.set_random_seed(tc.seed)
    if tc.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    built, config = _build_model(
        modalities, config, num_classes=len(labels), fit=fit_values(dataset, train_idx),
        console=console,
        activation=task.head.activation,
    )
    model = built.model
    trainable = built.head if built.head is not None else model
    steps = max(1, int(np.ceil(len(train_idx) / tc.batch_size))) * tc.epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=tc.learning_rate * 0.1,
        decay_steps=steps,
        warmup_target=tc.learning_rate,
        warmup_steps=max(1, steps // 20),
        alpha=0.05,
    )
    loss, metrics = heads.loss_and_metrics(task.head)
    trainable.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=tc.weight_decay, clipnorm=1.0),
        loss=loss,
        metrics=metrics,
    )
    # Checkpoints and resume (mmcli/model/checkpoint.py): restores model/optimizer state.
    from mmcli.model.checkpoint import resume_training

    resume = resume_training(checkpoints, trainable, config, dataset, train_idx, val_idx)
    # The streams carry row positions; attach_targets looks up each row's target (and weight).
    positions = np.arange(len(column), dtype=np.int32)
    has_val = len(val_idx) > 0
    started = time.perf_counter()
    cache = _feature_cache(built, dataset, train_idx, val_idx, modalities, config.prep)
    feature_seconds = time.perf_counter() - started
    if cache is not None:
        raw_train = cache.stream(
            train_idx, positions[train_idx], tc.batch_size, shuffle_seed=tc.seed,
            first_epoch=resume.initial_epoch,
        )
        raw_val = (
            cache.stream(val_idx, positions[val_idx], tc.batch_size, shuffle_seed=None)
            if has_val else None
        )
    else:
        raw_train = training_stream(
            dataset, train_idx, positions[train_idx], modalities, tc.batch_size,
            shuffle_seed=tc.seed, first_epoch=resume.initial_epoch,
        )
        raw_val = (
            training_stream(
                dataset, val_idx, positions[val_idx], modalities, tc.batch_size,
                shuffle_seed=None,
            )
            if has_val else None
        )
    stream = heads.attach_targets(raw_train, targets.matrix, targets.row_weights)
    val_stream = heads.attach_targets(raw_val, targets.matrix) if has_val else None
    monitor = "val_loss" if has_val else "loss"
    stopper = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min", patience=tc.patience, restore_best_weights=True
    )
    history = trainable.fit(
        stream,
        validation_data=val_stream,
        epochs=tc.epochs,
        initial_epoch=resume.initial_epoch,
        verbose=0,
        shuffle=False,
        callbacks=[stopper, RichProgress(console, tc.epochs, monitor),
                   *resume.callbacks(stopper)],
    )
    history.history = resume.history(history.history)
    seconds = time.perf_counter() - started + resume.seconds
    epochs_run = len(history.history["loss"])
    best_epoch = int(np.argmin(history.history[monitor])) + 1
    scored = val_idx if has_val else train_idx
    batches = cache.batches if cache is not None else None
    y = targets.y[scored]
    proba = dataset_proba(trainable, dataset, scored, modalities, tc.batch_size, batches=batches)
    task = task.tune(y, proba, labels)  # multi-label: thresholds on these rows
    report = {
        "rows": int(len(scored)),
        **task.validation(y, proba, labels),
        **ablation(trainable, dataset, scored, y, modalities, task, labels, tc.batch_size,
                   fused=proba, batches=batches, gates=built.head_weights),
    }
    versions = _versions(keras)
    meta = {
        "mmcli_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labels": labels,
        "modalities": modalities,
        "roles": dataset.schema.roles,
        "config": config.to_dict(),
        "data": {
            "table": dataset.schema.table,
            "sha256": dataset.schema.sha256,
            "train_rows": int(len(train_idx)),
            "val_rows": int(len(val_idx)),
        },
        "training": {
            "epochs_run": epochs_run,
            "best_epoch": best_epoch,
            "seconds": round(seconds, 2),
            "feature_seconds": round(feature_seconds, 2),
            "samples_per_second": round(len(train_idx) * epochs_run / seconds, 1),
        },
        "validation": {"on": "val" if has_val else "train", **report},
        "head": task.head.to_dict(targets.class_weights),
        "versions": versions,
        "manifest": {
            "seed": tc.seed,
            "deterministic": tc.deterministic,
            "data_sha256": data_sha256(dataset),
            "table_sha256": dataset.schema.sha256,
            "command": shlex.join(command) if command else None,
            "platform": platform.platform(),
            "versions": versions,
        },
    }
    meta.update(task.bundle_state(labels))
    return model, meta, history.history


def data_sha256(dataset: Dataset) -> str:
    """SHA-256 of what training saw: the examples (ids, splits, labels, texts, masks) and the
    decoded image pixels, independent of file formats."""
    import pandas as pd

    digest = hashlib.sha256()
    frame = dataset.examples
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    for shard in dataset.all_shards():
        for start in range(0, len(shard), 256):
            digest.update(np.ascontiguousarray(shard[start : start + 256]).tobytes())
    return digest.hexdigest()


def fit_values(dataset: Dataset, train_idx: np.ndarray) -> dict[str, object]:
    """What each modality's encoder learns from before training (e.g. a text vocabulary),
    from the training rows that have the modality."""
    out = {}
    for name in dataset.modalities:
        kind = modalities.modality_of(name)
        if not kind.needs_fit:
            continue
        present = dataset.present(name, train_idx).astype(bool)
        values = dataset.values(name, train_idx[present])
        out[name] = kind.fit_values(list(values))
    return out


def _build_model(
    names, config: RunConfig, *, num_classes: int, fit: dict, console,
    activation: str = "softmax",
):
    """Build the model; with ``image_weights=auto`` and no ImageNet weights to be had, say so
    on stderr and fall back to ``small_cnn`` (the returned config records what was built)."""
    from mmcli.model.build import build
    from mmcli.model.image_encoders import WeightsUnavailableError

    def attempt(run: RunConfig):
        return build(
            names, run.model, run.prep, num_classes=num_classes, fit=fit,
            seed=run.train.seed, activation=activation,
        )

    try:
        return attempt(config), config
    except WeightsUnavailableError as exc:
        if config.model.image_weights != "auto":
            raise
        if console is not None:
            console.print(f"[yellow]note: {exc}. Falling back to image encoder small_cnn "
                          "(trained from scratch).[/]")
        fallback = replace(
            config,
            model=replace(config.model, image_encoder="small_cnn", image_weights="none"),
        )
        return attempt(fallback), fallback


def _feature_cache(built, dataset: Dataset, train_idx, val_idx, names, prep):
    """For frozen extractors (an image backbone), their features of the training and
    validation rows, computed once; else None (the full model trains on the raw inputs)."""
    if built.head is None:
        return None
    from mmcli.model.cached import FeatureCache

    rows = np.concatenate([train_idx, val_idx])
    return FeatureCache(built.extractors, dataset, rows, names, prep)


def save_bundle(
    model, meta: dict[str, Any], history: dict[str, list[float]], out: Path, *, force: bool = False
) -> None:
    """Write the bundle folder atomically: model.keras, history.csv, bundle.json (with hashes)."""
    with atomic_dir(out, force=force) as folder:
        model.save(folder / layout.MODEL_FILE)
        _write_history(folder / layout.HISTORY_FILE, history)
        from mmcli.report.curves import save_curves

        save_curves(history, folder / layout.CURVES_FILE, title=_curves_title(meta))
        write_meta(folder, meta)


def _curves_title(meta: dict[str, Any]) -> str:
    model = meta.get("config", {}).get("model", {})
    parts = [model.get("fusion"), meta.get("head", {}).get("activation")]
    return " / ".join(str(p) for p in parts if p)


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    keys = list(history)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["epoch", *keys])
        for epoch in range(len(history[keys[0]])):
            writer.writerow([epoch + 1, *(f"{history[k][epoch]:.6g}" for k in keys)])


def _versions(keras) -> dict[str, str]:
    import pandas as pd
    import PIL
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pillow": PIL.__version__,
    }
