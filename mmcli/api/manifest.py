"""The metadata of a trained bundle (``bundle.json`` less its file hashes): what was trained,
on what, how it scored on validation, and how to reproduce it."""

from __future__ import annotations

import hashlib
import platform
import shlex
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmcli import __version__
from mmcli.config import RunConfig
from mmcli.data.dataset import Dataset
from mmcli.tasks.base import Task


@dataclass(frozen=True)
class RunRecord:
    """How the epochs went: the whole history, the key early stopping watched, the seconds
    spent (features and epochs) and those spent computing frozen features."""

    history: dict[str, list[float]]
    monitor: str
    seconds: float
    feature_seconds: float


def bundle_meta(dataset: Dataset, config: RunConfig, split, task: Task,
                validation: dict[str, Any], run: RunRecord,
                command: list[str] | None) -> dict[str, Any]:
    """The bundle metadata (keys documented in docs/architecture.md, On-disk formats)."""
    labels = split.targets.labels
    epochs_run = len(run.history["loss"])
    versions = library_versions()
    meta = {
        "mmcli_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "labels": labels,
        "modalities": dataset.modalities,
        "roles": dataset.schema.roles,
        "config": config.to_dict(),
        "data": {
            "table": dataset.schema.table,
            "sha256": dataset.schema.sha256,
            "train_rows": int(len(split.train)),
            "val_rows": int(len(split.val)),
            "warnings": list(dataset.schema.warnings),
            "rows": dataset.schema.rows,
            "rejected": dataset.schema.rejected,
            "rejected_by_reason": rejected_by_reason(dataset.schema.issues),
        },
        "training": {
            "epochs_run": epochs_run,
            "best_epoch": int(np.argmin(run.history[run.monitor])) + 1,
            "seconds": round(run.seconds, 2),
            "feature_seconds": round(run.feature_seconds, 2),
            "samples_per_second": round(len(split.train) * epochs_run / run.seconds, 1),
            **auxiliary(run, dataset.modalities, val=len(split.val) > 0),
        },
        "validation": {"on": "val" if len(split.val) else "train", **validation},
        "head": task.head.to_dict(split.targets.class_weights),
        "versions": versions,
        "manifest": {
            "seed": config.train.seed,
            "deterministic": config.train.deterministic,
            "data_sha256": data_sha256(dataset),
            "table_sha256": dataset.schema.sha256,
            "command": shlex.join(command) if command else None,
            "platform": platform.platform(),
            "versions": versions,
        },
    }
    meta.update(task.bundle_state(labels))
    meta["validation_ids"] = [str(i) for i in dataset.examples["id"].to_numpy()[split.val]]
    return meta


def auxiliary(run: RunRecord, names: list[str], *, val: bool) -> dict[str, Any]:
    """``{"auxiliary": {modality: {metric: score}}}``: each modality's auxiliary head
    (``model.aux_loss_weight``) scored at the best epoch, on the validation rows (the
    training rows without them), from the history's ``[val_]aux_<m>_<metric>``; empty
    for a model without auxiliary heads."""
    prefix = "val_aux_" if val else "aux_"
    best = int(np.argmin(run.history[run.monitor]))
    scores: dict[str, dict[str, float]] = {}
    for key, values in run.history.items():
        if key.startswith(prefix) and not key.endswith("_loss"):
            for metric in ("accuracy", "micro_f1"):
                if key.endswith(f"_{metric}"):
                    name = key[len(prefix):-len(metric) - 1]
                    scores.setdefault(name, {})[metric] = round(float(values[best]), 4)
    ordered = {name: scores[name] for name in names if name in scores}
    return {"auxiliary": ordered} if ordered else {}


def rejected_by_reason(issues: dict[str, int]) -> dict[str, int]:
    """The rejected rows' issues counted by reason (``rejected:<reason>`` in the schema's
    ``issues``; a row rejected for two reasons counts under both)."""
    prefix = "rejected:"
    return {k.removeprefix(prefix): v for k, v in issues.items() if k.startswith(prefix)}


def data_sha256(dataset: Dataset) -> str:
    """SHA-256 of what training saw: the examples (ids, splits, labels, texts, masks) and every
    stored array (decoded pixels ...), independent of file formats."""
    import pandas as pd

    digest = hashlib.sha256()
    frame = dataset.examples
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    for shard in dataset.all_shards():
        for start in range(0, len(shard), 256):
            digest.update(np.ascontiguousarray(shard[start : start + 256]).tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries a bundle's numbers depend on."""
    import keras
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
