"""``mmcli evaluate`` as a library call: a bundle and labelled data in, metrics out."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmcli.api.source import open_source
from mmcli.bundle import load_model, read_bundle
from mmcli.config import SPLIT_CHOICES, PrepConfig, replace
from mmcli.data.dataset import Dataset
from mmcli.errors import DataError, UsageError
from mmcli.metrics import accuracy, classification_metrics, full_metrics
from mmcli.modalities import RECORD_MODALITIES, modality_of, present_column
from mmcli.multilabel import evaluate as multilabel_evaluate
from mmcli.multilabel import is_multi_label

if TYPE_CHECKING:
    import pandas as pd

TOP_K = (1, 3, 5)


@dataclass(frozen=True)
class Evaluation:
    """What an evaluation computed: the JSON-ready metrics and the per-row arrays behind them
    (for ``--errors`` and ``--report``)."""

    metrics: dict[str, Any]
    labels: list[str]
    rows: pd.DataFrame  # row, id, label and the <modality>_present flags of the scored rows
    targets: np.ndarray
    proba: np.ndarray


def evaluate(bundle_path: str | Path, data: str | Path, **kwargs: Any) -> dict[str, Any]:
    """Score a bundle on labelled data; the metrics only (see :func:`run_evaluation`)."""
    return run_evaluation(bundle_path, data, **kwargs).metrics


def run_evaluation(
    bundle_path: str | Path,
    data: str | Path,
    *,
    split: str = "auto",
    fmt: str | None = None,
    prep_overrides: dict[str, Any] | None = None,
) -> Evaluation:
    """Score a single-label bundle on labelled data (a prepared folder or a raw table).

    Args:
        bundle_path: the bundle folder.
        data: a prepared dataset or a raw table with a label column.
        split: which rows: ``auto`` (the test rows when there are any, else all),
            ``train``, ``val``, ``test`` or ``all``.
        fmt: the table format when the extension does not tell.
        prep_overrides: column-role flags for a raw table (``text_col`` and so on).

    Returns:
        An :class:`Evaluation`; its metrics' keys are documented in docs/architecture.md.

    Raises:
        BundleError, DataError, UsageError.
    """
    from mmcli.model.inference import dataset_proba, fusion_weights

    if split not in SPLIT_CHOICES:
        raise UsageError(f"Unknown split {split!r}. Choose one of: {', '.join(SPLIT_CHOICES)}")
    bundle = read_bundle(bundle_path)
    trained = PrepConfig(**bundle.meta["config"]["prep"])
    prep = replace(trained, **(prep_overrides or {}))
    with tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        dataset = open_source(data, prep, Path(work), fmt=fmt)
        _check_compatible(dataset, bundle.modalities, trained)
        indices, chosen = _select(dataset, split)
        if is_multi_label(bundle.meta):  # multi-label hook: its scores are in mmcli/multilabel.py
            batch = int(bundle.meta["config"]["train"]["batch_size"])
            scored = multilabel_evaluate(load_model(bundle), dataset, indices, bundle.meta, batch)
            metrics = {"bundle": str(bundle.folder), "data": str(data), "split": chosen, **scored}
            rows = _scored_rows(dataset, indices, bundle.modalities)
            return Evaluation(metrics, bundle.labels, rows, np.zeros(0, np.int64),
                              np.zeros((0, len(bundle.labels))))
        targets = _targets(dataset, indices, bundle.labels)
        model = load_model(bundle)
        modalities = bundle.modalities
        batch = int(bundle.meta["config"]["train"]["batch_size"])
        proba = dataset_proba(model, dataset, indices, modalities, batch)
        result: dict[str, Any] = {"bundle": str(bundle.folder), "data": str(data), "split": chosen}
        absent = [m for m in modalities if m not in dataset.modalities]
        if absent:  # the model's inputs the data has no column for: masked in every row
            result["absent_modalities"] = absent
        result.update(full_metrics(targets, proba, bundle.labels, top_k=TOP_K))
        rows = _scored_rows(dataset, indices, modalities)
        if len(modalities) > 1:
            alone = {
                keep: dataset_proba(
                    model,
                    dataset,
                    indices,
                    modalities,
                    batch,
                    hidden=[m for m in modalities if m != keep],
                )
                for keep in modalities
            }
            result.update(modality_ablation(targets, proba, alone))
            result["fusion_weights"] = fusion_weights(model, dataset, indices, modalities, batch)
            flags = [present_column(m) for m in modalities]
            result["by_missingness"] = missingness_metrics(
                targets, proba, rows[flags], bundle.labels)
    return Evaluation(result, bundle.labels, rows, targets, proba)


def modality_ablation(
    targets: np.ndarray, proba: np.ndarray, alone: dict[str, np.ndarray]
) -> dict[str, Any]:
    """Accuracy with only one modality (the others masked) and each modality's contribution:
    the fused accuracy minus the accuracy without that modality."""
    fused = accuracy(targets, proba)
    only = {m: accuracy(targets, p) for m, p in alone.items()}
    contribution = {}
    for name in alone:
        others = [only[m] for m in alone if m != name]
        without = max(others) if others else float("nan")
        contribution[name] = fused - without
    best = max(only.values())
    return {
        "modalities": {f"{m}_only": v for m, v in only.items()},
        "modality_contribution": contribution,
        "fusion_gain": fused - best,
    }


def missingness_metrics(
    targets: np.ndarray, proba: np.ndarray, present: pd.DataFrame, labels: list[str]
) -> dict[str, Any] | None:
    """``present`` holds one ``<m>_present`` column per model modality, in order.

    Accuracy and macro F1 by which modalities a row had after preprocessing: every
    non-empty set of the model's modalities, keyed ``both`` (or ``all`` beyond two) for the
    complete rows and ``<m>_only`` / ``<m>+<n>_only`` for the others (``image_only`` and
    ``text_only`` for an image + text model). None when no scored row was masked."""
    from itertools import combinations

    names = [c[: -len("_present")] for c in present.columns]
    have = present.to_numpy(bool)
    if have.all():
        return None
    out: dict[str, Any] = {}
    for size in range(len(names), 0, -1):
        for subset in combinations(range(len(names)), size):
            want = np.zeros(len(names), bool)
            want[list(subset)] = True
            key = ("both" if len(names) == 2 else "all") if size == len(names) else (
                "+".join(names[i] for i in subset) + "_only")
            chosen = (have == want).all(axis=1)
            n = int(chosen.sum())
            if n == 0:
                out[key] = {"n": 0, "accuracy": None, "macro_f1": None}
                continue
            scores = classification_metrics(targets[chosen], proba[chosen], labels)
            out[key] = {"n": n, "accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}
    return out


def _scored_rows(dataset: Dataset, indices: np.ndarray, names) -> pd.DataFrame:
    """The scored rows' row, id, label and the ``<m>_present`` flag of every modality records
    report (:data:`mmcli.modalities.RECORD_MODALITIES`) and of the model's (False for one
    the data has no column for)."""
    frame = dataset.examples.iloc[indices].reset_index(drop=True)
    rows = frame[["row", "id", "label"]].copy()
    for name in dict.fromkeys([*RECORD_MODALITIES, *names]):
        rows[present_column(name)] = dataset.present(name, indices).astype(bool)
    return rows


def misclassified(evaluation: Evaluation, top_k: int = 3) -> list[dict[str, Any]]:
    """One record per wrongly predicted row: where it is, the truth, and the top predictions."""
    labels = evaluation.labels
    predicted = np.argmax(evaluation.proba, axis=1)
    records = []
    for i in np.flatnonzero(predicted != evaluation.targets):
        p = evaluation.proba[i]
        order = np.argsort(-p, kind="stable")[:top_k]
        row = evaluation.rows.iloc[i]
        records.append(
            {
                "row": int(row["row"]),
                "id": str(row["id"]),
                "label": labels[evaluation.targets[i]],
                "predicted": labels[predicted[i]],
                "probability": round(float(p[predicted[i]]), 6),
                "true_probability": round(float(p[evaluation.targets[i]]), 6),
                "top_k": [
                    {"label": labels[j], "probability": round(float(p[j]), 6)} for j in order
                ],
                **{c: bool(row[c]) for c in evaluation.rows.columns if c.endswith("_present")},
            }
        )
    return records


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


def _select(dataset: Dataset, split: str) -> tuple[np.ndarray, str]:
    frame = dataset.examples
    labelled = frame["label"].notna().to_numpy()
    splits = frame["split"].to_numpy()
    if split == "auto":
        split = "test" if (splits == "test").any() else "all"
    chosen = labelled if split == "all" else labelled & (splits == split)
    indices = np.flatnonzero(chosen)
    if len(indices) == 0:
        raise DataError(f"no labelled rows to evaluate in split {split!r}")
    return indices, split


def _targets(dataset: Dataset, indices: np.ndarray, labels: list[str]) -> np.ndarray:
    lookup = {label: i for i, label in enumerate(labels)}
    frame = dataset.examples
    values = frame["label"].to_numpy()[indices]
    unknown = [
        (frame["row"].iloc[i], v) for i, v in zip(indices, values, strict=True) if v not in lookup
    ]
    if unknown:
        row, value = unknown[0]
        raise DataError(
            f"row {row}: unknown label {value!r} ({len(unknown)} row(s) with labels the model "
            f"was not trained on); the model knows: {', '.join(labels)}"
        )
    return np.array([lookup[v] for v in values], dtype=np.int64)
