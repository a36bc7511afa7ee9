"""Row ids as written: echoed exactly in every output, a blank one never replaced by a number.

An id is the cell's own string: no Unicode normalisation, no whitespace collapsing, no float
conversion (a JSON ``1450000000000000001`` is its text; only a Parquet float ``3.0`` becomes
``3``). A blank id cell (empty, None, whitespace) stays blank (``""`` for a missing cell) and
is reported as ``missing_id``: a row number in its place could be another row's real id.
Without an id column, the ids are the 1-based row numbers.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from mmcli.data.clean import is_missing, to_str


def row_ids(raw_ids: Sequence[object] | None, rows: int, first_row: int = 1) -> list[str]:
    """Each row's id (see the module); ``raw_ids`` None: the table has no id column."""
    if raw_ids is None:
        return [str(i + first_row) for i in range(rows)]
    return ["" if raw is None else raw if isinstance(raw, str) else to_str(raw) for raw in raw_ids]


def id_keys(ids: Sequence[str], raw_ids: Sequence[object] | None) -> list[Hashable] | None:
    """The ids the duplicates policy compares: blank ids never match each other (or a real id).
    """
    if raw_ids is None:
        return None
    return [(i,) if is_missing(raw) else ident
            for i, (ident, raw) in enumerate(zip(ids, raw_ids, strict=True))]
