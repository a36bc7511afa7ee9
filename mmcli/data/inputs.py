"""A raw table made ready for ``iter_rows``: read, joined (``--join``), roles assigned.

Shared by ``preprocess``, ``check`` and the cache key, so they all see the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mmcli.config import PrepConfig
from mmcli.data.join import JoinReport, join_tables
from mmcli.data.roles import Roles, detect_roles
from mmcli.data.rows import Issue
from mmcli.io.tables import Table, read_table


@dataclass(frozen=True)
class Inputs:
    """The table and what is known about its rows before they are cleaned."""

    table: Table
    roles: Roles
    join: JoinReport | None = None
    join_sha256: str | None = None
    row_issues: dict[int, tuple[Issue, ...]] = field(default_factory=dict)
    extra_rejects: list[list[object]] = field(default_factory=list)


def load_inputs(source: str | Path, config: PrepConfig, *, fmt: str | None = None) -> Inputs:
    """Read ``source`` (and the ``--join`` table) and assign column roles.

    Raises:
        DataError: a table cannot be read, a named column is missing, the join has no
            shared id column or repeats an id.
    """
    table = read_table(source, fmt=fmt, encoding=config.encoding)
    if config.join is None:
        return Inputs(table, detect_roles(table.frame, config, name=table.name))
    other = read_table(config.join, encoding=config.encoding)
    table, report = join_tables(table, other, config.id_col)
    note = f"id not found in {other.name}"
    issues = {i: (Issue("join", "not_in_join", "masked", note),) for i in report.not_in_join}
    extra: list[list[object]] = [
        [
            "",
            ident,
            "join",
            "only_in_join",
            "rejected",
            f"id {ident!r} (row {number} of {other.name}) has no row in {table.name}",
        ]
        for number, ident in report.only_in_join
    ]
    roles = detect_roles(table.frame, config, name=table.name)
    return Inputs(table, roles, report, other.sha256, issues, extra)
