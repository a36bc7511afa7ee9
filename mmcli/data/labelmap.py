"""A label mapping file (``--label-map``): renames applied to cleaned labels.

JSON: one object, ``{"kitty": "cat", "Cat ": "cat"}``. CSV: a header line, then two
columns, the label as found and the label to use. Keys are cleaned like labels
(and case-folded with ``--label-case fold``) so they match cleaned cells.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from mmcli.data.clean import clean_label, is_missing
from mmcli.data.spellings import distinct_cells
from mmcli.errors import DataError


def load_label_map(path: str | Path, *, casefold: bool = False) -> dict[str, str]:
    """Read a label mapping file.

    Raises:
        DataError: the file is missing, unreadable, or not a JSON object / two-column CSV.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read label map {name}: {exc}") from None
    pairs = _parse_json(text, name) if name.lower().endswith(".json") else _parse_csv(text, name)
    return parse_pairs(pairs, name, casefold=casefold)


def parse_pairs(
    pairs: list[tuple[object, object]], name: str = "label map", *, casefold: bool = False
) -> dict[str, str]:
    """Clean both sides of each pair; an empty target or conflicting keys are errors."""
    mapping: dict[str, str] = {}
    for number, (source, target) in enumerate(pairs, start=1):
        key = clean_label(source, casefold=casefold)
        value = clean_label(target, casefold=casefold)
        if key is None or value is None:
            raise DataError(f"{name}: entry {number} maps {source!r} to {target!r}: empty label")
        if mapping.get(key, value) != value:
            raise DataError(f"{name}: {key!r} is mapped both to {mapping[key]!r} and {value!r}")
        mapping[key] = value
    return mapping


UNUSED = "label_map_unused"  # the "kind" of the warning in JSON
SHOWN = 5  # entries named in the message (all are in ``entries``)


def unused_entries(cells: Iterable[object], mapping: Mapping[str, str], name: str, *,
                   casefold: bool = False) -> list[dict]:
    """The ``label_map_unused`` warning: entries of ``mapping`` that match no label cell.

    Args:
        cells: the label column's cells as read (None or NaN for a missing cell).
        mapping: the cleaned map (:func:`load_label_map`).
        name: the map's path, for the message.
        casefold: ``--label-case fold`` (labels and keys compared case-folded).

    Returns:
        ``[]`` when every entry renames some label; else one object with ``kind``,
        ``entries`` (the unused keys, sorted) and ``message`` (one line).
    """
    seen = {clean_label(cell, casefold=casefold) for cell in distinct_cells(cells)
            if not is_missing(cell)}
    unused = sorted(key for key in mapping if key not in seen)
    if not unused:
        return []
    named = ", ".join(repr(key) for key in unused[:SHOWN])
    more = f" and {len(unused) - SHOWN} more" if len(unused) > SHOWN else ""
    hint = "" if casefold else " (keys match labels case-sensitively: --label-case fold " \
        "ignores case)"
    return [{"kind": UNUSED, "entries": unused,
             "message": f"--label-map {name}: {len(unused)} of {len(mapping)} entries match "
                        f"no label of the table, so rename nothing: {named}{more}{hint}"}]


def _parse_json(text: str, name: str) -> list[tuple[object, object]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{name}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise DataError(f"{name}: expected a JSON object of label -> label")
    return list(data.items())


def _parse_csv(text: str, name: str) -> list[tuple[object, object]]:
    try:
        lines = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    except csv.Error as exc:
        raise DataError(f"{name}: not valid CSV: {exc}") from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if len(lines) < 2:
        raise DataError(f"{name}: expected a header line and at least one mapping line")
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != 2:
            raise DataError(f"{name}: line {number} has {len(line)} columns; expected 2")
    return [(line[0], line[1]) for line in lines[1:]]


def label_cleaner(
    *, casefold: bool = False, mapping: Mapping[str, str] | None = None
) -> Callable[[object], str | None]:
    """:func:`clean_label` with these settings, each distinct raw value cleaned once (a
    table's labels repeat); values are told apart by type too (``1``, ``1.0``, ``True``)."""
    done: dict[tuple[type, object], str | None] = {}

    def clean(value: object) -> str | None:
        key = (type(value), value)
        try:
            return done[key]
        except KeyError:
            label = done[key] = clean_label(value, casefold=casefold, mapping=mapping)
            return label
        except TypeError:  # an unhashable cell
            return clean_label(value, casefold=casefold, mapping=mapping)

    return clean
