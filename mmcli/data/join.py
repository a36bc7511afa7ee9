"""``--join OTHER``: add a second table's columns to the main table, matched on the id.

A left join: the main table keeps its rows and their order (so row numbers in
rejects.csv still count the main table's data rows). Ids found in only one source
are reported: main rows without a match get a ``not_in_join`` issue, ids only in
the other table become ``only_in_join`` lines in rejects.csv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mmcli.data.clean import is_missing, to_str
from mmcli.data.roles import _CANDIDATES
from mmcli.errors import DataError

if TYPE_CHECKING:
    from mmcli.io.tables import Table

JOIN_SUFFIX = "_join"


@dataclass(frozen=True)
class JoinReport:
    """What the join matched. Positions are 0-based; ``only_in_join`` holds
    ``(1-based row in the other table, id)``."""

    table: str
    key: str
    matched: int
    not_in_join: tuple[int, ...] = ()
    only_in_join: tuple[tuple[int, str], ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            "table": self.table,
            "on": self.key,
            "matched": self.matched,
            "only_in_table": len(self.not_in_join),
            "only_in_join": len(self.only_in_join),
        }

    def warnings(self, limit: float) -> list[dict]:
        """A ``join_unmatched`` warning when more than ``limit`` (``max_missing_fraction``)
        of the table's rows found no id in the joined table (see :func:`unmatched_warning`)."""
        return unmatched_warning(self.to_dict(), limit,
                                 self.only_in_join[0][1] if self.only_in_join else None)


def unmatched_warning(join: dict, limit: float, example: str | None = None) -> list[dict]:
    """The ``join_unmatched`` warning of a join summary (``JoinReport.to_dict``) whose
    unmatched share of the table's rows is over ``limit``: their joined columns are missing."""
    rows = join["matched"] + join["only_in_table"]
    if not rows or join["only_in_table"] / rows <= limit:
        return []
    every = join["matched"] == 0
    hint = (f"; e.g. {join['table']} has id {example!r} (ids are compared as written: "
            "'007' is not '7')" if example is not None else "")
    return [{"kind": "join_unmatched", "table": join["table"], "rows": join["only_in_table"],
             "of": rows, "every_row": every,
             "message": (f"none of the {rows} rows found its {join['on']}" if every else
                         f"{join['only_in_table']} of {rows} rows found no {join['on']}")
             + f" in {join['table']}: the joined columns are missing{hint}"}]


def join_key(main: Table, other: Table, id_col: str | None) -> str:
    """The id column both tables share: ``id_col``, else a detected id name in both."""
    if id_col is not None:
        for table in (main, other):
            if id_col not in table:
                raise DataError(f"{table.name}: no id column {id_col!r} to join on")
        return id_col
    for candidate in _CANDIDATES["id"]:
        if candidate in main and candidate in other:
            return candidate
    raise DataError(
        f"--join: found no id column in both {main.name} and {other.name}; name it with --id-col"
    )


def join_tables(main: Table, other: Table, id_col: str | None) -> tuple[Table, JoinReport]:
    """Left-join ``other`` onto ``main`` on the id.

    Columns present in both keep the main table's values; the other table's copy is
    renamed ``<column>_join``.

    Raises:
        DataError: no shared id column, or ``other`` repeats an id (the match would be
            ambiguous).
    """
    key = join_key(main, other, id_col)
    right_ids, positions = id_positions(other, key)
    joined, take = _left_join(main, other, key, positions)
    missing = [i for i, t in enumerate(take) if t < 0]
    used = {t for t in take if t >= 0}
    only = tuple((p + 1, right_ids[p] or "") for p in range(len(right_ids)) if p not in used)
    return joined, JoinReport(other.name, key, len(used), tuple(missing), only)


def id_positions(other: Table, key: str) -> tuple[list[str | None], dict[str, int]]:
    """``other``'s ids (None when blank) and each id's 0-based row.

    Raises:
        DataError: an id is repeated.
    """
    right_ids = [_exact_id(v) for v in other.column(key)]
    positions: dict[str, int] = {}
    for position, ident in enumerate(right_ids):
        if ident is None:
            continue
        if ident in positions:
            raise DataError(
                f"{other.name}: id {ident!r} appears on rows {positions[ident] + 1} and "
                f"{position + 1}; a joined table needs unique ids"
            )
        positions[ident] = position
    return right_ids, positions


def _left_join(main: Table, other: Table, key: str,
               positions: dict[str, int]) -> tuple[Table, list[int]]:
    """``main`` with ``other``'s columns added, and the row of ``other`` each main row took
    (-1: none). Only the rows taken are copied (a chunk or a request, not the whole side
    table)."""
    left_ids = [_exact_id(v) for v in main.column(key)]
    take = [positions.get(ident, -1) if ident is not None else -1 for ident in left_ids]
    added = {
        f"{column}{JOIN_SUFFIX}" if column in main else column:
            [cells[t] if t >= 0 else None for t in take]
        for column, cells in zip(other.columns, other.cells, strict=True) if column != key
    }
    return main.with_columns(added), take


def _exact_id(value: object) -> str | None:
    """An id as written (ids are matched exactly, as they are echoed); None when blank."""
    if is_missing(value):
        return None
    return value if isinstance(value, str) else to_str(value)


class ChunkJoin:
    """The ``--join`` of a table read in chunks (``predict``, or ``serve``'s requests): each
    chunk is left-joined to the same ``other`` table, with the same rules as
    :func:`join_tables` (its ids indexed once); :meth:`report` adds the chunks up (an id of
    ``other`` is ``only_in_join`` when no chunk used it)."""

    def __init__(self, other: Table, id_col: str | None) -> None:
        self.other = other
        self.id_col = id_col
        self._key: str | None = None
        self._ids: list[str | None] = []
        self._positions: dict[str, int] = {}
        self._not_in_join = 0
        self._used: set[str] = set()

    def apply(self, chunk: Table) -> tuple[Table, tuple[int, ...]]:
        """``chunk`` joined, and the 0-based positions of its rows without a match.

        Raises:
            DataError: no shared id column, or ``other`` repeats an id.
        """
        key = join_key(chunk, self.other, self.id_col)
        if key != self._key:
            self._ids, self._positions = id_positions(self.other, key)
            self._key = key
        joined, take = _left_join(chunk, self.other, key, self._positions)
        missing = tuple(i for i, t in enumerate(take) if t < 0)
        self._not_in_join += len(missing)
        self._used.update(self._ids[t] for t in take if t >= 0)
        return joined, missing

    def report(self) -> dict:
        """What :meth:`JoinReport.to_dict` says of a whole table: ``table``, ``on``,
        ``matched`` (ids of ``other`` used), ``only_in_table`` (rows without a match),
        ``only_in_join`` (rows of ``other`` no row used)."""
        return {
            "table": self.other.name,
            "on": self._key,
            "matched": len(self._used),
            "only_in_table": self._not_in_join,
            "only_in_join": sum(1 for i in self._ids if i is None or i not in self._used),
        }
