"""``mmcli predict`` as a library call: a bundle and rows in, one record per row out, in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mmcli.bundle import Bundle, load_model
from mmcli.config import PrepConfig, replace
from mmcli.data.roles import detect_roles
from mmcli.data.rows import Row, iter_rows
from mmcli.io.tables import read_table


def predict_records(
    bundle: Bundle,
    source: str | Path,
    *,
    fmt: str | None = None,
    top_k: int = 3,
    batch_size: int = 256,
    prep_overrides: dict[str, Any] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_row: Callable[[], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one prediction record per input row, in input order.

    A row that cannot be used (no usable image nor text) is not skipped: its record has
    ``label`` None and an ``error`` message.
    """
    from mmcli.model.evaluation import predict_proba
    from mmcli.model.feed import rows_inputs

    prep = replace(PrepConfig(**bundle.meta["config"]["prep"]), **(prep_overrides or {}))
    prep = replace(prep, label_col=None, split_col=None, on_missing="keep")
    table = read_table(source, fmt=fmt)
    roles = detect_roles(table.frame, prep, name=table.name)
    if on_start is not None:
        on_start(len(table.frame))
    model = load_model(bundle)
    labels = bundle.labels
    rows = iter_rows(table, roles, prep, need_label=False, dedupe_ids=False, on_row=on_row)
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == batch_size:
            yield from _predict_batch(
                model, batch, bundle, labels, top_k, predict_proba, rows_inputs
            )
            batch = []
    if batch:
        yield from _predict_batch(model, batch, bundle, labels, top_k, predict_proba, rows_inputs)


def _predict_batch(model, batch, bundle, labels, top_k, predict_proba, rows_inputs):
    from mmcli import multilabel  # multi-label hook: records with `labels` over thresholds

    multi = bundle.meta.get("multi_label")
    usable = [r for r in batch if not r.rejected]
    proba = (
        predict_proba(model, rows_inputs(usable, bundle.modalities, bundle.image_size))
        if usable
        else np.zeros((0, len(labels)))
    )
    position = 0
    for row in batch:
        if row.rejected:
            yield multilabel.error_record(_error_record(row)) if multi else _error_record(row)
            continue
        if multi:
            yield multilabel.record(row, proba[position], labels, multi["thresholds"])
        else:
            yield _record(row, proba[position], labels, top_k)
        position += 1


def _record(row: Row, proba: np.ndarray, labels: list[str], top_k: int) -> dict[str, Any]:
    order = np.argsort(-proba, kind="stable")
    best = int(order[0])
    return {
        "id": row.id,
        "label": labels[best],
        "probability": round(float(proba[best]), 6),
        "probabilities": {
            label: round(float(p), 6) for label, p in zip(labels, proba, strict=True)
        },
        "top_k": [
            {"label": labels[i], "probability": round(float(proba[i]), 6)} for i in order[:top_k]
        ],
        "image_present": row.image_present,
        "text_present": row.text_present,
        "error": None,
    }


def _error_record(row: Row) -> dict[str, Any]:
    reasons = "; ".join(f"{i.column}: {i.message}".lstrip(": ") for i in row.issues)
    return {
        "id": row.id,
        "label": None,
        "probability": None,
        "probabilities": None,
        "top_k": [],
        "image_present": False,
        "text_present": False,
        "error": reasons or "row not usable",
    }
