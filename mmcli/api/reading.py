"""Chunks of a table into model rows, as ``mmcli predict`` reads them and ``mmcli serve``
reads each request's rows: the ``--join`` side table left-joined on the id
(:class:`~mmcli.data.join.ChunkJoin`: a row whose id it lacks gets a ``not_in_join`` issue),
the columns the bundle was trained on pinned by name (a trained input the table lacks is
added as a column of missing cells, so it is masked), then cleaned and decoded by
:func:`mmcli.data.rows.iter_rows`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mmcli import modalities
from mmcli.bundle import Bundle
from mmcli.config import PrepConfig, replace
from mmcli.data.inputs import with_absent
from mmcli.data.join import ChunkJoin
from mmcli.data.roles import Roles, detect_roles, pin_roles
from mmcli.data.rows import Issue, Row, iter_rows
from mmcli.io.tables import Chunk, Table, read_table

ROLES_CACHED = 256  # most column sets whose roles a per-chunk reader keeps


@dataclass(frozen=True)
class Reading:
    """How a table's columns are read: ``pinned`` (kind -> trained columns the table lacks,
    added as missing cells), ``roles``, and ``prep`` with detection's settings applied."""

    pinned: Mapping[str, tuple[str, ...]]
    roles: Roles
    prep: PrepConfig


@dataclass(frozen=True)
class ReadChunk:
    """A chunk read: ``table`` the chunk joined (kept columns come from it), how it was read,
    and its rows (a lazy iterator: decoding happens as it is consumed)."""

    table: Table
    reading: Reading
    rows: Iterator[Row]


class ChunkReader:
    """Reads chunks of one table (``per_chunk`` False: the first chunk's columns settle the
    roles of all, as predict reads a file) or each chunk as a table of its own (``per_chunk``
    True: serve's requests; the roles of a set of columns that holds only the model's
    columns and the id are kept, as they cannot depend on the cells).

    Args:
        bundle: The bundle whose columns are pinned.
        prep: Its reading settings, flags applied. ``prep.join``: the side table, read once
            here.

    Raises:
        DataError: the side table cannot be read.
    """

    def __init__(self, bundle: Bundle, prep: PrepConfig, *, per_chunk: bool = False) -> None:
        self.bundle = bundle
        self.prep = prep
        self.per_chunk = per_chunk
        self.joiner = ChunkJoin(read_table(prep.join, encoding=prep.encoding), prep.id_col) \
            if prep.join else None
        self._not_in_join = Issue("join", "not_in_join", "masked",
                                  f"id not found in {self.joiner.other.name}") \
            if self.joiner else None
        self._first: Reading | None = None
        self._cache: dict[tuple[str, ...], Reading] = {}
        self._known = set(model_columns(bundle))
        self._lock = threading.Lock()  # serve reads requests from several threads

    def read(self, chunk: Chunk, *, on_row: Callable[[], None] | None = None) -> ReadChunk:
        """``chunk`` joined and read into rows (lazily, in order).

        Raises:
            DataError: the side table shares no id column with the chunk or repeats an id;
                while iterating, a row that breaks a rule.
        """
        if self.joiner is not None:
            with self._lock:
                table, unmatched = self.joiner.apply(chunk.table)
        else:
            table, unmatched = chunk.table, ()
        reading = self._reading(table)
        rows = iter_rows(with_absent(table, reading.pinned), reading.roles, reading.prep,
                         need_label=False, dedupe_ids=False, on_row=on_row,
                         row_issues={i: (self._not_in_join,) for i in unmatched},
                         first_row=chunk.first_row)
        return ReadChunk(table, reading, rows)

    def join_report(self) -> dict[str, Any] | None:
        """The join's counts so far (:meth:`ChunkJoin.report`), None without a join."""
        if self.joiner is None:
            return None
        with self._lock:
            return self.joiner.report()

    def _reading(self, table: Table) -> Reading:
        if not self.per_chunk:
            if self._first is None:
                self._first = reading_of(self.bundle, self.prep, table)
            return self._first
        columns = table.columns
        cached = self._cache.get(columns)
        if cached is not None:
            return cached
        reading = reading_of(self.bundle, self.prep, table)
        if set(columns) <= self._known and len(self._cache) < ROLES_CACHED:
            # Every kind is pinned or absent and no column is left to detect by content, so
            # the roles depend on the column names alone.
            self._cache[columns] = reading
        return reading


def reading_of(bundle: Bundle, prep: PrepConfig, table: Table) -> Reading:
    """The roles of ``table``'s columns as predict assigns them: the bundle's columns pinned
    (:func:`~mmcli.data.roles.pin_roles`), labels and splits not read, a missing cell kept."""
    prep, pinned = pin_roles(bundle.roles, prep, table.columns)
    prep = replace(prep, label_col=None, split_col=None, on_missing="keep")
    roles = detect_roles(with_absent(table, pinned), prep)
    return Reading(pinned, roles, roles.settled(prep))


def model_columns(bundle: Bundle) -> tuple[str, ...]:
    """The columns the bundle's model reads (file columns first, by kind) and the id."""
    _, by_kind = pin_roles(bundle.roles, bundle.config.prep, [])
    files = [c for kind, cs in by_kind.items() if modalities.get(kind).decodes for c in cs]
    values = [c for kind, cs in by_kind.items() if not modalities.get(kind).decodes
              for c in cs]
    identity = bundle.roles.get("id")
    return (*files, *values, *([identity] if isinstance(identity, str) else []))
