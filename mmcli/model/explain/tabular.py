"""Tabular: a score per column by resetting it to its missing value.

Each of the row's columns is in turn set to the empty cell (what the model sees for a missing
value: a numeric column's training median with its missing flag up, a categorical column's
missing token), the other columns and modalities kept; its score is the target probability
with the row as it is minus the probability with that column reset: positive when the
column's value supports the target. A column already missing in the row scores 0 exactly. The
column names come from the bundle's settled ``--numeric-col`` / ``--category-col`` lists
(numeric first, the order of the model's input). Costs one head pass per column and row, a
frozen image backbone's features reused (:class:`~mmcli.model.explain.forward.Forward`).
"""

from __future__ import annotations

import numpy as np

from mmcli import modalities
from mmcli.model.explain.base import Context, Inside, take


class TabularExplainer:
    """The tabular kind's explainer: each column reset to its missing value."""

    method = "column_reset"

    def __call__(self, context: Context, name: str, inputs: dict,
                 target: np.ndarray) -> list[Inside]:
        """Raises:
            ValueError: the context carries no preparation config (the column names)."""
        if context.prep is None:
            raise ValueError("Expected the bundle's PrepConfig in `context.prep` (the tabular "
                             "column names). Received: prep=None")
        columns = modalities.modality_of(name).named_columns(context.prep)
        forward, rows = context.forward, len(target)
        prepared = forward.prepare(inputs)
        full = forward.proba(prepared)[np.arange(rows), target]
        index = np.repeat(np.arange(rows), len(columns))  # row-major: row r, column j
        batch = take(prepared, index)
        cells = np.array(batch[name], dtype=object, copy=True)
        cells[np.arange(len(index)), np.tile(np.arange(len(columns)), rows)] = ""
        batch[name] = cells
        reset = forward.proba(batch)[np.arange(len(index)), target[index]]
        scores = (full[index] - reset).reshape(rows, len(columns))
        scores[np.asarray(inputs[name], dtype=object) == ""] = 0.0  # nothing to reset
        notes = {"method": self.method, "reset_to": "missing (empty cell)"}
        return [Inside(columns={c: round(float(s), 6) for c, s in zip(columns, scores[r],
                                                                       strict=True)},
                       notes=notes)
                for r in range(rows)]
