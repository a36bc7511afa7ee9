"""Turn table rows into model-ready rows: clean, align, decode, and give every row a verdict.

This is the one code path shared by preprocess, train, evaluate and predict,
so what a model sees at serving time is made exactly as at training time.
A row with a missing or broken modality follows ``PrepConfig.on_missing``:
``keep`` masks the modality (the mask travels into the model), ``drop``
rejects the row, ``error`` stops with a :class:`~mmcli.errors.DataError`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mmcli import modality
from mmcli.data.clean import TextOptions, clean_label, clean_text, is_missing
from mmcli.data.duplicates import find_duplicates
from mmcli.data.labelmap import load_label_map
from mmcli.errors import DataError, ImageError, UsageError
from mmcli.io.images import (
    ImageOptions,
    decode_images,
    decode_workers,
    index_image_dir,
    resolve_image_path,
)

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
    """A row after cleaning and decoding, one entry per modality (see :mod:`mmcli.modality`).

    ``texts`` holds each text modality's cleaned text ("" when absent or masked), ``images``
    each image modality's decoded array (None when absent or masked). A rejected row has
    no modality present.
    """

    row: int  # 1-based position among the table's data rows
    id: str
    split: str
    label: str | None
    texts: dict[str, str]
    images: dict[str, np.ndarray | None]
    issues: tuple[Issue, ...]
    rejected: bool

    def present(self, name: str) -> bool:
        """Whether the row has the named modality (decoded image, non-empty text)."""
        if name in self.images:
            return self.images[name] is not None
        return bool(self.texts.get(name))

    @property
    def text(self) -> str:
        return self.texts.get(modality.TEXT, "")

    @property
    def image(self) -> np.ndarray | None:
        return self.images.get(modality.IMAGE)

    @property
    def image_present(self) -> bool:
        return self.image is not None

    @property
    def text_present(self) -> bool:
        return bool(self.text)


@dataclass(frozen=True)
class _Plan:
    row: int
    id: str
    split: str
    label: str | None
    texts: dict[str, str]
    paths: dict[str, Path | None]  # each image modality's resolved path (None: none to open)
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
    row_issues: Mapping[int, Sequence[Issue]] | None = None,
    first_row: int = 1,
) -> Iterator[Row]:
    """Yield one :class:`Row` per table row, in table order, decoding images on the way.

    Args:
        table: the table as read.
        roles: which column plays which role.
        config: cleaning and policy settings.
        need_label: reject rows without a label (training, evaluation).
        dedupe_ids: apply the ``duplicates`` policy to repeated ids and identical rows.
        on_row: called once per row yielded (progress).
        row_issues: issues found before (e.g. by ``--join``), by 0-based row position.
        first_row: the number of the table's first row (a chunk of a longer table).

    Raises:
        DataError: a row breaks a rule and ``on_missing`` (or ``duplicates``) is ``error``.
    """
    plans = _plan_rows(
        table, roles, config, need_label=need_label, dedupe_ids=dedupe_ids,
        row_issues=row_issues or {}, first_row=first_row,
    )
    # Plans wait in `ahead` while their images decode: the decoder pulls paths (and so
    # plans) only a few chunks ahead of the results, so planning overlaps decoding and
    # memory stays bounded.
    ahead: deque[_Plan] = deque()

    def paths() -> Iterator[Path]:
        for plan in plans:
            ahead.append(plan)
            yield from (p for p in plan.paths.values() if p is not None)

    where = {name: roles.column(name) for name in roles.modalities}  # column(s) in reports
    images = modality.of_kind(roles.modalities, modality.IMAGE)
    expected = len(table.frame) * len(images)
    workers = decode_workers(expected, config.workers)
    decoded = decode_images(paths(), image_options(config), workers=workers)
    early: deque[np.ndarray | ImageError] = deque()  # results pulled to refill `ahead`
    while True:
        if not ahead:
            step = next(decoded, None)  # plans rows up to the next one with an image
            if step is not None:
                early.append(step[1])
            elif not ahead:
                return
        plan = ahead.popleft()
        results: dict[str, np.ndarray | ImageError] = {}
        for name, path in plan.paths.items():  # results come in the order paths were given
            if path is not None:
                results[name] = early.popleft() if early else next(decoded)[1]
        row = _verdict(plan, results, where, config)
        if on_row is not None:
            on_row()
        yield row


def image_root(table: Table, config: PrepConfig) -> Path:
    """The folder image paths are relative to: ``--image-dir``, ``--image-root``, or the
    table's folder."""
    if config.image_dir is not None:
        return Path(config.image_dir)
    if config.image_root is not None:
        return Path(config.image_root)
    return table.root


def row_keys(table: Table) -> list[int]:
    """One hash per row, equal for rows whose cells are all equal."""
    import pandas as pd

    return pd.util.hash_pandas_object(table.frame.astype(str), index=False).tolist()


