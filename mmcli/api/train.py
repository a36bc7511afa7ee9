"""``mmcli train`` as a library call: data in, bundle out."""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from mmcli import layout
from mmcli.api.manifest import RunRecord, bundle_meta
from mmcli.api.source import open_source
from mmcli.bundle import write_meta
from mmcli.config import PrepConfig, RunConfig
from mmcli.data.coverage import lost_everywhere, warning_text
from mmcli.data.dataset import Dataset, is_dataset
from mmcli.data.split import Split, split_indices
from mmcli.errors import DataError, UsageError
from mmcli.io.atomic import atomic_dir, check_writable
from mmcli.io.checkpoint import Checkpoints
from mmcli.io.signature import signing_key


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
    on_warning: Callable[[str], None] | None = None,
    callbacks: Sequence[Any] = (),
    tensorboard: Path | None = None,
) -> dict[str, Any]:
    """Train a fused model on ``data`` and write the bundle ``out``.

    Returns:
        The bundle metadata (also written to ``out/bundle.json``).

    ``callbacks``: further Keras callbacks for the epochs (``mmcli tune``'s pruning, a
    TensorBoard writer); they run after the progress and checkpoint callbacks.
    ``tensorboard``: a folder for TensorBoard logs (:mod:`mmcli.model.board`).

    ``on_warning`` receives a line per warning about the data (a modality missing in more
    than ``max_missing_fraction`` of the rows: :mod:`mmcli.data.coverage`) before training.

    Raises:
        DataError: unusable data (no training rows, a single class, no text to learn from, a
            modality missing in every row without ``allow_missing_modality``).
        OutputExistsError: ``out`` exists and ``force`` is false.
        OutputLockedError: another mmcli process is writing ``out``.
        UsageError: ``resume`` without a checkpoint to resume, or with other data or flags;
            ``tensorboard`` without the tensorboard package.
    """
    if tensorboard is not None:
        from mmcli.model.board import require_tensorboard

        require_tensorboard()
    check_writable(Path(out), force=force)
    checkpoints = Checkpoints(Path(out), resume=resume, force=force)  # locks out; <out>.ckpt
    with checkpoints, tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        notify = (lambda m: console.print(m, markup=False)) if console is not None else None
        dataset = open_source(data, config.prep, Path(work), fmt=fmt, need_label=True,
                              notify=notify)
        _check_coverage(dataset, config.prep, on_warning)
        if is_dataset(Path(data)) and str(data) != "-":
            config = replace(config, prep=_prepared_config(dataset, config.prep))
        else:  # what detection settled about the columns travels in the bundle
            config = replace(config, prep=_settled(dataset, config.prep))
        model, meta, history = fit(dataset, config, console=console, command=command,
                                   checkpoints=checkpoints, callbacks=callbacks,
                                   tensorboard=tensorboard)
        save_bundle(model, meta, history, Path(out), force=force)
        checkpoints.finish()
        return meta


def _check_coverage(dataset: Dataset, given: PrepConfig,
                    on_warning: Callable[[str], None] | None) -> None:
    """Say each modality_lost warning; refuse a modality lost in every row unless allowed."""
    warnings = [w for w in dataset.schema.warnings if isinstance(w, dict)]
    for warning in warnings:
        if on_warning is not None:
            on_warning(warning_text(warning))
    lost = lost_everywhere(warnings)
    if lost and not given.allow_missing_modality:
        raise DataError(f"{lost[0]['message']}; training would learn nothing from it: fix the "
                        "table (or --image-root), or pass --allow-missing-modality")
def _settled(dataset: Dataset, given: PrepConfig) -> PrepConfig:
    from mmcli import modalities

    fields = {f for impl in modalities.REGISTRY.values() for f in impl.settles}
    return replace(given, **{f: getattr(dataset.schema.prep, f) for f in fields})


def _prepared_config(dataset: Dataset, given: PrepConfig) -> PrepConfig:
    stored = dataset.schema.prep
    if given.image_size != PrepConfig().image_size and given.image_size != stored.image_size:
        raise UsageError(
            f"--image-size {given.image_size} differs from the prepared dataset's "
            f"{stored.image_size}; run mmcli preprocess again or train on the raw table"
        )
    return stored


