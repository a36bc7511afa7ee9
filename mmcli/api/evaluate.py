"""``mmcli evaluate`` as a library call: a bundle and labelled data in, metrics out."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmcli import layout
from mmcli.api.source import open_source
from mmcli.bundle import load_model, read_bundle
from mmcli.config import SPLIT_CHOICES, PrepConfig, replace
from mmcli.data.dataset import Dataset
from mmcli.errors import DataError, UsageError
from mmcli.modalities import RECORD_MODALITIES, modality_of, present_column
from mmcli.tasks import Task

if TYPE_CHECKING:
    import pandas as pd



@dataclass(frozen=True)
class Evaluation:
    """What an evaluation computed: the JSON-ready metrics and the per-row arrays behind them
    (for ``--errors`` and ``--report``), and the bundle's task, which reads them."""

    metrics: dict[str, Any]
    labels: list[str]
    rows: pd.DataFrame  # row, id, label and the <modality>_present flags of the scored rows
    targets: np.ndarray  # the task's y: class indices, or multi-hot rows
    proba: np.ndarray
    task: Task


def evaluate(bundle_path: str | Path, data: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Score a bundle on labelled data; the metrics only (see :func:`run_evaluation`)."""
    return run_evaluation(bundle_path, data, **kwargs).metrics


def run_evaluation(
    bundle_path: str | Path,
    data: str | Path | Sequence[str | Path],
    *,
    split: str = "auto",
    fmt: str | None = None,
    prep_overrides: dict[str, Any] | None = None,
    notify: Callable[[str], None] | None = None,
    attribution: bool = False,
    rejects: Callable[[Path], None] | None = None,
) -> Evaluation:
    """Score a bundle on labelled data (a prepared folder or a raw table).

    Args:
        bundle_path: the bundle folder.
        data: a prepared dataset or a raw table with a label column.
        split: which rows: ``auto`` (the test rows when there are any, else all),
            ``train``, ``val``, ``test`` or ``all``.
        fmt: the table format when the extension does not tell.
        prep_overrides: column-role flags for a raw table (``text_col`` and so on).
        notify: receives the one-line notes about the prepared-data cache (default: stderr).
        attribution: also compute ``modality_attribution`` (``--report``): the mean absolute
            Shapley value of each modality for each class, over the rows of that class
            (:func:`mmcli.model.explain.run.mean_attribution`; models with several modalities).
        rejects: called with the path of a rejects.csv holding the data's lines (every
            part's, in table order, for several prepared folders), then an
            ``unseen_category`` line per categorical cell of a scored row never seen in
            training, while it exists (to copy it).

    Returns:
        An :class:`Evaluation`; its metrics are the task's scores (:meth:`Task.evaluate`) and
        the modality ablation (:func:`mmcli.model.ablation.ablation`), documented in
        docs/architecture.md.

    Raises:
        BundleError, DataError, UsageError.
    """
    if split not in SPLIT_CHOICES:
        raise UsageError(f"Unknown split {split!r}. Choose one of: {', '.join(SPLIT_CHOICES)}")
    bundle = read_bundle(bundle_path)  # hashes and signature checked before TensorFlow loads
    from mmcli.model.ablation import ablation
    from mmcli.model.inference import dataset_proba, input_reports

    task, labels = bundle.task, list(bundle.labels)
    prep = replace(bundle.config.prep, **(prep_overrides or {}))
    with tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        no_column: dict[str, tuple[str, ...]] = {}
        dataset = open_source(data, prep, Path(work), fmt=fmt, notify=notify,
                              trained_roles=bundle.roles, on_absent=no_column.update)
        _check_compatible(dataset, bundle.modalities, bundle.config.prep)
        indices, chosen = _select(dataset, split, bundle.validation_ids)
        frame = dataset.examples
        targets = task.eval_targets(frame["label"].to_numpy()[indices],
                                    frame["row"].to_numpy()[indices], labels)
        model = load_model(bundle)
        modalities = list(bundle.modalities)
        batch = bundle.config.train.batch_size
        proba = dataset_proba(model, dataset, indices, modalities, batch)
        result: dict[str, Any] = {"bundle": str(bundle.folder), "data": _named(data),
                                  "split": chosen, "data_issues": data_issues(dataset)}
        absent = [m for m in modalities if m not in dataset.modalities or m in no_column]
        if absent:  # the model's inputs the data has no column for: masked in every row
            result["absent_modalities"] = absent
        rows = _scored_rows(dataset, indices, modalities)
        presence = {m: rows[present_column(m)].to_numpy(bool) for m in modalities}
        lost = missing_inputs(presence, absent, no_column, bundle.roles)
        if lost:
            result["missing_inputs"] = lost
        result.update(task.evaluate(targets, proba, labels, presence))
        result.update(ablation(model, dataset, indices, targets, modalities, task, labels, batch,
                               fused=proba))
        if attribution and len(modalities) > 1:
            from mmcli.model.explain.run import mean_attribution

            truth = (targets.astype(bool) if targets.ndim == 2
                     else np.eye(len(labels), dtype=bool)[targets])
            result["modality_attribution"] = mean_attribution(
                model, dataset, indices, modalities, truth, labels, max(batch, 64),
                bundle.config.prep)
        result.update(input_reports(model, dataset, indices, modalities, bundle.config.prep))
        if rejects is not None:  # every part's lines, then the scored rows' unseen categories
            rejects(_write_rejects([*dataset.reject_lines(),
                                    *_unseen_lines(model, bundle, dataset, indices)],
                                   Path(work) / layout.REJECTS_FILE))
    return Evaluation(result, labels, rows, targets, proba, task)


def _write_rejects(lines: list[list[str]], path: Path) -> Path:
    """``lines`` written to ``path`` as a rejects.csv."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(layout.REJECT_COLUMNS)
        writer.writerows(lines)
    return path


def _unseen_lines(model, bundle, dataset: Dataset, indices: np.ndarray) -> list[list[str]]:
    """A rejects line (``unseen_category``, action ``noted``) for each categorical cell of
    the scored rows never seen in training (the cells ``unseen_categories`` counts)."""
    from mmcli.api.row_issues import unseen_in_examples

    return [[row, row_id, i.column, i.reason, i.action, i.message]
            for (row, row_id), found in unseen_in_examples(model, bundle,
                                                           dataset.examples.iloc[indices])
            for i in found]


def data_issues(dataset: Dataset) -> dict[str, Any]:
    """What reading the data did to its rows (the preprocess summary's counts): ``rows``,
    ``kept``, ``masked``, ``rejected`` (never scored), ``issues`` (rejects.csv lines by
    ``action:reason``) and ``warnings`` (e.g. a modality lost in most rows)."""
    schema = dataset.schema
    return {"rows": schema.rows, "kept": schema.kept, "masked": schema.masked,
            "rejected": schema.rejected, "issues": dict(schema.issues),
            "warnings": list(schema.warnings)}


def missing_inputs(presence: dict[str, np.ndarray], absent: list[str],
                   no_column: dict[str, tuple[str, ...]], roles) -> dict[str, dict[str, Any]]:
    """The model's inputs the scored rows never had: ``{modality: {reason, columns, rows}}``,
    reason ``no_column`` (the table lacks its column) or ``missing_in_every_row``; ``rows``
    is how many scored rows lacked it (all of them)."""
    lost = {}
    for name, present in presence.items():
        if name in absent or (len(present) and not present.any()):
            columns = no_column.get(name) or _trained_columns(roles, name)
            lost[name] = {"reason": "no_column" if name in absent else "missing_in_every_row",
                          "columns": list(columns), "rows": int(len(present) - present.sum())}
    return lost


def _trained_columns(roles, name: str) -> tuple[str, ...]:
    column = roles.get(name) if name in roles else None
    return (column,) if isinstance(column, str) else ()


def _scored_rows(dataset: Dataset, indices: np.ndarray, names) -> pd.DataFrame:
    """The scored rows' row, id, label and the ``<m>_present`` flag of every modality records
    report (:data:`mmcli.modalities.RECORD_MODALITIES`) and of the model's (False for one
    the data has no column for)."""
    frame = dataset.examples.iloc[indices].reset_index(drop=True)
    rows = frame[["row", "id", "label"]].copy()
    for name in dict.fromkeys([*RECORD_MODALITIES, *names]):
        rows[present_column(name)] = dataset.present(name, indices).astype(bool)
    return rows


def misclassified(evaluation: Evaluation) -> list[dict[str, Any]]:
    """One record per wrongly predicted row (``evaluate --errors``): the task's
    :meth:`~mmcli.tasks.base.Task.misclassified`."""
    return evaluation.task.misclassified(evaluation.targets, evaluation.proba,
                                         evaluation.labels, evaluation.rows)


def _check_compatible(dataset: Dataset, names, trained: PrepConfig) -> None:
    """The prepared data's inputs must have the shapes the model was trained on.

    Raises:
        DataError: a modality's input differs (e.g. images prepared at another size).
    """
    for name in names:
        if name not in dataset.modalities:
            continue
        kind = modality_of(name)
        have, want = kind.input_spec(dataset.schema.prep), kind.input_spec(trained)
        if have != want:
            raise DataError(
                f"the prepared data's {name} input has shape {have[0]} but the model expects "
                f"{want[0]}; evaluate on the raw table, or preprocess it with the settings "
                "the model was trained with (mmcli inspect shows them)"
            )


def _select(dataset: Dataset, split: str,
            validation_ids: tuple[str, ...] | None = None) -> tuple[np.ndarray, str]:
    """The labelled rows to score. With the validation ids training recorded, ``val`` is those
    rows (by id, whatever their split cell) and ``train`` the training rows without them.

    Raises:
        DataError: no such rows; for ``val``, none of the recorded validation rows in the data.
    """
    frame = dataset.examples
    labelled = frame["label"].notna().to_numpy()
    if not labelled.any() and not dataset.schema.roles.get("label"):
        raise DataError("the data has no label column: evaluate scores predictions against "
                        "the true labels (name the column with --label-col; mmcli predict "
                        "needs none)")
    splits = frame["split"].to_numpy()
    if split == "auto":
        split = "test" if (splits == "test").any() else "all"
    chosen = labelled if split == "all" else labelled & (splits == split)
    if validation_ids is not None and split in ("train", "val"):
        used = frame["id"].astype(str).isin(set(validation_ids)).to_numpy()
        if split == "val":
            chosen = labelled & used & (splits != "test")
            if not validation_ids:
                raise DataError("training used no validation rows (--val-fraction 0 and no "
                                "'val' rows); choose another --split")
            if not chosen.any():
                raise DataError(
                    f"none of the {len(validation_ids)} validation rows training used is in "
                    "this data (matched by id); evaluate the table the bundle was trained on, "
                    "or choose another --split")
        else:
            chosen = chosen & ~used
    indices = np.flatnonzero(chosen)
    if len(indices) == 0:
        raise DataError(f"no labelled rows to evaluate in split {split!r}")
    return indices, split


def _named(data) -> str:
    """DATA as the JSON's ``data``: the path, or several joined by a space."""
    return str(data) if isinstance(data, (str, Path)) else " ".join(map(str, data))
