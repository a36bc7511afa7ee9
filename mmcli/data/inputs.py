"""A raw table made ready for ``iter_rows``: read, joined (``--join``), roles assigned.

Shared by ``preprocess``, ``check`` and the cache key, so they all see the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmcli.config import PrepConfig
from mmcli.data.join import JoinReport, join_tables
from mmcli.data.roles import Roles, detect_roles, pin_roles
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
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see absent_inputs


def absent_inputs(roles: Roles, absent: Mapping[str, tuple[str, ...]]) -> dict[str, tuple]:
    """Each modality with a source column the table lacks (``absent``: by kind, from
    :func:`mmcli.data.roles.pin_roles`) -> those columns."""
    missing = {c for columns in absent.values() for c in columns}
    found = {m: tuple(c for c in columns if c in missing) for m, columns in roles.sources.items()}
    return {m: columns for m, columns in found.items() if columns}


def with_absent(table: Table, absent: Mapping[str, tuple[str, ...]]) -> Table:
    """``table`` with each column in ``absent`` (a trained input's column the table lacks)
    added with every cell missing, so the input is masked in every row."""
    missing = [c for columns in absent.values() for c in columns if c not in table]
    if not missing:
        return table
    return table.with_columns({c: [None] * len(table) for c in missing})


def load_inputs(source: str | Path, config: PrepConfig, *, fmt: str | None = None,
                trained_roles: Mapping[str, Any] | None = None) -> Inputs:
    """Read ``source`` (and the ``--join`` table) and assign column roles: with
    ``trained_roles`` (a bundle's), the columns training read where no flag names one
    (:func:`mmcli.data.roles.pin_roles`; a missing one is in ``Inputs.absent``).

    Raises:
        DataError: a table cannot be read, a named column is missing, the join has no
            shared id column or repeats an id.
    """
    table = read_table(source, fmt=fmt, encoding=config.encoding)
    if config.join is None:
        table, config, absent = _pinned(table, config, trained_roles)
        roles = detect_roles(table, config)
        return Inputs(table, roles, absent=absent_inputs(roles, absent))
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
    table, config, absent = _pinned(table, config, trained_roles)
    roles = detect_roles(table, config)
    return Inputs(table, roles, report, other.sha256, issues, extra, absent_inputs(roles, absent))


def _pinned(table: Table, config: PrepConfig, trained_roles: Mapping[str, Any] | None):
    if trained_roles is None:
        return table, config, {}
    config, absent = pin_roles(trained_roles, config, table.columns)
    return with_absent(table, absent), config, absent
