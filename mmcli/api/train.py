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
from mmcli.api.export import trained_engine_export
from mmcli.api.manifest import RunRecord, bundle_meta
from mmcli.api.source import open_source
from mmcli.bundle import write_meta
from mmcli.config import PrepConfig, RunConfig
from mmcli.data.coverage import lost_everywhere, refusal, warning_text
from mmcli.data.dataset import Dataset, is_dataset
from mmcli.data.parts import expand_data
from mmcli.data.split import Split, split_indices
from mmcli.errors import DataError, UsageError
from mmcli.io.atomic import atomic_dir, check_writable
from mmcli.io.checkpoint import Checkpoints
from mmcli.io.cluster import WorkerCheckpoints, cluster_role
from mmcli.io.signature import signing_key


def train(
    data: str | Path | Sequence[str | Path],
    config: RunConfig,
    out: Path,
    *,
    force: bool = False,
    fmt: str | None = None,
    console=None,
    resume: bool = False,
    command: list[str] | None = None,
    on_warning: Callable[[str], None] | None = None,
    engine_export: bool = True,
    strategy: str = "auto",
    mixed_precision: bool = False,
    callbacks: Sequence[Any] = (),
    tensorboard: Path | None = None,
) -> dict[str, Any]:
    """Train a fused model on ``data`` and write the bundle ``out``; with ``engine_export``
    also its LiteRT export in ``engine/`` (checked on the first rows; its figures and seconds
    under ``training.engine_export``), so ``mmcli predict`` runs without TensorFlow. A failed
    conversion or check is a warning, not a failed run.

    ``strategy`` (:mod:`mmcli.model.distribute`): under ``multi-worker`` every worker runs
    this same call; the chief (:mod:`mmcli.io.cluster`) writes ``out`` and ``<out>.ckpt``,
    the others only their own temporary folder, removed at the end.

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
    role = cluster_role()
    if strategy == "multi-worker" or (strategy == "auto" and role.clustered):
        if console is not None:
            console.print(f"mmcli: {role.describe()}", markup=False)
        if not role.chief:
            with tempfile.TemporaryDirectory(prefix="mmcli-worker-") as own:
                mine = Path(own) / "bundle"
                return _train(data, config, mine, WorkerCheckpoints(mine, out, resume=resume),
                              fmt=fmt, console=console, command=command,
                              on_warning=on_warning, strategy=strategy,
                              mixed_precision=mixed_precision, role=role,
                              engine_export=False, callbacks=callbacks)
    check_writable(Path(out), force=force, folder=True)
    checkpoints = Checkpoints(Path(out), resume=resume, force=force)  # locks out; <out>.ckpt
    return _train(data, config, Path(out), checkpoints, force=force, fmt=fmt, console=console,
                  command=command, on_warning=on_warning, strategy=strategy,
                  mixed_precision=mixed_precision, role=role, engine_export=engine_export,
                  callbacks=callbacks, tensorboard=tensorboard)


def _train(data, config: RunConfig, out: Path, checkpoints, *, force: bool = False,
           fmt=None, console=None, command=None, on_warning=None, strategy: str = "auto",
           mixed_precision: bool = False, role=None, engine_export: bool = True,
           callbacks: Sequence[Any] = (), tensorboard: Path | None = None) -> dict[str, Any]:
    with checkpoints, tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        notify = (lambda m: console.print(m, markup=False)) if console is not None else None
        dataset = open_source(data, config.prep, Path(work), fmt=fmt, need_label=True,
                              notify=notify)
        _check_coverage(dataset, config.prep, on_warning)
        if all(s != "-" and is_dataset(Path(s)) for s in expand_data(data)):
            config = replace(config, prep=_prepared_config(dataset, config.prep))
        else:  # what detection settled about the columns travels in the bundle
            config = replace(config, prep=_settled(dataset, config.prep))
        model, meta, history = fit(dataset, config, console=console, command=command,
                                   checkpoints=checkpoints, strategy=strategy,
                                   mixed_precision=mixed_precision, role=role,
                                   callbacks=callbacks, tensorboard=tensorboard)
        engine = (lambda: trained_engine_export(model, dataset, meta, on_warning)) \
            if engine_export else None
        save_bundle(model, meta, history, Path(out), force=force, engine=engine)
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
        them = "it" if len(lost) == 1 else "them"
        raise DataError(refusal(lost, f"training would learn nothing from {them}: ", ""
                                ).rstrip())
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
        checkpoints=None, strategy: str = "one", mixed_precision: bool = False, role=None,
        callbacks: Sequence[Any] = (), tensorboard: Path | None = None):
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
    from mmcli.io.cluster import Role
    from mmcli.model import training
    from mmcli.model.checkpoint import resume_training
    from mmcli.model.distribute import place
    from mmcli.model.distributed_fit import train_epochs
    from mmcli.tasks import task_for

    task = task_for(config.train)
    placement = place(strategy, role or Role(), mixed_precision=mixed_precision)
    split = targets_step(dataset, config, task)
    with placement.scope():
        built, config = training.build_model(dataset, split, config, task, console)
        trainable = built.trainable  # with each modality's auxiliary head when it has them
        resume = resume_training(checkpoints, trainable, config, dataset, split.train, split.val)
    started = time.perf_counter()
    streams = training.make_streams(built, dataset, split, config, resume.initial_epoch)
    callbacks = [*callbacks, *_board(tensorboard, built, dataset, split, streams, config)]
    built, history, monitor = train_epochs(built, streams, config, resume, placement, task,
                                           console, dataset=dataset, split=split,
                                           callbacks=callbacks)
    run = RunRecord(history, monitor, time.perf_counter() - started + resume.seconds,
                    streams.feature_seconds)
    validation, task = report_step(built, dataset, split, streams, task, config)
    meta = bundle_meta(dataset, config, split, task, validation, run, command)
    meta["training"]["distribution"] = {**placement.to_dict(), "workers": (role or Role()).tasks}
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
    model, meta: dict[str, Any], history: dict[str, list[float]], out: Path, *,
    force: bool = False, engine: Callable[[], tuple | None] | None = None,
) -> None:
    """Write the bundle folder atomically: model.keras, history.csv, bundle.json (with hashes)
    and, when ``MMCLI_SIGNING_KEY`` is set, bundle.sig."""
    with atomic_dir(out, force=force) as folder:
        model.save(folder / layout.MODEL_FILE)
        _write_history(folder / layout.HISTORY_FILE, history)
        from mmcli.report.curves import save_curves

        save_curves(history, folder / layout.CURVES_FILE, title=_curves_title(meta))
        exported = engine() if engine is not None else None
        if exported is not None:
            from mmcli.api.export import write_numeric

            (folder / layout.ENGINE_DIR).mkdir()
            write_numeric(folder / layout.ENGINE_DIR, "tflite", *exported)
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