def fit(dataset: Dataset, config: RunConfig, *, console=None, command: list[str] | None = None,
        checkpoints=None, callbacks: Sequence[Any] = (), tensorboard: Path | None = None):
    """Build and train the fused model on a prepared dataset, in named steps: targets, build,
    streams, fit, report, metadata.

    The task (:mod:`mmcli.tasks`, chosen by ``config.train``) gives the targets, the head and
    its loss, and what it tunes on the validation rows after training (multi-label
    thresholds); the validation report is its scores plus the modality ablation.

    With ``checkpoints`` (:class:`mmcli.io.checkpoint.Checkpoints`) the state is saved after
    every epoch, and a saved checkpoint is resumed.

    Returns:
        ``(model, meta, history)``: the trained Keras model (best weights restored), the
        bundle metadata, and the per-epoch history dict.

    Raises:
        DataError: no labelled training rows, or targets the task cannot train on.
    """
    from mmcli.model import training
    from mmcli.model.checkpoint import resume_training
    from mmcli.tasks import task_for

    task = task_for(config.train)
    split = targets_step(dataset, config, task)
    built, config = training.build_model(dataset, split, config, task, console)
    trainable = built.head if built.head is not None else built.model
    resume = resume_training(checkpoints, trainable, config, dataset, split.train, split.val)
    started = time.perf_counter()
    streams = training.make_streams(built, dataset, split, config, resume.initial_epoch)
    callbacks = [*callbacks, *_board(tensorboard, built, dataset, split, streams, config)]
    history, monitor = training.run_epochs(trainable, streams, config, resume, console,
                                           callbacks=callbacks)
    run = RunRecord(history, monitor, time.perf_counter() - started + resume.seconds,
                    streams.feature_seconds)
    validation, task = report_step(built, dataset, split, streams, task, config)
    meta = bundle_meta(dataset, config, split, task, validation, run, command)
    inputs = {m: f.to_dict() for m, f in built.fit.items() if hasattr(f, "to_dict")}
    if inputs:  # statistics fitted on the training rows (tabular: medians, constant columns)
        meta["training"]["inputs"] = inputs
    return built.model, meta, history


def _board(folder: Path | None, built, dataset: Dataset, split: Split, streams, config):
    """TensorBoard's callbacks, the fusion weights on the validation rows included."""
    from mmcli.model.board import tensorboard_callbacks
    from mmcli.model.inference import fusion_weights

    trainable = built.head if built.head is not None else built.model
    return tensorboard_callbacks(folder, lambda: fusion_weights(
        trainable, dataset, split.val, dataset.modalities, config.train.batch_size,
        batches=streams.batches, gates=built.head_weights))


def targets_step(dataset: Dataset, config: RunConfig, task) -> Split:
    """The training and validation rows and every example's targets.

    Raises:
        DataError: no labelled training rows, or targets the task cannot train on.
    """
    tc = config.train
    train_idx, val_idx = split_indices(dataset, tc.val_fraction, tc.seed)
    if len(train_idx) == 0:
        raise DataError("no labelled training rows (all rows are test or were rejected)")
    targets = task.targets(dataset.examples["label"], train_idx, dataset.labels)
    return Split(train_idx, val_idx, targets)


def report_step(built, dataset: Dataset, split: Split, streams, task, config: RunConfig):
    """Score the trained model on the validation rows (the training rows without them): the
    task tunes what it tunes there (multi-label thresholds), then its scores and the modality
    ablation. Returns ``(validation report, tuned task)``."""
    from mmcli.model.ablation import ablation
    from mmcli.model.inference import dataset_proba, input_reports

    trainable = built.head if built.head is not None else built.model
    scored, labels, batch = split.scored, split.targets.labels, config.train.batch_size
    y = split.targets.y[scored]
    proba = dataset_proba(trainable, dataset, scored, dataset.modalities, batch,
                          batches=streams.batches)
    task = task.tune(y, proba, labels)
    report = {
        "rows": int(len(scored)),
        **task.validation(y, proba, labels),
        **ablation(trainable, dataset, scored, y, dataset.modalities, task, labels, batch,
                   fused=proba, batches=streams.batches, gates=built.head_weights),
        **input_reports(trainable, dataset, scored, dataset.modalities, config.prep),
    }
    return report, task


def save_bundle(
    model, meta: dict[str, Any], history: dict[str, list[float]], out: Path, *, force: bool = False
) -> None:
    """Write the bundle folder atomically: model.keras, history.csv, bundle.json (with hashes)
    and, when ``MMCLI_SIGNING_KEY`` is set, bundle.sig."""
    with atomic_dir(out, force=force) as folder:
        model.save(folder / layout.MODEL_FILE)
        _write_history(folder / layout.HISTORY_FILE, history)
        from mmcli.report.curves import save_curves

        save_curves(history, folder / layout.CURVES_FILE, title=_curves_title(meta))
        write_meta(folder, meta, key=signing_key())


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