def _plan_rows(
    table: Table,
    roles: Roles,
    config: PrepConfig,
    *,
    need_label: bool,
    dedupe_ids: bool,
    row_issues: Mapping[int, Sequence[Issue]],
    first_row: int = 1,
) -> Iterator[_Plan]:
    frame = table.frame
    options = text_options(config)
    casefold = config.label_case == "fold"
    mapping = None
    if config.label_map and roles.label:
        mapping = load_label_map(config.label_map, casefold=casefold)

    def column(name: str | None) -> list | None:
        return list(frame[name]) if name else None

    raw_ids, raw_splits, raw_labels = column(roles.id), column(roles.split), column(roles.label)
    sources = roles.sources
    reported = {name: roles.column(name) for name in sources}  # column(s) named in issues
    texts = {
        name: [list(frame[c]) for c in columns]
        for name, columns in sources.items()
        if modality.kind(name) == modality.TEXT
    }
    images = {
        name: None if roles.image_dir is not None else list(frame[columns[0]])
        for name, columns in sources.items()
        if modality.kind(name) == modality.IMAGE
    }
    root = image_root(table, config)
    if roles.image_dir is not None:
        if not root.is_dir():
            raise UsageError(f"--image-dir {config.image_dir!r} is not a folder")
        by_id, ambiguous = index_image_dir(root)
    ids = [
        str(i + first_row) if is_missing(raw) else clean_label(raw) or str(i + first_row)
        for i, raw in enumerate(raw_ids or [None] * len(frame))
    ]
    duplicates = (
        find_duplicates(ids if raw_ids else None, row_keys(table), config.duplicates)
        if dedupe_ids
        else {}
    )
    for i in range(len(frame)):
        number = i + first_row
        issues: list[Issue] = list(row_issues.get(i, ()))
        ident = ids[i]
        split = "train"
        if raw_splits:
            raw_split = raw_splits[i]
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
        label = (
            clean_label(raw_labels[i], casefold=casefold, mapping=mapping) if raw_labels else None
        )
        if need_label and label is None:
            issues.append(Issue(roles.label or "label", "missing_label", "rejected", "no label"))
        if i in duplicates:
            found = duplicates[i]
            where = roles.id if found.reason == "duplicate_id" else ""
            issues.append(Issue(where or "", found.reason, "rejected", found.message))
        row_texts = {
            name: _join_text([cells[i] for cells in columns], options, config.text_sep)
            for name, columns in texts.items()
        }
        paths: dict[str, Path | None] = {}
        for name, cells in images.items():
            column = reported[name]
            paths[name] = None
            if cells is None:  # --image-dir
                if ident in ambiguous:
                    issues.append(
                        Issue(column, "ambiguous", "masked",
                              f"several files named {ident}.* in {config.image_dir}")
                    )
                elif ident not in by_id:
                    issues.append(
                        Issue(column, "missing", "masked",
                              f"no image {ident}.<ext> in {config.image_dir}")
                    )
                elif not _has_rejection(issues):
                    paths[name] = _resolve(by_id[ident].name, root, config, column, issues)
            elif is_missing(cells[i]):
                issues.append(Issue(column, "missing", "masked", "no image path"))
            elif not _has_rejection(issues):
                paths[name] = _resolve(str(cells[i]).strip(), root, config, column, issues)
        yield _Plan(number, ident, split, label, row_texts, paths, tuple(issues))


def _resolve(
    value: str, root: Path, config: PrepConfig, column: str, issues: list[Issue]
) -> Path | None:
    try:
        return resolve_image_path(value, root, allow_outside_root=config.allow_outside_root)
    except ImageError as exc:
        issues.append(Issue(column, exc.reason, "masked", str(exc)))
        return None


def _join_text(cells: list[object], options: TextOptions, sep: str) -> str:
    """Clean each text cell; several non-empty ones are joined by ``sep``."""
    if len(cells) == 1:
        return clean_text(cells[0], options)
    parts = [clean_text(cell, options) for cell in cells]
    return clean_text(sep.join(p for p in parts if p), options)


def _has_rejection(issues: list[Issue]) -> bool:
    return any(i.action == "rejected" for i in issues)


def _verdict(
    plan: _Plan,
    results: Mapping[str, np.ndarray | ImageError],
    where: Mapping[str, str],
    config: PrepConfig,
) -> Row:
    issues = list(plan.issues)
    images: dict[str, np.ndarray | None] = {}
    for name in plan.paths:
        result = results.get(name)
        if isinstance(result, ImageError):
            issues.append(Issue(where[name], result.reason, "masked", str(result)))
            result = None
        images[name] = result
    for name, text in plan.texts.items():
        if not text and not _has_rejection(issues):
            issues.append(Issue(where[name], "missing", "masked", "no text after cleaning"))
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
    anything = any(v is not None for v in images.values()) or any(plan.texts.values())
    if not anything and not _has_rejection(issues):
        issues = [_as_rejected(i) for i in issues]
        issues.append(Issue("", "no_modality", "rejected", "no image or text is usable"))
    rejected = _has_rejection(issues)
    return Row(
        row=plan.row,
        id=plan.id,
        split=plan.split,
        label=plan.label,
        texts={name: "" if rejected else text for name, text in plan.texts.items()},
        images={name: None if rejected else image for name, image in images.items()},
        issues=tuple(issues),
        rejected=rejected,
    )


def _as_rejected(issue: Issue) -> Issue:
    return Issue(issue.column, issue.reason, "rejected", issue.message)
