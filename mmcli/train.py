"""``mmcli train`` as a library call: data in, bundle out."""

from __future__ import annotations

import csv
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from mmcli import __version__, layout
from mmcli.bundle import write_meta
from mmcli.config import PrepConfig, RunConfig
from mmcli.data.dataset import Dataset, is_dataset
from mmcli.data.source import open_source
from mmcli.errors import DataError, UsageError
from mmcli.io.atomic import atomic_dir, check_writable


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
) -> dict[str, Any]:
    """Train a fused model on ``data`` and write the bundle ``out``.

    Returns:
        The bundle metadata (also written to ``out/bundle.json``).

    Raises:
        DataError: unusable data (no training rows, a single class, no text to learn from).
        OutputExistsError: ``out`` exists and ``force`` is false.
    """
    check_writable(Path(out), force=force)
    with tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        dataset = open_source(data, config.prep, Path(work), fmt=fmt)
        if is_dataset(Path(data)) and str(data) != "-":
            config = replace(config, prep=_prepared_config(dataset, config.prep))
        model, meta, history = fit(dataset, config, console=console)
        save_bundle(model, meta, history, Path(out), force=force)
        return meta


def _prepared_config(dataset: Dataset, given: PrepConfig) -> PrepConfig:
    stored = PrepConfig(**dataset.schema["prep"])
    if given.image_size != PrepConfig().image_size and given.image_size != stored.image_size:
        raise UsageError(
            f"--image-size {given.image_size} differs from the prepared dataset's "
            f"{stored.image_size}; run mmcli preprocess again or train on the raw table"
        )
    return stored


def fit(dataset: Dataset, config: RunConfig, *, console=None):
    """Build and train the fused model on a prepared dataset.

    Returns:
        ``(model, meta, history)``: the trained Keras model (best weights restored), the
        bundle metadata, and the per-epoch history dict.
    """
    from mmcli.model.backend import import_keras

    keras = import_keras()
    from mmcli.model.evaluation import modality_report
    from mmcli.model.feed import training_stream
    from mmcli.model.progress import RichProgress

    tc = config.train
    labels = dataset.labels
    modalities = dataset.schema["modalities"]
    train_idx, val_idx = split_indices(dataset, tc.val_fraction, tc.seed)
    if len(train_idx) == 0:
        raise DataError("no labelled training rows (all rows are test or were rejected)")
    lookup = {label: i for i, label in enumerate(labels)}
    targets = np.array([lookup.get(v, -1) for v in dataset.examples["label"]], np.int32)
    train_classes = sorted(set(dataset.examples["label"].to_numpy()[train_idx]))
    if len(train_classes) < 2:
        raise DataError(f"training needs at least two classes; found only {train_classes}")

    keras.utils.set_random_seed(tc.seed)
    if tc.deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    frame = dataset.examples
    texts = frame["text"].to_numpy()[train_idx][frame["text_present"].to_numpy()[train_idx]]
    built, config = _build_model(
        modalities, config, num_classes=len(labels), texts=texts.tolist(), console=console
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
    trainable.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=tc.weight_decay, clipnorm=1.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    has_val = len(val_idx) > 0
    started = time.perf_counter()
    cache = _feature_cache(built, dataset, train_idx, val_idx, modalities)
    feature_seconds = time.perf_counter() - started
    if cache is not None:
        stream = cache.stream(train_idx, targets[train_idx], tc.batch_size, shuffle_seed=tc.seed)
        val_stream = (
            cache.stream(val_idx, targets[val_idx], tc.batch_size, shuffle_seed=None)
            if has_val
            else None
        )
    else:
        stream = training_stream(
            dataset, train_idx, targets[train_idx], modalities, tc.batch_size,
            shuffle_seed=tc.seed,
        )
        val_stream = (
            training_stream(
                dataset, val_idx, targets[val_idx], modalities, tc.batch_size, shuffle_seed=None
            )
            if has_val
            else None
        )
    monitor = "val_loss" if has_val else "loss"
    stopper = keras.callbacks.EarlyStopping(
        monitor=monitor, mode="min", patience=tc.patience, restore_best_weights=True
    )
    history = trainable.fit(
        stream,
        validation_data=val_stream,
        epochs=tc.epochs,
        verbose=0,
        shuffle=False,
        callbacks=[stopper, RichProgress(console, tc.epochs)],
    )
    seconds = time.perf_counter() - started
    epochs_run = len(history.history["loss"])
    best_epoch = int(np.argmin(history.history[monitor])) + 1
    report = modality_report(
        trainable,
        dataset,
        val_idx if has_val else train_idx,
        targets,
        modalities,
        labels,
        tc.batch_size,
        batches=cache.batches if cache is not None else None,
        gates=built.head_weights,
    )
    meta = {
        "mmcli_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labels": labels,
        "modalities": modalities,
        "roles": dataset.schema["roles"],
        "config": config.to_dict(),
        "data": {
            "table": dataset.schema["source"]["table"],
            "sha256": dataset.schema["source"]["sha256"],
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
        "versions": _versions(keras),
    }
    return model, meta, history.history


def _build_model(modalities, config: RunConfig, *, num_classes: int, texts: list, console):
    """Build the model; with ``image_weights=auto`` and no ImageNet weights to be had, say so
    on stderr and fall back to ``small_cnn`` (the returned config records what was built)."""
    from mmcli.model.build import build
    from mmcli.model.image_encoders import WeightsUnavailableError

    def attempt(run: RunConfig):
        return build(
            modalities, run.model, num_classes=num_classes, image_size=run.prep.image_size,
            texts=texts, seed=run.train.seed,
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


def _feature_cache(built, dataset: Dataset, train_idx, val_idx, modalities):
    """For a frozen image backbone, its features of the training and validation rows,
    computed once; else None (the full model trains on the images)."""
    if built.head is None:
        return None
    from mmcli.model.cached import FeatureCache

    rows = np.concatenate([train_idx, val_idx])
    return FeatureCache(built.features, dataset, rows, modalities)


def save_bundle(
    model, meta: dict[str, Any], history: dict[str, list[float]], out: Path, *, force: bool = False
) -> None:
    """Write the bundle folder atomically: model.keras, history.csv, bundle.json (with hashes)."""
    with atomic_dir(out, force=force) as folder:
        model.save(folder / layout.MODEL_FILE)
        _write_history(folder / layout.HISTORY_FILE, history)
        write_meta(folder, meta)


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
