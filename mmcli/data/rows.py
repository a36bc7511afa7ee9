"""Turn table rows into model-ready rows: clean, align, decode, and give every row a verdict.

This is the one code path shared by preprocess, train, evaluate and predict,
so what a model sees at serving time is made exactly as at training time.
A row with a missing or broken modality follows ``PrepConfig.on_missing``:
``keep`` masks the modality (the mask travels into the model), ``drop``
rejects the row, ``error`` stops with a :class:`~mmcli.errors.DataError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mmcli.data.clean import TextOptions, clean_label, clean_text, is_missing
from mmcli.errors import DataError, ImageError
from mmcli.io.images import ImageOptions, decode_images, resolve_image_path

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.roles import Roles
    from mmcli.io.tables import Table

SPLITS = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "dev": "val",
    "test": "test",
    "testing": "test",
}


@dataclass(frozen=True)
class Issue:
    """One line of rejects.csv: what was wrong with a row and what was done."""

    column: str
    reason: str
    action: str  # "rejected" or "masked"
    message: str


@dataclass(frozen=True)
class Row:
    """A row after cleaning and decoding. ``image`` is None when absent or masked."""

    row: int  # 1-based position among the table's data rows
    id: str
    split: str
    label: str | None
    text: str
    image: np.ndarray | None
    text_present: bool
    issues: tuple[Issue, ...]
    rejected: bool

    @property
    def image_present(self) -> bool:
        return self.image is not None


@dataclass(frozen=True)
class _Plan:
    row: int
    id: str
    split: str
    label: str | None
    text: str
    path: Path | None
    issues: tuple[Issue, ...]


def text_options(config: PrepConfig) -> TextOptions:
    return TextOptions(lowercase=config.lowercase, max_chars=config.max_text_chars)


def image_options(config: PrepConfig) -> ImageOptions:
    return ImageOptions(
        size=config.image_size,
        max_pixels=config.max_pixels,
        min_side=config.min_image_side,
    )


def iter_rows(
    table: Table,
    roles: Roles,
    config: PrepConfig,
    *,
    need_label: bool,
    dedupe_ids: bool = True,
    on_row: Callable[[], None] | None = None,
    first_row: int = 1,
) -> Iterator[Row]:
    """Yield one :class:`Row` per table row, in table order, decoding images on the way.

    Args:
        table: the table as read.
        roles: which column plays which role.
        config: cleaning and policy settings.
        need_label: reject rows without a label (training, evaluation).
        dedupe_ids: reject a row whose id was already seen.
        on_row: called once per row yielded (progress).
        first_row: the number of the table's first row (a chunk of a longer table).

    Raises:
        DataError: a row breaks a rule and ``on_missing`` is ``error``.
    """
    plans = list(
        _plan_rows(
            table, roles, config, need_label=need_label, dedupe_ids=dedupe_ids, first_row=first_row
        )
    )
    jobs = [p.path for p in plans if p.path is not None]
    decoded = decode_images(jobs, image_options(config), workers=config.workers)
    for plan in plans:
        image, error = None, None
        if plan.path is not None:
            _, result = next(decoded)
            if isinstance(result, ImageError):
                error = result
            else:
                image = result
        row = _verdict(plan, image, error, roles, config)
        if on_row is not None:
            on_row()
        yield row


def _plan_rows(
    table: Table,
    roles: Roles,
    config: PrepConfig,
    *,
    need_label: bool,
    dedupe_ids: bool,
    first_row: int = 1,
) -> Iterator[_Plan]:
    frame = table.frame
    options = text_options(config)
    seen: set[str] = set()
    columns = {role: (list(frame[c]) if c else None) for role, c in roles.to_dict().items()}
    for i in range(len(frame)):
        number = i + first_row
        issues: list[Issue] = []
        raw_id = columns["id"][i] if columns["id"] else None
        ident = str(number) if is_missing(raw_id) else clean_label(raw_id) or str(number)
        split = "train"
        if columns["split"]:
            raw_split = columns["split"][i]
            split = "train" if is_missing(raw_split) else SPLITS.get(str(raw_split).strip().lower())
            if split is None:
                issues.append(
                    Issue(
                        roles.split,
                        "bad_split",
                        "rejected",
                        f"unknown split {raw_split!r}; use train, val or test",
                    )
                )
                split = "train"
        label = clean_label(columns["label"][i]) if columns["label"] else None
        if need_label and label is None:
            issues.append(Issue(roles.label or "label", "missing_label", "rejected", "no label"))
        if dedupe_ids and columns["id"]:
            if ident in seen:
                issues.append(
                    Issue(
                        roles.id,
                        "duplicate_id",
                        "rejected",
                        f"id {ident!r} already used by an earlier row",
                    )
                )
            seen.add(ident)
        text = clean_text(columns["text"][i], options) if columns["text"] else ""
        path = None
        if columns["image"]:
            cell = columns["image"][i]
            if is_missing(cell):
                issues.append(Issue(roles.image, "missing", "masked", "no image path"))
            elif not _has_rejection(issues):
                try:
                    path = resolve_image_path(
                        str(cell).strip(),
                        table.root,
                        allow_outside_root=config.allow_outside_root,
                    )
                except ImageError as exc:
                    issues.append(Issue(roles.image, exc.reason, "masked", str(exc)))
        yield _Plan(number, ident, split, label, text, path, tuple(issues))


def _has_rejection(issues: list[Issue]) -> bool:
    return any(i.action == "rejected" for i in issues)


def _verdict(
    plan: _Plan,
    image: np.ndarray | None,
    error: ImageError | None,
    roles: Roles,
    config: PrepConfig,
) -> Row:
    issues = list(plan.issues)
    if error is not None:
        issues.append(Issue(roles.image, error.reason, "masked", str(error)))
    text_present = bool(plan.text) if roles.text else False
    if roles.text and not text_present and not _has_rejection(issues):
        issues.append(Issue(roles.text, "missing", "masked", "no text after cleaning"))
    image_present = image is not None
    masked = [i for i in issues if i.action == "masked"]
    if masked and not _has_rejection(issues):
        if config.on_missing == "error":
            first = masked[0]
            raise DataError(
                f"row {plan.row} (id {plan.id}): {first.column}: {first.message} "
                "(--on-missing error)"
            )
        if config.on_missing == "drop":
            issues = [_as_rejected(i) for i in issues]
    if not image_present and not text_present and not _has_rejection(issues):
        issues = [_as_rejected(i) for i in issues]
        issues.append(Issue("", "no_modality", "rejected", "neither image nor text is usable"))
    rejected = _has_rejection(issues)
    return Row(
        row=plan.row,
        id=plan.id,
        split=plan.split,
        label=plan.label,
        text=plan.text if text_present else "",
        image=None if rejected else image,
        text_present=text_present and not rejected,
        issues=tuple(issues),
        rejected=rejected,
    )


def _as_rejected(issue: Issue) -> Issue:
    return Issue(issue.column, issue.reason, "rejected", issue.message)
