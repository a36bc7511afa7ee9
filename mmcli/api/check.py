"""``mmcli check`` as a library call: validate a table as preprocess would, write nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmcli import layout
from mmcli.api.prepare import build_schema
from mmcli.config import PrepConfig
from mmcli.data.coverage import lost_everywhere
from mmcli.data.dataset import WriteSummary, reject_lines
from mmcli.data.inputs import load_inputs
from mmcli.data.rows import iter_rows
from mmcli.errors import DataError, UsageError


def check_table(
    source: str | Path,
    config: PrepConfig,
    *,
    fmt: str | None = None,
    need_label: bool = False,
    max_reject_fraction: float = 0.0,
    on_start: Callable[[int], None] | None = None,
    on_row: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Clean, align and decode every row of ``source`` and report, without writing.

    Returns:
        The summary preprocess would print (roles, labels, counts by reason, class and
        split counts, warnings), plus ``reject_fraction``, ``max_reject_fraction``,
        ``lost_modalities`` (modalities absent from every kept row, unless
        ``config.allow_missing_modality``), ``passed`` (rejected rows within the limit, at
        least one row kept and no lost modality) and ``rejects`` (every rejects.csv line, as
        objects).

    Raises:
        DataError: the table cannot be read or lacks a needed column.
        UsageError: ``max_reject_fraction`` is not in [0, 1].
    """
    if not 0.0 <= max_reject_fraction <= 1.0:
        raise UsageError(
            "Expected a number in [0, 1] for `max_reject_fraction`. "
            f"Received: max_reject_fraction={max_reject_fraction!r}"
        )
    inputs = load_inputs(source, config, fmt=fmt)
    table, roles = inputs.table, inputs.roles
    config = roles.settled(config)
    if need_label and roles.label is None:
        raise DataError(f"{table.name}: no label column; name it with --label-col")
    if on_start is not None:
        on_start(len(table))
    summary = WriteSummary()
    lines: list[list[object]] = []
    for line in inputs.extra_rejects:
        lines.append(list(line))
        summary.reasons[f"{line[4]}:{line[3]}"] += 1
    rows = iter_rows(
        table, roles, config, need_label=need_label or roles.label is not None,
        on_row=on_row, row_issues=inputs.row_issues,
    )
    for row in rows:
        summary.tally(row)
        lines.extend(reject_lines(row))
    report = build_schema(inputs, config, summary).to_dict()
    for key in ("format_version", "shard_rows"):
        report.pop(key)
    fraction = summary.rejected / summary.rows if summary.rows else 1.0
    report["reject_fraction"] = round(fraction, 6)
    report["max_reject_fraction"] = max_reject_fraction
    lost = [] if config.allow_missing_modality else lost_everywhere(report["warnings"])
    report["lost_modalities"] = [w["modality"] for w in lost]
    report["passed"] = summary.kept > 0 and fraction <= max_reject_fraction and not lost
    report["rejects"] = [dict(zip(layout.REJECT_COLUMNS, line, strict=True)) for line in lines]
    return report
