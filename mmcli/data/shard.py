"""Which rows of a table a ``preprocess --shard I/N`` part holds (pure, no pandas).

The rule: the table's data row r (1-based, in file order) goes to part ((r - 1) mod N) + 1.
Every row is in exactly one part; the parts depend only on the table's row order, so every
machine that reads the same file makes the same parts. Ids, duplicates and labels are
still judged over the whole table (:func:`mmcli.data.rows.iter_rows`), so the parts
together hold exactly the rows, verdicts and row numbers of the whole table prepared at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mmcli.errors import UsageError

_SHARD = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Part:
    """Part ``index`` (1-based) of ``parts``."""

    index: int
    parts: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.parts:
            raise UsageError(f"Expected --shard I/N with 1 <= I <= N. Received: "
                             f"{self.index}/{self.parts}")

    @classmethod
    def parse(cls, text: str) -> Part:
        """``"2/3"`` -> ``Part(2, 3)``.

        Raises:
            UsageError: not of the form I/N with 1 <= I <= N.
        """
        match = _SHARD.fullmatch(text)
        if match is None:
            raise UsageError(f"Expected --shard I/N, e.g. 1/4. Received: {text!r}")
        return cls(int(match[1]), int(match[2]))

    def holds(self, number: int) -> bool:
        """Whether the table's data row ``number`` (1-based) is in this part."""
        return in_part(number, self.index, self.parts)

    def count(self, rows: int) -> int:
        """How many of a table's ``rows`` data rows this part holds."""
        return len(range(self.index - 1, rows, self.parts))

    def to_dict(self) -> dict[str, int]:
        return {"index": self.index, "of": self.parts}


def in_part(number: int, index: int, parts: int) -> bool:
    """Whether data row ``number`` (1-based) is in part ``index`` of ``parts``."""
    return (number - 1) % parts == index - 1
