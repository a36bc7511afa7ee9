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
from typing import TYPE_CHECKING, Any

from mmcli import modalities
from mmcli.data.decoding import workers_for
from mmcli.data.plan import NOTED, SPLITS, Issue, Plan, data_root, plan_rows, row_keys
from mmcli.errors import CellError, DataError
from mmcli.io.decode import Noted, decode_jobs
from mmcli.modalities.base import Ready

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.roles import Roles
    from mmcli.io.tables import Table

__all__ = ["NOTED", "SPLITS", "Issue", "Row", "data_root", "iter_rows", "row_keys"]


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
    borrow: bool = False,
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
        borrow: a row's decoded arrays may be views of the decoding pool's shared memory,
            valid only until the next row is asked for (:func:`mmcli.io.decode.decode_jobs`):
            for a consumer that copies them out first (preprocess' shards).

    Raises:
        DataError: a row breaks a rule and ``on_missing`` (or ``duplicates``) is ``error``.
    """
    plans = plan_rows(
        table, roles, config, need_label=need_label, dedupe_ids=dedupe_ids,
        row_issues=row_issues or {}, first_row=first_row, part=part,
    )
    # Plans wait in `ahead` while their cells decode: the decoder pulls jobs (and so plans)
    # only a few chunks ahead of the results, so planning overlaps decoding and memory stays
    # bounded.
    ahead: deque[Plan] = deque()

    def jobs() -> Iterator[tuple[Any, Any]]:
        for plan in plans:
            ahead.append(plan)
            for name in plan.jobs:
                job = plan.outcomes[name]
                yield job.decoder, job.payload

    where = {name: roles.column(name) for name in roles.modalities}  # column(s) in reports
    # Borrowed arrays stay valid for a chunk's worth (64) of further results: a row's
    # jobs, and the next row's first one pulled ahead, must fit well within that.
    borrow = borrow and len(roles.sources) < 32
    decoded = decode_jobs(jobs(), workers=workers_for(table, roles, config), borrow=borrow)
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
            for name in plan.jobs:  # results come in the order of the jobs
                results[name] = early.popleft() if early else next(decoded)[1]
            row = _verdict(plan, results, where, config, kinds)
            if on_row is not None:
                on_row()
            yield row


def _has_rejection(issues: list[Issue]) -> bool:
    return any(i.action == "rejected" for i in issues)


def _verdict(
    plan: Plan,
    results: Mapping[str, Any],
    where: Mapping[str, str],
    config: PrepConfig,
    kinds: str,
) -> Row:
    issues = list(plan.issues)
    values: dict[str, Any] = {}
    empty = []  # modalities whose cleaned cell is empty
    present = 0  # modalities with a value
    for name, outcome in plan.outcomes.items():
        if isinstance(outcome, Ready):
            value = outcome.value
            if value is None:
                empty.append(name)
        else:
            value = results.get(name)
        if value is not None and not (_PLAIN.get(type(value)) or _plain(type(value))):
            if isinstance(value, Noted):
                issues.extend(Issue(where[name], "file_note", NOTED, note)
                              for note in value.notes)
                value = value.value
            if isinstance(value, CellError):
                issues.append(Issue(where[name], value.reason, "masked", str(value)))
                value = None
        values[name] = value
        present += value is not None
    if not issues and not empty and present:  # the common row: nothing to say about it
        return Row(row=plan.row, id=plan.id, split=plan.split, label=plan.label,
                   values=values, issues=(), rejected=False)
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
    if not rejected and not present:
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


_PLAIN: dict[type, bool] = {}  # a value's type -> neither a Noted nor a CellError


def _plain(kind: type) -> bool:
    plain = _PLAIN.get(kind)
    if plain is None:
        plain = _PLAIN[kind] = not issubclass(kind, (Noted, CellError))
    return plain


def _as_rejected(issue: Issue) -> Issue:
    if issue.action == NOTED:
        return issue
    return Issue(issue.column, issue.reason, "rejected", issue.message)
