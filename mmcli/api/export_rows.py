"""The rows an export is checked on: the first usable rows of a table, read as ``mmcli
predict`` reads them, with each modality's raw form beside them for the SavedModel (the image
file's bytes, the text cell, the decoded waveform, the tabular cells)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mmcli import modalities
from mmcli.bundle import Bundle
from mmcli.config import PrepConfig, replace
from mmcli.data.inputs import with_absent
from mmcli.data.roles import detect_roles, pin_roles
from mmcli.data.rows import Row, data_root, iter_rows
from mmcli.errors import UsageError
from mmcli.io.tables import iter_table_chunks


def default_table(bundle: Bundle) -> Path:
    """The table the bundle was trained on, when it is still where training read it.

    Raises:
        UsageError: it is not (name one with --check-data).
    """
    table = bundle.data.get("table")
    if isinstance(table, str) and table not in ("", "-") and Path(table).is_file():
        return Path(table)
    raise UsageError(f"no table to check the export on (the training table {table!r} is not "
                     "here); name one with --check-data TABLE")


def sample_rows(bundle: Bundle, source: str | Path | None, limit: int
                ) -> tuple[list[Row], PrepConfig, dict[str, list[Any]]]:
    """The first ``limit`` usable rows of ``source``, the reading settings, and each
    modality's raw values for those rows (absent: ``b""``, ``""``, zeros)."""
    source = source if source is not None else default_table(bundle)
    prep = bundle.config.prep
    chunk = next(iter(iter_table_chunks(source, chunk_rows=limit, encoding=prep.encoding)),
                 None)
    if chunk is None:
        raise UsageError(f"{source}: no rows to check the export on")
    prep, pinned = pin_roles(bundle.roles, prep, chunk.table.columns)
    prep = replace(prep, label_col=None, split_col=None, on_missing="keep")
    table = with_absent(chunk.table, pinned)
    roles = detect_roles(table, prep)
    prep = roles.settled(prep)
    rows = [r for r in iter_rows(table, roles, prep, need_label=False, dedupe_ids=False,
                                 first_row=chunk.first_row) if not r.rejected]
    raw = {m: [_raw(m, r, table, roles.sources.get(m, ()), chunk.first_row, prep)
               for r in rows] for m in bundle.modalities}
    return rows, prep, raw


def _raw(name: str, row: Row, table, columns, first_row: int, prep: PrepConfig) -> Any:
    kind = modalities.kind_of(name)
    local = row.row - first_row
    cells = [table.column(c)[local] if c in table else None for c in columns]
    if kind == "tabular":
        return ["" if c is None else str(c) for c in cells]
    if kind == "audio":
        if not row.present(name):
            return np.zeros(round(prep.audio_seconds * prep.audio_rate), np.float32)
        return np.asarray(row.values[name], np.float32)
    if not row.present(name):
        return b"" if kind == "image" else ""
    if kind == "image":
        from mmcli.io.images import index_image_dir, resolve_image_path

        root = data_root(table, prep)
        if prep.image_dir is not None:
            return index_image_dir(root)[0][row.id].read_bytes()
        return resolve_image_path(str(cells[0]).strip(), root,
                                  allow_outside_root=prep.allow_outside_root).read_bytes()
    return str(cells[0]) if len(cells) == 1 else str(row.values[name])


def raw_inputs(raw: dict[str, list[Any]], batch: int) -> Iterator[dict[str, np.ndarray]]:
    """The SavedModel's inputs, ``batch`` rows at a time."""
    total = len(next(iter(raw.values()))) if raw else 0
    for start in range(0, total, batch):
        out = {}
        for name, values in raw.items():
            part = values[start:start + batch]
            kind = modalities.kind_of(name)
            out[name] = (np.stack(part).astype(np.float32) if kind == "audio"
                         else np.array(part, dtype=object))
        yield out
