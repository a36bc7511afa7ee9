"""How much of each modality a table really gives: the "modality lost" warnings.

A modality absent (missing, or unusable: a path that does not resolve, a file that does not
decode) in more than ``PrepConfig.max_missing_fraction`` of the kept rows is reported by
check, preprocess and train, on stderr and in their JSON ``warnings``; absent from every
kept row it fails ``check`` (exit 5), ``preprocess`` and ``train`` (exit 3) unless
``PrepConfig.allow_missing_modality``. Generic over modality kinds: it counts
:attr:`mmcli.data.rows.Row.values` and the rows' issues by column.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mmcli.data.rows import Row
    from mmcli.io.tables import Table

LOST = "modality_lost"  # the "kind" of these warnings in JSON


@dataclass
class Coverage:
    """Per modality: kept rows that have it; per column: issues by reason, the first message."""

    present: Counter = field(default_factory=Counter)
    reasons: dict[str, Counter] = field(default_factory=dict)
    example: dict[str, str] = field(default_factory=dict)

    def tally(self, row: Row) -> None:
        """Count one row (kept or rejected)."""
        for issue in row.issues:
            if issue.action == "noted":
                continue
            self.reasons.setdefault(issue.column, Counter())[issue.reason] += 1
            self.example.setdefault(issue.column, issue.message)
        if not row.rejected:
            for name, value in row.values.items():
                self.present[name] += value is not None

    def warnings(self, kept: int, columns: Mapping[str, str], limit: float) -> list[dict]:
        """One warning per modality absent from more than ``limit`` of the ``kept`` rows.

        Args:
            kept: the kept rows.
            columns: modality name -> the column(s) its issues name (``Roles.column``).
            limit: ``max_missing_fraction``, in [0, 1].

        Returns:
            Objects with ``kind`` (``modality_lost``), ``modality``, ``column``, ``rows``
            (kept rows without it), ``of`` (kept rows), ``share`` (rows / of), ``every_row``,
            ``reason`` (the commonest), ``example`` (one row's message, naming the path as it
            was looked up) and ``message`` (one line for people).
        """
        found = []
        for name, column in columns.items():
            if kept == 0:
                break
            absent = kept - self.present[name]
            share = absent / kept
            if absent == 0 or share <= limit:
                continue
            reasons = self.reasons.get(column, Counter())
            reason = reasons.most_common(1)[0][0] if reasons else "missing"
            example = self.example.get(column, "")
            every = absent == kept
            found.append({
                "kind": LOST, "modality": name, "column": column, "rows": absent, "of": kept,
                "share": round(share, 6), "every_row": every, "reason": reason,
                "example": example,
                "message": (f"{name} ({column}) is missing or unusable in "
                            f"{'every one' if every else absent} of {kept} kept rows "
                            f"({share:.0%}; commonest reason: {reason})"
                            + (f"; e.g. {example}" if example else "")),
            })
        return found


def lost_everywhere(warnings: Iterable[Any]) -> list[dict]:
    """The ``modality_lost`` warnings (from :meth:`Coverage.warnings`) of a modality absent
    from every kept row."""
    return [w for w in warnings if isinstance(w, dict) and w.get("kind") == LOST
            and w.get("every_row")]


def refusal(lost: list[dict], outcome: str, accept: str) -> str:
    """The one error line refusing every modality of ``lost`` (from :func:`lost_everywhere`).

    Args:
        lost: the ``modality_lost`` warnings of modalities absent from every kept row (one
            or more; each one's ``message`` is said, not the first one's only).
        outcome: what the refusal means, before the advice (``"nothing written: "``, or
            ``""``).
        accept: the end of the advice (``"to accept it"``).

    Returns:
        ``"<message>; <message>; <outcome>fix the table[ (or --image-root)], or pass
        --allow-missing-modality <accept>"``: ``--image-root`` only when a lost modality
        is of a kind whose cells name files (image, audio).
    """
    from mmcli.modalities import modality_of
    from mmcli.modalities.files import FileModality

    def names_files(name: str) -> bool:
        try:
            return isinstance(modality_of(name), FileModality)
        except (KeyError, ValueError):
            return False

    where = " (or --image-root)" if any(names_files(w["modality"]) for w in lost) else ""
    said = "; ".join(str(w["message"]) for w in lost)
    return f"{said}; {outcome}fix the table{where}, or pass --allow-missing-modality {accept}"


def warning_text(warning: Any) -> str:
    """A warning (a string, or an object with ``message``) as one line."""
    return str(warning.get("message", warning)) if isinstance(warning, dict) else str(warning)


SPARSE = "column_mostly_empty"  # the "kind" of a tabular column's warning in JSON


def sparse_columns(table: Table, sources: Mapping[str, tuple[str, ...]],
                   limit: float) -> list[dict]:
    """One warning per column of a several-column modality (tabular) empty in more than
    ``limit`` of the table's rows: its modality stays present, so :meth:`Coverage.warnings`
    cannot see it, yet nearly every cell of it is imputed.

    Args:
        table: the table as read (:class:`~mmcli.io.tables.Table`, cells verbatim).
        sources: modality name -> its source columns (``Roles.sources``); only modalities of
            several columns are looked at (one column's emptiness is its modality's).
        limit: ``max_missing_fraction``, in [0, 1].

    Returns:
        Objects with ``kind`` (``column_mostly_empty``), ``modality``, ``column``, ``rows``
        (empty cells), ``of`` (rows), ``share``, ``every_row`` and ``message``.
    """
    from mmcli.data.clean import is_missing

    found = []
    total = len(table)
    for name, columns in sources.items():
        if len(columns) < 2 or total == 0:
            continue
        for column in columns:
            if column not in table:
                continue
            empty = sum(map(is_missing, table.column(column)))
            share = empty / total
            if empty == 0 or share <= limit:
                continue
            found.append({
                "kind": SPARSE, "modality": name, "column": column, "rows": empty, "of": total,
                "share": round(share, 6), "every_row": empty == total,
                "message": (f"{name} column {column!r} is empty in "
                            f"{'every one' if empty == total else empty} of {total} rows "
                            f"({share:.0%}): those cells are imputed (a number's training "
                            "median with a missing flag, a category's missing token)"),
            })
    return found
