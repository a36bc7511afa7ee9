"""A table held as columns (:class:`Table`) and a chunk of one (:class:`Chunk`), as
:mod:`mmcli.io.tables` reads them: one list of cells per column, no pandas. The commands that
want a DataFrame (evaluate, predict, explain ...) ask for :attr:`Table.frame`, built once on
first use; preprocess, check and the preparation of a raw table never do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Table:
    """A table as read, by column: its column names, one list of cells per column (as the
    format's routine gives them, None missing), the folder relative paths resolve against,
    its name, its hash (sha256 of the bytes read; empty for a chunk) and its number of rows
    (``len(table)``; by default the length of its columns: give it for a table without
    columns, e.g. JSON Lines of ``{}``).

    The lists are shared, never copied: treat them as read-only (:meth:`with_columns` gives
    a table with more columns).
    """

    columns: tuple[str, ...]
    cells: tuple[list[Any], ...]
    root: Path
    name: str
    sha256: str = ""
    n_rows: int = -1

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "cells", tuple(self.cells))
        if len(self.columns) != len(self.cells):
            raise ValueError(f"{len(self.columns)} column names for {len(self.cells)} columns")
        if self.n_rows < 0:
            object.__setattr__(self, "n_rows", len(self.cells[0]) if self.cells else 0)

    @classmethod
    def from_columns(cls, data: Mapping[str, Sequence[Any]], root: Path | str = ".",
                     name: str = "table", sha256: str = "") -> Table:
        """A table from column name -> cells (all of one length).

        Raises:
            ValueError: columns of different lengths.
        """
        cells = [list(values) for values in data.values()]
        if len({len(c) for c in cells}) > 1:
            raise ValueError(f"columns of different lengths: {[len(c) for c in cells]}")
        return cls(tuple(data), tuple(cells), Path(root), name, sha256)

    def __len__(self) -> int:
        return self.n_rows

    def __contains__(self, column: object) -> bool:
        return column in self._positions

    @cached_property
    def _positions(self) -> dict[str, int]:
        return {column: i for i, column in enumerate(self.columns)}

    def column(self, name: str) -> list[Any]:
        """The cells of column ``name``, in row order (the table's own list: do not modify).

        Raises:
            KeyError: no such column.
        """
        return self.cells[self._positions[name]]

    def with_columns(self, added: Mapping[str, list[Any]]) -> Table:
        """This table with ``added`` columns (name -> cells): a name it has already is
        replaced in its place, a new one appended."""
        data = dict(zip(self.columns, self.cells, strict=True))
        data.update(added)
        return Table(tuple(data), tuple(data.values()), self.root, self.name, self.sha256,
                     self.n_rows)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """The table as a pandas DataFrame (built once, on first use; pandas is imported
        only here): these columns, every one of dtype ``object``, cells as they are, a
        RangeIndex from 0."""
        import pandas as pd

        return pd.DataFrame(dict(zip(self.columns, self.cells, strict=True)),
                            index=range(len(self)), columns=list(self.columns), dtype=object)


@dataclass(frozen=True)
class Chunk:
    """A slice of a table read in chunks: its rows as a :class:`Table`, the 1-based number of
    its first row in the whole table, and the rows that could not be parsed (position in the
    chunk -> message; such a row is present in the table with every cell missing)."""

    table: Table
    first_row: int
    errors: dict[int, str]
