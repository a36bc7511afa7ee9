"""Duplicate ids and exact duplicate rows, decided by the ``--duplicates`` policy.

``keep-first`` keeps the first row and rejects later copies; ``reject`` rejects every
copy, the first included; ``error`` stops at the first copy. An exact duplicate (every
cell equal) is reported as ``duplicate_row``, else a repeated id as ``duplicate_id``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from mmcli.errors import DataError


@dataclass(frozen=True)
class Duplicate:
    """Why the row at a 0-based position is a duplicate."""

    reason: str  # duplicate_row or duplicate_id
    message: str


def find_duplicates(
    ids: Sequence[Hashable] | None, row_keys: Sequence[Hashable], policy: str
) -> dict[int, Duplicate]:
    """Return the duplicate rows to reject, by 0-based position.

    Args:
        ids: the cleaned id of each row, or None when the table has no id column.
        row_keys: one key per row, equal exactly when every cell is equal.
        policy: ``keep-first``, ``reject`` or ``error``.

    Raises:
        DataError: a duplicate exists and ``policy`` is ``error``.
    """
    found: dict[int, Duplicate] = {}
    for keys, reason, what in (
        (row_keys, "duplicate_row", "identical to"),
        (ids, "duplicate_id", "has the same id as"),
    ):
        if keys is None:
            continue
        groups: dict[Hashable, list[int]] = defaultdict(list)
        for position, key in enumerate(keys):
            if position not in found:
                groups[key].append(position)
        for members in groups.values():
            if len(members) < 2:
                continue
            first = members[0]
            if policy == "error":
                raise DataError(
                    f"row {members[1] + 1} {what} row {first + 1} ({reason}; --duplicates error)"
                )
            chosen = members if policy == "reject" else members[1:]
            for position in chosen:
                other = members[1] if position == first else first
                found[position] = Duplicate(reason, f"{what} row {other + 1}")
    return found
