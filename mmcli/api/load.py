"""``mmcli.load(BUNDLE)``: a trained bundle as a Python object that predicts rows.

Example:
    >>> import mmcli
    >>> model = mmcli.load("bundle/")
    >>> model.predict([{"image": "photos/1.jpg", "text": "a red teapot", "size": 12.5}])
    [{'id': '1', 'label': 'red_happy', 'probability': 0.93, ...}]

The rows are read exactly like the rows of a table given to ``mmcli predict`` (the same
columns as the training table; relative image and audio paths resolve against ``root``), and
each record is the one ``mmcli predict --format jsonl`` writes for that row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmcli.api.predict import PredictSummary, predict_chunks
from mmcli.bundle import Bundle, read_bundle
from mmcli.errors import UsageError
from mmcli.io.tables import Chunk, Table


def rows_chunk(rows: Sequence[Mapping[str, Any]], root: str | Path = ".") -> Chunk:
    """Rows given as dicts (column -> cell) as one :class:`~mmcli.io.tables.Chunk`, cells as a
    table file would give them: strings verbatim, numbers as their text, booleans
    ``true``/``false``, None missing. The columns are the union of the rows' keys.

    Raises:
        UsageError: a row that is not a mapping, or a key that is not a string.
    """
    columns: dict[str, None] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise UsageError(f"row {i + 1}: expected a dict of column -> value, "
                             f"got {type(row).__name__}")
        for key in row:
            if not isinstance(key, str):
                raise UsageError(f"row {i + 1}: column names must be strings, got {key!r}")
            columns.setdefault(key, None)
    cells = [[_cell(row.get(c)) for row in rows] for c in columns]
    return Chunk(Table(tuple(columns), tuple(cells), Path(root), "<rows>", "", len(rows)), 1, {})


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Loaded:
    """A bundle ready to predict. ``engine``: ``auto`` (the bundle's LiteRT/ONNX export when
    it has one, else TensorFlow), ``tf``, ``lite`` or ``onnx``."""

    bundle: Bundle
    engine: str = "auto"

    @property
    def labels(self) -> tuple[str, ...]:
        return self.bundle.labels

    @property
    def modalities(self) -> tuple[str, ...]:
        return self.bundle.modalities

    def predict(self, rows: Sequence[Mapping[str, Any]], *, top_k: int = 3,
                root: str | Path = ".") -> list[dict[str, Any]]:
        """One record per row, in order (the fields of ``mmcli predict``; a row that cannot
        be predicted has ``error`` set and ``label`` None).

        Raises:
            UsageError: rows that are not dicts, ``top_k`` < 1, or an engine the bundle lacks.
            BundleError: the model cannot be loaded.
        """
        if not rows:
            return []
        return list(predict_chunks(self.bundle, [rows_chunk(rows, root)], top_k=top_k,
                                   summary=PredictSummary(), engine=self.engine))


def load(bundle: str | Path, *, engine: str = "auto") -> Loaded:
    """Open a bundle for predictions from Python (its hashes and signature checked first).

    Raises:
        BundleError: not a bundle, a damaged or tampered one (exit code 4 in the CLI).
    """
    return Loaded(read_bundle(bundle), engine)
