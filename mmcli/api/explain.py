"""``mmcli explain`` as a library call: a bundle and rows in, a folder of explanations out.

For each chosen row: the Shapley value of every modality for the target class's probability
and log-odds (:mod:`mmcli.model.explain.shapley`), and inside each present modality what its
kind's explainer finds (image: Integrated Gradients as a PNG overlay; text: a score per
token). Written atomically into DIR: ``explanations.jsonl`` (one object per row),
``images/*.png`` and ``index.html``.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmcli.api.evaluate import _check_compatible, data_issues
from mmcli.api.row_issues import issue_dicts, lines_by_row, unseen_in_examples
from mmcli.api.source import open_source
from mmcli.bundle import Bundle, load_model, read_bundle
from mmcli.config import replace
from mmcli.errors import DataError, UsageError
from mmcli.io.atomic import atomic_dir, check_writable
from mmcli.modalities import present_column

RECORDS_FILE = "explanations.jsonl"
PAGE_FILE = "index.html"
PICTURES = "images"
TARGETS = ("predicted", "true")  # or a label of the model


@dataclass(frozen=True)
class ExplainOptions:
    """Which rows and what to explain. ``rows``: the first N rows of the data (when ``ids`` is
    None); ``target``: ``predicted``, ``true`` or a label; ``steps``: Integrated Gradients'
    steps; ``seed``: sampled Shapley values (more than 6 modalities)."""

    rows: int = 50
    ids: tuple[str, ...] | None = None
    target: str = "predicted"
    seed: int = 0
    steps: int = 16
    batch_size: int = 32

    def __post_init__(self) -> None:
        for name in ("rows", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"Expected a positive integer for `{name}`. "
                                 f"Received: {name}={getattr(self, name)}")
        if self.ids is not None and not self.ids:
            raise UsageError("--ids: give at least one id")


@dataclass(frozen=True)
class ExplainSummary:
    """What was written."""

    out: Path
    rows: int
    pictures: int
    methods: dict[str, str | None] = field(default_factory=dict)
    data_issues: dict[str, Any] = field(default_factory=dict)  # as evaluate's

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "rows": self.rows, "pictures": self.pictures,
                "page": str(self.out / PAGE_FILE), "records": str(self.out / RECORDS_FILE),
                "methods": self.methods, "data_issues": self.data_issues}


def explain(bundle_path: str | Path, data: str | Path, out: str | Path,
            options: ExplainOptions = ExplainOptions(), *, force: bool = False,
            fmt: str | None = None, prep_overrides: dict[str, Any] | None = None
            ) -> ExplainSummary:
    """Explain rows of ``data`` (a prepared folder or a raw table) and write ``out``.

    Raises:
        UsageError: ``out`` exists without ``force``; an unknown ``target`` label.
        DataError: unknown ``ids``; ``target="true"`` on a row without a label.
        BundleError: a bad bundle.
    """
    out = Path(out)
    check_writable(out, force=force, folder=True)
    bundle = read_bundle(bundle_path)  # hashes and signature checked before TensorFlow loads
    from mmcli.model.explain.base import Context, Settings
    from mmcli.model.explain.forward import Forward
    from mmcli.model.feed import dataset_inputs

    labels = list(bundle.labels)
    if options.target not in TARGETS and options.target not in labels:
        raise UsageError(f"--target {options.target!r}: choose predicted, true or one of the "
                         f"model's labels: {', '.join(labels)}")
    prep = replace(bundle.config.prep, **(prep_overrides or {}))
    names = list(bundle.modalities)
    with tempfile.TemporaryDirectory(prefix="mmcli-") as work:
        dataset = open_source(data, prep, Path(work), fmt=fmt)  # as evaluate: one cache entry
        _check_compatible(dataset, names, bundle.config.prep)
        indices = _select(dataset.examples, options)
        model = load_model(bundle)
        context = Context(model, Forward(model, names), names,
                          Settings(steps=options.steps, seed=options.seed),
                          prep=bundle.config.prep)
        from mmcli.model.explain.run import explain_batch

        rows = []
        lines = lines_by_row(dataset.reject_lines())  # each row's problems, every part's
        for start in range(0, len(indices), options.batch_size):
            chunk = indices[start:start + options.batch_size]
            frame = dataset.examples.iloc[chunk]
            truth = _truth(bundle, frame, options.target == "true")
            inputs = dataset_inputs(dataset, chunk, names, bundle.config.prep)
            done = explain_batch(context, inputs,
                                 lambda full, t=truth: _choose(bundle, full, t, options.target))
            issues = _issues(model, bundle, frame, lines)
            rows += [{**_record(bundle, frame.iloc[r], done, r, truth, options.target),
                      "issues": issues[r]} for r in range(len(chunk))]
        methods = done.methods
        read = data_issues(dataset)
    with atomic_dir(out, force=force) as tmp:
        pictures = _write(tmp, rows, bundle)
    return ExplainSummary(out, len(rows), pictures, methods, read)


def _select(examples, options: ExplainOptions) -> np.ndarray:
    """The positions explained: those of ``options.ids`` in the order given, else the first
    ``options.rows``.

    Raises:
        DataError: an id that is not among the data's usable rows, or no row at all.
    """
    if options.ids is None:
        if not len(examples):
            raise DataError("no usable rows to explain")
        return np.arange(min(options.rows, len(examples)))
    position = {str(v): i for i, v in enumerate(examples["id"].tolist())}
    # An id as written (" a7" is an id of its own), else without the spaces around it ("a, b").
    chosen = [i if i in position else i.strip() for i in options.ids]
    unknown = [i for i in chosen if i not in position]
    if unknown:
        raise DataError(f"--ids: no usable row with id {', '.join(map(repr, unknown[:5]))}"
                        + (f" (and {len(unknown) - 5} more)" if len(unknown) > 5 else ""))
    return np.array([position[i] for i in chosen], np.int64)


def _truth(bundle: Bundle, frame, required: bool) -> np.ndarray | None:
    """The true labels of the rows as a bool ``(rows, labels)`` matrix (an all-False row
    where the label is missing), or None when no row has one.

    Raises:
        DataError: ``required`` (``--target true``) and a row has no label.
    """
    cells = frame["label"].tolist() if "label" in frame.columns else [None] * len(frame)
    have = np.array([c is not None and c == c for c in cells], bool)
    if required and not have.all():
        missing = frame["id"].to_numpy()[~have][0]
        raise DataError(f"--target true: row {missing!r} has no label")
    if not have.any():
        return None
    labels = list(bundle.labels)
    y = bundle.task.eval_targets(np.array(cells, object)[have],
                                 frame["row"].to_numpy()[have], labels)
    truth = np.zeros((len(frame), len(labels)), bool)
    truth[have] = y.astype(bool) if y.ndim == 2 else np.eye(len(labels), dtype=bool)[y]
    return truth


def _target_set(bundle: Bundle, full: np.ndarray, truth, target: str) -> np.ndarray:
    """Which outputs a row's target covers (bool ``(labels,)``): the predicted label(s), the
    true one(s), or the label named."""
    labels = list(bundle.labels)
    if target == "true":
        return truth
    if target != "predicted":
        return np.array([label == target for label in labels])
    predicted = bundle.task.prediction(full, labels, 1)
    chosen = predicted.get("labels", [predicted.get("label")])
    return np.array([label in chosen for label in labels])


def _choose(bundle: Bundle, full: np.ndarray, truth, target: str) -> np.ndarray:
    """The output explained in each row: the most probable of its target set (the most
    probable output when the set is empty, e.g. no label predicted)."""
    chosen = []
    for r in range(len(full)):
        allowed = _target_set(bundle, full[r], None if truth is None else truth[r], target)
        chosen.append(int(np.argmax(np.where(allowed, full[r], -1.0))) if allowed.any()
                      else int(np.argmax(full[r])))
    return np.array(chosen, np.int64)


def _issues(model, bundle: Bundle, frame, lines) -> list[list[dict[str, str]]]:
    """Each row's problems (:func:`mmcli.api.row_issues.issue_dicts`): its rejects.csv lines
    (``lines``, by row and id) and its categories unseen in training."""
    return [issue_dicts([*lines.get(key, ()), *found])
            for key, found in unseen_in_examples(model, bundle, frame)]


def _round(values) -> dict[str, float]:
    return {k: round(float(v), 6) for k, v in values}


def _record(bundle: Bundle, example, done, r: int, truth, target: str) -> dict[str, Any]:
    """One row's record (``pictures``/``ordered`` are taken out before it is written)."""
    labels, names = list(bundle.labels), list(bundle.modalities)
    values, t = done.shapley, int(done.target[r])
    predicted = bundle.task.prediction(values.full[r], labels, 1)
    label_cell = example.get("label")
    record: dict[str, Any] = {
        "id": str(example["id"]), "row": int(example["row"]),
        "label": predicted.get("label", predicted.get("labels")),
        "true_label": label_cell if isinstance(label_cell, str) else None,
        "target": labels[t],
        "target_probability": round(float(values.full[r, t]), 6),
        "empty_probability": round(float(values.empty[r, t]), 6),
        "shapley": _round(zip(names, values.values[r, :, t], strict=True)),
        "shapley_log_odds": _round(zip(names, values.log_odds[r, :, t], strict=True)),
        "shapley_error": None if values.error is None else _round(
            zip(names, values.error[r, :, t], strict=True)),
        "tokens": {}, "columns": {}, "files": [], "methods": done.methods, "notes": {},
        "absent": [m for m in names if not bool(example.get(present_column(m), True))],
    }
    if "labels" in bundle.task.record_fields:  # multi-label: every label of the target set
        chosen = _target_set(bundle, values.full[r], None if truth is None else truth[r],
                             target)
        record["per_label"] = {labels[c]: {
            "probability": round(float(values.full[r, c]), 6),
            "empty_probability": round(float(values.empty[r, c]), 6),
            "shapley": _round(zip(names, values.values[r, :, c], strict=True)),
        } for c in np.flatnonzero(chosen)}
    pictures, ordered = {}, {}
    stem = f"{int(example['row']):06d}_{re.sub(r'[^A-Za-z0-9._-]', '_', str(example['id']))}"
    for name in names:
        inside = done.inside[name][r]
        if inside is None:
            continue
        record["notes"][name] = dict(inside.notes)
        if inside.tokens:
            ordered[name] = [list(p) for p in inside.tokens]
            record["tokens"][name] = sorted(ordered[name], key=lambda p: -p[1])
        if inside.columns:
            record["columns"].update(_round(inside.columns.items()))
        for caption, picture in inside.pictures.items():
            file = f"{PICTURES}/{stem}_{name}_{caption}.png"
            pictures[file] = picture
            record["files"].append(file)
    record["_pictures"], record["_ordered"] = pictures, ordered
    return record


def _write(folder: Path, rows: list[dict[str, Any]], bundle: Bundle) -> int:
    """The records, the PNGs and the page into ``folder``; returns the number of PNGs."""
    from mmcli.report.explain_page import card, page, png_bytes

    (folder / PICTURES).mkdir()
    cards, count = [], 0
    with open(folder / RECORDS_FILE, "w", encoding="utf-8") as handle:
        for record in rows:
            pictures = {f: png_bytes(p) for f, p in record.pop("_pictures").items()}
            ordered = record.pop("_ordered")
            for file, data in pictures.items():
                (folder / file).write_bytes(data)
            count += len(pictures)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            cards.append(card(record, {Path(f).name: d for f, d in pictures.items()}, ordered))
    note = (f"Bundle {bundle.folder}; Shapley values of the target probability over the "
            "modalities (masked through the model's absent path); pictures: Integrated "
            "Gradients against a mean-colour baseline (audio: over the model's log-mel "
            "spectrogram, from its mean level); text: leave-one-token-out occlusion; "
            "tabular: each column reset to its missing value.")
    (folder / PAGE_FILE).write_text(page("mmcli explain", cards, note), encoding="utf-8")
    return count
