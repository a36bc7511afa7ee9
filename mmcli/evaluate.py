"""``mmcli evaluate`` as a library call: a bundle and labelled data in, metrics out."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mmcli.bundle import load_model, read_bundle
from mmcli.config import PrepConfig, replace
from mmcli.data.dataset import Dataset
from mmcli.data.source import open_source
from mmcli.errors import DataError, UsageError
from mmcli.metrics import classification_metrics
from mmcli.multilabel import evaluate as multilabel_evaluate
from mmcli.multilabel import is_multi_label

SPLIT_CHOICES = ("auto", "train", "val", "test", "all")


def evaluate(
    bundle_path: str | Path,
    data: str | Path,
    *,
    split: str = "auto",
    fmt: str | None = None,
    prep_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score a bundle on labelled data (a prepared folder or a raw table).

    Args:
        bundle_path: the bundle folder.
        data: a prepared dataset or a raw table with a label column.
        split: which rows: ``auto`` (the test rows when there are any, else all),
            ``train``, ``val``, ``test`` or ``all``.
        fmt: the table format when the extension does not tell.
        prep_overrides: column-role flags for a raw table (``text_col`` and so on).

    Returns:
        Metrics (see docs/architecture.md), with per-modality ablations.

    Raises:
        BundleError, DataError, UsageError.
    """
    from mmcli.model.evaluation import dataset_proba, fusion_weights

    if split not in SPLIT_CHOICES:
        raise UsageError(f"Unknown split {split!r}. Choose one of: {', '.join(SPLIT_CHOICES)}")
    bundle = read_bundle(bundle_path)
    prep = replace(PrepConfig(**bundle.meta["config"]["prep"]), **(prep_overrides or {}))
    with tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        dataset = open_source(data, prep, Path(work), fmt=fmt)
        _check_compatible(dataset, bundle.image_size)
        indices, chosen = _select(dataset, split)
        if is_multi_label(bundle.meta):  # multi-label hook: its scores are in mmcli/multilabel.py
            batch = int(bundle.meta["config"]["train"]["batch_size"])
            scored = multilabel_evaluate(load_model(bundle), dataset, indices, bundle.meta, batch)
            return {"bundle": str(bundle.folder), "data": str(data), "split": chosen, **scored}
        targets = _targets(dataset, indices, bundle.labels)
        model = load_model(bundle)
        modalities = bundle.modalities
        batch = int(bundle.meta["config"]["train"]["batch_size"])
        proba = dataset_proba(model, dataset, indices, modalities, batch)
        result: dict[str, Any] = {"bundle": str(bundle.folder), "data": str(data), "split": chosen}
        result.update(classification_metrics(targets, proba, bundle.labels))
        if len(modalities) > 1:
            result["modalities"] = {}
            for keep in modalities:
                hidden = [m for m in modalities if m != keep]
                only = dataset_proba(model, dataset, indices, modalities, batch, hidden=hidden)
                result["modalities"][f"{keep}_only"] = float(
                    np.mean(np.argmax(only, axis=1) == targets)
                )
            result["fusion_weights"] = fusion_weights(model, dataset, indices, modalities, batch)
    return result


def _check_compatible(dataset: Dataset, image_size: int) -> None:
    size = dataset.schema["prep"]["image_size"]
    if "image" in dataset.schema["modalities"] and size != image_size:
        raise DataError(
            f"the prepared data has {size}px images but the model expects {image_size}px; "
            "evaluate on the raw table, or preprocess with --image-size "
            f"{image_size}"
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
