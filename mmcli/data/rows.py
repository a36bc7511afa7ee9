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
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcli import modalities
from mmcli.data.clean import cell_text, is_missing
from mmcli.data.decoding import workers_for
from mmcli.data.duplicates import find_duplicates
from mmcli.data.ids import id_keys, row_ids
from mmcli.data.labelmap import label_cleaner, load_label_map
from mmcli.data.shard import in_part
from mmcli.errors import CellError, DataError
from mmcli.io.decode import Noted, decode_jobs
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


@dataclass(frozen=True)
class Row:
    """A row after cleaning and decoding: one value per modality (see :mod:`mmcli.modalities`),
    None where the modality is absent or masked. A rejected row has no modality present."""

    row: int  # 1-based position among the table's data rows
    id: str
    split: str
    label: str | None
    values: dict[str, Any]
    issues: tuple[Issue, ...]
    rejected: bool

    def present(self, name: str) -> bool:
        """Whether the row has the named modality."""
        return self.values.get(name) is not None


@dataclass(slots=True)
class _Plan:
    row: int
    id: str
    split: str
    label: str | None
    outcomes: dict[str, Outcome | None]  # None: a fault, already among the issues
    issues: tuple[Issue, ...]


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
    part: tuple[int, int] | None = None,
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
        part: ``(i, n)``: yield only the rows of part i of n (:mod:`mmcli.data.shard`);
            ids, duplicates and labels are still judged over the whole table.

    Raises:
        DataError: a row breaks a rule and ``on_missing`` (or ``duplicates``) is ``error``.
    """
    plans = _plan_rows(
        table, roles, config, need_label=need_label, dedupe_ids=dedupe_ids,
        row_issues=row_issues or {}, first_row=first_row, part=part,
    )
    # Plans wait in `ahead` while their cells decode: the decoder pulls jobs (and so plans)
    # only a few chunks ahead of the results, so planning overlaps decoding and memory stays
    # bounded.
    ahead: deque[_Plan] = deque()

    def jobs() -> Iterator[tuple[Any, Any]]:
        for plan in plans:
            ahead.append(plan)
            for outcome in plan.outcomes.values():
                if isinstance(outcome, Job):
                    yield outcome.decoder, outcome.payload

    where = {name: roles.column(name) for name in roles.modalities}  # column(s) in reports
    decoded = decode_jobs(jobs(), workers=workers_for(table, roles, config))
    early: deque[Any] = deque()  # results pulled to refill `ahead`
    kinds = " or ".join(dict.fromkeys(modalities.kind_of(m) for m in roles.modalities))
    with closing(decoded):  # its pool ends when the rows do, however (an error: at once)
        while True:
            if not ahead:
                step = next(decoded, None)  # plans rows up to the next one with a job
                if step is not None:
                    early.append(step[1])
                elif not ahead:
                    return
            plan = ahead.popleft()
            results: dict[str, Any] = {}
            for name, outcome in plan.outcomes.items():  # results come in the order of the jobs
                if isinstance(outcome, Job):
                    results[name] = early.popleft() if early else next(decoded)[1]
            row = _verdict(plan, results, where, config, kinds)
            if on_row is not None:
                on_row()
            yield row


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
    texts = [list(map(cell_text, cells)) for cells in table.cells]
    return [hash(row) for row in zip(*texts, strict=True)] if texts else [0] * len(table)


def _plan_rows(
    table: Table,
    roles: Roles,
    config: PrepConfig,
    *,
    need_label: bool,
    dedupe_ids: bool,
    row_issues: Mapping[int, Sequence[Issue]],
    first_row: int = 1,
    part: tuple[int, int] | None = None,
) -> Iterator[_Plan]:
    casefold = config.label_case == "fold"
    mapping = None
    if config.label_map and roles.label:
        mapping = load_label_map(config.label_map, casefold=casefold)

    def column(name: str | None) -> list | None:
        return table.column(name) if name else None

    raw_ids, raw_splits, raw_labels = column(roles.id), column(roles.split), column(roles.label)
    context = TableContext(data_root(table, config), config)
    preparers = {name: modalities.modality_of(name).preparer(context) for name in roles.sources}
    cells = {
        name: [table.column(c) for c in columns if c in table]
        for name, columns in roles.sources.items()
    }
    reported = {name: roles.column(name) for name in roles.sources}  # column(s) named in issues
    ids = row_ids(raw_ids, len(table), first_row)
    duplicates = (
        find_duplicates(id_keys(ids, raw_ids), row_keys(table), config.duplicates)
        if dedupe_ids
        else {}
    )
    label_of = label_cleaner(casefold=casefold, mapping=mapping)
    for i in range(len(table)):
        number = i + first_row
        if part is not None and not in_part(number, *part):
            continue
        before = row_issues.get(i)
        issues: list[Issue] = list(before) if before else []
        ident = ids[i]
        if raw_ids and is_missing(raw_ids[i]):
            issues.append(Issue(roles.id or "", "missing_id", NOTED,
                                "no id (the row is kept; its id is reported blank)"))
        split = "train"
        if raw_splits:
            raw_split = raw_splits[i]
            split = "train" if is_missing(raw_split) else SPLITS.get(str(raw_split).strip().lower())
            if split is None:
                issues.append(Issue(roles.split, "bad_split", "rejected",
                                    f"unknown split {raw_split!r}; use train, val or test"))
                split = "train"
        label = label_of(raw_labels[i]) if raw_labels else None
        if need_label and label is None:
            issues.append(Issue(roles.label or "label", "missing_label", "rejected", "no label"))
        if i in duplicates:
            found = duplicates[i]
            where = roles.id if found.reason == "duplicate_id" else ""
            issues.append(Issue(where or "", found.reason, "rejected", found.message))
        outcomes: dict[str, Outcome | None] = {}
        rejected = bool(issues) and _has_rejection(issues)  # the loop adds no rejection
        for name, prepare in preparers.items():
            outcome = prepare([values[i] for values in cells[name]], ident, rejected)
            if isinstance(outcome, Fault):
                issues.append(Issue(outcome.column or reported[name], outcome.reason, "masked",
                                    outcome.message))
                outcome = None
            elif isinstance(outcome, Ready):  # parts of the value treated as missing
                issues += [Issue(n.column or reported[name], n.reason, n.action or "imputed",
                                 n.message) for n in outcome.notes]
            outcomes[name] = outcome
        yield _Plan(number, ident, split, label, outcomes, tuple(issues))


def _has_rejection(issues: list[Issue]) -> bool:
    return any(i.action == "rejected" for i in issues)


def _verdict(
    plan: _Plan,
    results: Mapping[str, Any],
    where: Mapping[str, str],
    config: PrepConfig,
    kinds: str,
) -> Row:
    issues = list(plan.issues)
    values: dict[str, Any] = {}
    empty = []  # modalities whose cleaned cell is empty
    for name, outcome in plan.outcomes.items():
        if isinstance(outcome, Ready):
            value = outcome.value
            if value is None:
                empty.append(name)
        else:
            value = results.get(name)
        if isinstance(value, Noted):
            issues.extend(Issue(where[name], "file_note", NOTED, note) for note in value.notes)
            value = value.value
        if isinstance(value, CellError):
            issues.append(Issue(where[name], value.reason, "masked", str(value)))
            value = None
        values[name] = value
    rejected = bool(issues) and _has_rejection(issues)  # masked issues below reject nothing
    if empty and not rejected:
        issues += [Issue(where[name], "missing", "masked",
                         modalities.modality_of(name).absent_message) for name in empty]
    if issues and not rejected:
        masked = [i for i in issues if i.action == "masked"]
        if masked and config.on_missing == "error":
            first = masked[0]
            raise DataError(
                f"row {plan.row} (id {plan.id}): {first.column}: {first.message} "
                "(--on-missing error)"
            )
        if masked and config.on_missing == "drop":
            issues, rejected = [_as_rejected(i) for i in issues], True
    if not rejected and all(v is None for v in values.values()):
        issues = [_as_rejected(i) for i in issues]
        issues.append(Issue("", "no_modality", "rejected", f"no {kinds} is usable"))
        rejected = True
    return Row(
        row=plan.row,
        id=plan.id,
        split=plan.split,
        label=plan.label,
        values=dict.fromkeys(values) if rejected else values,
        issues=tuple(issues),
        rejected=rejected,
    )


def _as_rejected(issue: Issue) -> Issue:
    if issue.action == NOTED:
        return issue
    return Issue(issue.column, issue.reason, "rejected", issue.message)
