"""What a tabular cell counts as: a plain decimal number, a number-like cell that is not one
(``1,000``, ``inf``, ``1e400``), or a placeholder (``n/a``, ``?``); and from that, whether a
column is numeric and why detection left a column out (:mod:`mmcli.modalities.tabular`)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

NUMBER = re.compile(r"\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*")


def parse_number(cell: Any) -> float | None:
    """A cell as a float, or None when it is not a plain decimal number (``1``, ``-2.5``,
    ``3e4``; not ``nan``, ``inf``, ``1e400`` (beyond a float), ``1,000`` or ``$5``)."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, (int, float)):
        return float(cell) if math.isfinite(cell) else None
    if isinstance(cell, str) and NUMBER.fullmatch(cell):
        number = float(cell)
        return number if math.isfinite(number) else None  # 1e400 overflows to inf
    return None


def overflows(cell: Any) -> bool:
    """Whether a cell is written as a plain decimal number too large for a float (``1e400``,
    ``-1e999``): a number out of range rather than text that is no number."""
    return isinstance(cell, str) and bool(NUMBER.fullmatch(cell)) and \
        not math.isfinite(float(cell))


FLOAT32_MAX = 3.4028234663852886e38  # the model computes in float32: a larger number is inf

# A column is numeric when its non-empty cells are numbers but for a few placeholder tokens
# (``n/a``, ``?``, ``-``): at most this share of the cells and this many distinct tokens. Those
# cells are then imputed and reported (``not_a_number``), never a reason to drop the column.
PLACEHOLDER_SHARE = 0.1
PLACEHOLDER_TOKENS = 3


# Cells written like numbers that are not plain decimals: thousands separators (``1,000``),
# ``inf``, ``nan``, a number beyond a float (``1e400``). They do not stop a column from being
# numeric (any number of them); each is then imputed and reported as ``not_a_number``, as the
# cell is read verbatim.
NUMBER_LIKE = re.compile(r"\s*[-+]?(\d{1,3}(,\d{3})+(\.\d*)?|inf|infinity|nan)\s*",
                         re.IGNORECASE)


def _placeholders(values: Sequence[Any]) -> list[Any]:
    return [v for v in values if parse_number(v) is None
            and not (NUMBER_LIKE.fullmatch(str(v)) or NUMBER.fullmatch(str(v)))]  # 1e400


def mostly_numbers(values: Sequence[Any]) -> bool:
    """Whether non-empty cells are numbers but for number-like cells (``1,000``, ``inf``) and
    a few placeholders (see above); at least one cell must be a plain number."""
    if not any(parse_number(v) is not None for v in values):
        return False
    others = _placeholders(values)
    return (len(others) <= PLACEHOLDER_SHARE * len(values)
            and len({str(v).strip().lower() for v in others}) <= PLACEHOLDER_TOKENS)


def unused_reason(values: Sequence[Any], column: str) -> str:
    """Why detection left a column (its non-empty cells ``values``) out of the tabular
    modality, in words for the summary's ``roles.unused``."""
    if not values:
        return "empty in every row"
    if any(parse_number(v) is not None for v in values):
        if mostly_numbers(values):
            return "numbers, but named like an id; name it with --numeric-col to use it"
        others = _placeholders(values)
        shown = ", ".join(sorted({repr(str(v).strip()) for v in others})[:5])
        return (f"numbers but for {len(others)} of {len(values)} cells ({shown}); name it with "
                "--numeric-col to use it (those cells imputed)")
    return (f"{len(set(map(str, values)))} distinct values, neither numbers nor a few repeated "
            "short strings; name it with --text-col (text) or --category-col to use it")
