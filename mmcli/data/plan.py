"""Table rows -> plans: each row's id, split and label cleaned, its issues so far, and what
each modality's preparer made of its cells (a value, a decoding job, or a fault, already an
issue). :mod:`mmcli.data.rows` decodes the jobs and gives each plan its verdict.

Main-process CPU spent here is taken from the decoding workers (on 2 cores they are
CPU-bound), so the loop keeps its per-row work small: what does not depend on the row is
done once (the split of each distinct cell, blank-id positions, the part's rows), and a
plain string cell takes a short way through the checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mmcli import modalities
from mmcli.data.clean import cell_text, is_missing
from mmcli.data.duplicates import find_duplicates
from mmcli.data.ids import id_keys, row_ids
from mmcli.data.labelmap import label_cleaner, load_label_map
from mmcli.data.shard import in_part
from mmcli.modalities.base import Fault, Job, Outcome, Ready, TableContext

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.roles import Roles
    from mmcli.io.tables import Table

NOTED = "noted"  # an Issue's action when the value is kept: a note about it
SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val",
          "validation": "val", "dev": "val", "test": "test", "testing": "test"}


@dataclass(frozen=True)
class Issue:
    """One line of rejects.csv: what was wrong with a row and what was done."""

    column: str
    reason: str
    action: str  # "rejected", "masked", or "noted" (reported only: the row and value are used,
    # e.g. a decoder's warning about a file, a blank id)
    message: str


@dataclass(slots=True)
class Plan:
    """A row before decoding; ``jobs``: the modalities whose outcome is a :class:`Job`."""

    row: int
    id: str
    split: str
    label: str | None
    outcomes: dict[str, Outcome | None]  # None: a fault, already among the issues
    issues: tuple[Issue, ...]
    jobs: tuple[str, ...]


def data_root(table: Table, config: PrepConfig) -> Path:
    """The folder file paths in cells are relative to: ``--image-dir``, ``--image-root``, or
    the table's folder."""
    if config.image_dir is not None:
        return Path(config.image_dir)
    if config.image_root is not None:
        return Path(config.image_root)
    return table.root


def row_keys(table: Table) -> list[int]:
    """One hash per row, of its cells as text (:func:`~mmcli.data.clean.cell_text`: a missing
    cell None, never ``"None"``): equal for rows whose cells are all equal. Python's string
    hash is salted per process: compare keys within one run only."""
    texts = [cells if set(map(type, cells)) <= {str} else list(map(cell_text, cells))
             for cells in table.cells]  # a column of str only is its own text
    return [hash(row) for row in zip(*texts, strict=True)] if texts else [0] * len(table)


def plan_rows(
    table: Table,
    roles: Roles,
    config: PrepConfig,
    *,
    need_label: bool,
    dedupe_ids: bool,
    row_issues: Mapping[int, Sequence[Issue]],
    first_row: int = 1,
    part: tuple[int, int] | None = None,
) -> Iterator[Plan]:
    """One :class:`Plan` per row (of ``part``, if given), in table order, made lazily: the
    preparers (which check file paths) run as the plans are pulled. Arguments as
    :func:`mmcli.data.rows.iter_rows`'s."""
    casefold = config.label_case == "fold"
    mapping = None
    if config.label_map and roles.label:
        mapping = load_label_map(config.label_map, casefold=casefold)

    def column(name: str | None) -> list | None:
        return table.column(name) if name else None

    raw_ids, raw_splits, raw_labels = column(roles.id), column(roles.split), column(roles.label)
    context = TableContext(data_root(table, config), config)
    preparers = []  # (name, prepare, its columns' cells, the column(s) named in issues)
    for name, columns in roles.sources.items():
        cells = [table.column(c) for c in columns if c in table]
        prepare = modalities.modality_of(name).preparer(context)
        preparers.append((name, prepare, cells, roles.column(name)))
    ids = row_ids(raw_ids, len(table), first_row)
    duplicates = (
        find_duplicates(id_keys(ids, raw_ids), row_keys(table), config.duplicates)
        if dedupe_ids
        else {}
    )
    blank_ids = _blank(raw_ids) if raw_ids else frozenset()
    label_of = label_cleaner(casefold=casefold, mapping=mapping)
    split_of = _split_cleaner()
    id_column, split_column = roles.id or "", roles.split
    label_column = roles.label or "label"
    rows = range(len(table))
    if part is not None:
        rows = [i for i in rows if in_part(i + first_row, *part)]
    for i in rows:
        before = row_issues.get(i) if row_issues else None
        issues: list[Issue] = list(before) if before else []
        ident = ids[i]
        if i in blank_ids:
            issues.append(Issue(id_column, "missing_id", NOTED,
                                "no id (the row is kept; its id is reported blank)"))
        split = "train"
        if raw_splits:
            raw_split = raw_splits[i]
            split = split_of(raw_split)
            if split is None:
                issues.append(Issue(split_column, "bad_split", "rejected",
                                    f"unknown split {raw_split!r}; use train, val or test"))
                split = "train"
        label = label_of(raw_labels[i]) if raw_labels else None
        if need_label and label is None:
            issues.append(Issue(label_column, "missing_label", "rejected", "no label"))
        if i in duplicates:
            found = duplicates[i]
            where = roles.id if found.reason == "duplicate_id" else ""
            issues.append(Issue(where or "", found.reason, "rejected", found.message))
        outcomes: dict[str, Outcome | None] = {}
        jobs = []
        rejected = bool(issues) and _has_rejection(issues)  # the loop adds no rejection
        for name, prepare, cells, reported in preparers:
            outcome = prepare([cells[0][i]] if len(cells) == 1 else [c[i] for c in cells],
                              ident, rejected)
            kind = type(outcome)
            if kind is Ready and not outcome.notes:
                pass  # the common text cell: nothing to add
            elif kind is Job or isinstance(outcome, Job):
                jobs.append(name)
            elif isinstance(outcome, Fault):
                issues.append(Issue(outcome.column or reported, outcome.reason, "masked",
                                    outcome.message))
                outcome = None
            elif isinstance(outcome, Ready) and outcome.notes:  # parts treated as missing
                issues += [Issue(n.column or reported, n.reason, n.action or "imputed",
                                 n.message) for n in outcome.notes]
            outcomes[name] = outcome
        yield Plan(i + first_row, ident, split, label, outcomes, tuple(issues), tuple(jobs))


def _has_rejection(issues: list[Issue]) -> bool:
    return any(i.action == "rejected" for i in issues)


def _blank(cells: Sequence[object]) -> frozenset[int]:
    """The positions of missing cells (:func:`~mmcli.data.clean.is_missing`); a string is
    missing when blank (``not s.strip()`` is ``not s or s.isspace()``)."""
    return frozenset(i for i, cell in enumerate(cells)
                     if ((not cell or cell.isspace()) if type(cell) is str else is_missing(cell)))


def _split_cleaner():
    """A split cell -> ``train``, ``val``, ``test``, or None (unknown); a missing cell is
    ``train``. Each distinct string is looked up once (a table's splits repeat)."""
    done: dict[str, str | None] = {}

    def clean(raw: object) -> str | None:
        if type(raw) is str:
            split = done.get(raw, "")
            if split != "":
                return split
        if is_missing(raw):
            split = "train"
        else:
            split = SPLITS.get(str(raw).strip().lower())
        if type(raw) is str:
            done[raw] = split
        return split

    return clean
