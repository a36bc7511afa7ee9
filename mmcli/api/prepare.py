"""``mmcli preprocess`` as a library call: table in, prepared dataset folder out."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmcli import layout, modalities
from mmcli.config import PrepConfig
from mmcli.data.coverage import lost_everywhere, refusal, sparse_columns
from mmcli.data.dataset import WriteSummary, rows_per_shard, write_rows
from mmcli.data.decoding import early_server
from mmcli.data.inputs import Inputs, load_inputs
from mmcli.data.labelmap import load_label_map, unused_entries
from mmcli.data.roles import ignored_absent
from mmcli.data.rows import iter_rows
from mmcli.data.schema import Schema
from mmcli.data.shard import Part
from mmcli.data.spellings import merged_labels
from mmcli.errors import DataError, NoUsableRowsError
from mmcli.io.atomic import atomic_dir


def prepare(
    source: str | Path,
    config: PrepConfig,
    out: Path,
    *,
    force: bool = False,
    fmt: str | None = None,
    encoding: str | None = None,
    need_label: bool | None = None,
    inputs: Inputs | None = None,
    on_start: Callable[[int], None] | None = None,
    on_row: Callable[[], None] | None = None,
    part: Part | None = None,
    refuse_lost: bool = False,
) -> dict[str, Any]:
    """Read, clean, align and decode a table into a prepared dataset folder at ``out``.

    Args:
        source: a table path, or ``-`` for stdin.
        config: cleaning, policy and image settings.
        out: the folder to write; written atomically.
        force: replace ``out`` if it exists.
        fmt: the table format when the extension does not tell.
        encoding: the text encoding of CSV/TSV/JSONL input (default ``config.encoding``).
        need_label: reject rows without a label, and require a label column (training);
            default: only when the table has a label column.
        inputs: the table already loaded by :func:`~mmcli.data.inputs.load_inputs`.
        on_start: called with the number of rows before decoding starts (progress).
        on_row: called once per row (progress).
        part: prepare only this part of the rows (``--shard I/N``, :mod:`mmcli.data.shard`);
            the rejects about no row of the table (``--join``) go to part 1.
        refuse_lost: write nothing and raise when a modality is absent from every kept row
            (unless ``config.allow_missing_modality``): ``mmcli preprocess`` of a whole
            table. Train checks the prepared data itself; evaluate may score such rows.

    Returns:
        The summary also saved as ``schema.json``.

    Raises:
        DataError: the table cannot be read or lacks a needed column.
        NoUsableRowsError: every row was rejected.
        OutputExistsError: ``out`` exists and ``force`` is false.
        DataError: ``refuse_lost`` and a modality is absent from every kept row.
    """
    if encoding is not None:
        config = dataclasses.replace(config, encoding=encoding)
    if inputs is None:
        inputs = load_inputs(source, config, fmt=fmt)
    table, roles = inputs.table, inputs.roles
    config = roles.settled(config)
    if need_label is None:
        need_label = roles.label is not None
    elif need_label and roles.label is None:
        raise DataError(
            f"{table.name}: no label column (columns: {', '.join(map(str, table.columns))});"
            " name it with --label-col"
        )
    if on_start is not None:
        on_start(len(table) if part is None else part.count(len(table)))
    with early_server(table, roles, config), atomic_dir(Path(out), force=force) as folder:
        rows = iter_rows(
            table, roles, config, need_label=need_label, on_row=on_row,
            row_issues=inputs.row_issues,
            part=None if part is None else (part.index, part.parts),
            borrow=True,  # write_rows copies each row's arrays into its shards at once
        )
        extra = inputs.extra_rejects if part is None or part.index == 1 else ()
        summary = write_rows(rows, folder, config, names=roles.modalities, extra_rejects=extra)
        if summary.kept == 0:
            raise NoUsableRowsError(f"{table.name}: all {summary.rows} rows were rejected")
        schema = build_schema(inputs, config, summary)
        lost = [] if config.allow_missing_modality or not refuse_lost else \
            lost_everywhere(schema.warnings)
        if lost:
            raise DataError(refusal(lost, "nothing written: ", "to write it anyway"))
        if part is not None:
            schema = dataclasses.replace(schema, part=part.to_dict())
        schema = schema.to_dict()
        (folder / layout.SCHEMA_FILE).write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return schema


def build_schema(inputs: Inputs, config: PrepConfig, summary: WriteSummary) -> Schema:
    """The :class:`Schema` of a table prepared with ``config`` (schema.json, and preprocess'
    JSON summary)."""
    table, roles = inputs.table, inputs.roles
    labels = sorted(label for label in summary.labels if label is not None)
    specs = [modalities.modality_of(m).shard_spec(m, config) for m in roles.modalities]
    specs = [spec for spec in specs if spec is not None]
    return Schema(
        table=table.name,
        sha256=table.sha256,
        roles=roles.to_dict(),
        modalities=roles.modalities,
        labels=tuple(labels),
        prep=config,
        shard_rows=rows_per_shard(specs[0]) if specs else 0,
        rows=summary.rows,
        kept=summary.kept,
        masked=summary.masked,
        rejected=summary.rejected,
        issues=dict(sorted(summary.reasons.items())),
        class_counts={label: summary.labels[label] for label in labels},
        split_counts=dict(sorted(summary.splits.items())),
        warnings=(*data_warnings(labels, roles.label),
                  *(merged_labels(table.column(roles.label)) if roles.label else ()),
                  *map_warnings(table, roles.label, config),
                  *summary.coverage.warnings(
                      summary.kept, {m: roles.column(m) for m in roles.modalities},
                      config.max_missing_fraction),
                  *sparse_columns(table, roles.sources, config.max_missing_fraction),
                  *ignored_absent(table, config),
                  *(inputs.join.warnings(config.max_missing_fraction) if inputs.join else ())),
        join=inputs.join.to_dict() if inputs.join is not None else None,
    )


def map_warnings(table, label_column: str | None, config: PrepConfig) -> list[dict]:
    """``--label-map`` entries that rename no label of ``table`` (a misspelt key is
    otherwise silent)."""
    if not (config.label_map and label_column):
        return []
    casefold = config.label_case == "fold"
    mapping = load_label_map(config.label_map, casefold=casefold)
    return unused_entries(table.column(label_column), mapping, config.label_map,
                          casefold=casefold)


def data_warnings(labels: list[str], label_column: str | None) -> list[str]:
    """Problems that do not stop preprocessing but will stop training."""
    if label_column is not None and len(labels) == 1:
        return [f"only one class ({labels[0]!r}) among the kept rows: training needs two or more"]
    return []
