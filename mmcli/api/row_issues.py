"""What ``predict`` did to the rows it read, as preprocess reports it: every rejects.csv line
(row, id, column, reason, action, message), counted by ``action:reason``, a few kept as
examples for people, and each modality's coverage (a modality lost in most rows is loud).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmcli.config import PrepConfig
from mmcli.data.coverage import Coverage
from mmcli.data.dataset import reject_lines
from mmcli.data.rows import Issue, Row
from mmcli.modalities.tabular import unseen_values

EXAMPLES = 5  # lines kept for the stderr summary
MALFORMED = "malformed_row"  # the reason of a line the table reader could not parse
UNSEEN = "unseen_category"  # a category the model never saw in training (action noted)
# A tabular modality -> per categorical column, the values seen in training (its vocabulary).
Categories = Mapping[str, tuple[frozenset[str], ...]]


@dataclass
class IssueTally:
    """The issues of the rows read so far.

    ``issues`` counts lines by ``action:reason`` (preprocess's ``issues``), ``examples`` holds
    the first :data:`EXAMPLES` lines, ``kept`` the rows not rejected, ``coverage`` which
    modalities they had. ``sink`` (optional) receives every line as it is found.
    """

    issues: Counter = field(default_factory=Counter)
    examples: list[list[Any]] = field(default_factory=list)
    lines: int = 0
    kept: int = 0
    coverage: Coverage = field(default_factory=Coverage)
    sink: Callable[[list[Any]], Any] | None = None

    def add(self, row: Row, parse_error: str | None = None) -> None:
        """Count one row's issues (``parse_error``: the reader's message for a line it could
        not parse, reported as ``malformed_row``, action ``rejected``)."""
        # A line that did not parse is that one problem, not also its empty cells' (a blank
        # id "kept", a text or tabular cell "missing"): the row is rejected as a whole.
        lines = ([[row.row, row.id, "", MALFORMED, "rejected", parse_error]]
                 if parse_error is not None else reject_lines(row))
        for line in lines:
            self.issues[f"{line[4]}:{line[3]}"] += 1
            self.lines += 1
            if len(self.examples) < EXAMPLES:
                self.examples.append(line)
            if self.sink is not None:
                self.sink(line)
        if parse_error is not None and not row.rejected:
            row = dataclasses.replace(row, rejected=True)
        self.kept += not row.rejected
        self.coverage.tally(row)

    def warnings(self, columns: Mapping[str, str], limit: float) -> list[dict[str, Any]]:
        """The ``modality_lost`` warnings (:meth:`Coverage.warnings`) over the kept rows."""
        return self.coverage.warnings(self.kept, columns, limit)


def id_part(row_id: Any) -> str:
    """A row's id in a message for people: ``id ex0103``; ``no id`` for a blank one;
    quoted (``id ' sp'``) when spaces around it would be invisible."""
    text = "" if row_id is None else str(row_id)
    if text == "":
        return "no id"
    return f"id {text!r}" if text != text.strip() else f"id {text}"


def example_line(line: list[Any]) -> str:
    """One rejects line for people: ``row 3 (id ex0103) audio: unreadable (masked): ...``."""
    row, row_id, column, reason, action, message = line
    where = f"row {row}" if row != "" else "no row"
    return (f"{where} ({id_part(row_id)}) {column + ': ' if column else ''}{reason} ({action})"
            + (f": {message}" if message else ""))


def unseen_issues(values: Mapping[str, Any], categories: Categories,
                  prep: PrepConfig) -> list[Issue]:
    """An ``unseen_category`` issue (action ``noted``: the row is used, the cell read as the
    out-of-vocabulary value) for each categorical cell of a row's ``values`` (by modality)
    outside its training vocabulary (``categories``: per tabular modality, one vocabulary
    per categorical column, as :class:`mmcli.api.engine.Runner` holds them)."""
    return [Issue(column, UNSEEN, "noted", f"{cell[:40]!r} was never seen in training: "
                  "read as unknown")
            for name, known in categories.items()
            for column, cell in unseen_values(values.get(name), prep, known)]


def with_unseen(row: Row, categories: Categories, prep: PrepConfig) -> Row:
    """``row`` with its :func:`unseen_issues` added (a rejected row is returned as it is)."""
    if row.rejected or not categories:
        return row
    found = unseen_issues(row.values, categories, prep)
    return dataclasses.replace(row, issues=(*row.issues, *found)) if found else row


def issue_dicts(issues: Iterable[Issue]) -> list[dict[str, str]]:
    """A row's problems as records carry them (serve's and explain's ``issues``): one
    ``{column, reason, action, message}`` per rejects.csv line (``column`` empty for the row
    itself, e.g. ``no_modality``)."""
    return [{"column": i.column, "reason": i.reason, "action": i.action, "message": i.message}
            for i in issues]


def lines_by_row(lines: Iterable[Sequence[str]]) -> dict[tuple[str, str], list[Issue]]:
    """A prepared dataset's rejects.csv lines (:meth:`Dataset.reject_lines`) as issues by
    ``(row, id)`` (strings, as written)."""
    out: dict[tuple[str, str], list[Issue]] = {}
    for row, row_id, column, reason, action, message in lines:
        out.setdefault((row, row_id), []).append(Issue(column, reason, action, message))
    return out


def unseen_in_examples(model, bundle, frame) -> list[tuple[tuple[str, str], list[Issue]]]:
    """For each row of a prepared dataset's examples ``frame``: its ``(row, id)`` (strings,
    as rejects.csv writes them) and its :func:`unseen_issues` against the vocabularies of the
    Keras ``model`` of ``bundle`` (evaluate, explain)."""
    keys = [(str(row), str(row_id))
            for row, row_id in zip(frame["row"].tolist(), frame["id"].tolist(), strict=True)]
    return list(zip(keys, _unseen_in_examples(model, bundle, frame), strict=True))


def _unseen_in_examples(model, bundle, frame) -> list[list[Issue]]:
    from mmcli.modalities import modality_of
    from mmcli.model.tabular_encoders import vocabularies

    prep = bundle.config.prep
    tabular = [m for m in bundle.modalities
               if modality_of(m).kind == "tabular" and m in frame.columns]
    if not tabular:
        return [[] for _ in range(len(frame))]
    categories = {m: vocabularies(model, m, prep) for m in tabular}
    values = {m: modality_of(m).from_examples(m, frame, prep) for m in tabular}
    return [unseen_issues({m: v[r] for m, v in values.items()}, categories, prep)
            for r in range(len(frame))]
