"""Label cells written differently that cleaning makes one class: said, never merged silently.

:func:`mmcli.data.clean.clean_label` applies Unicode NFKC, removes control characters and
collapses whitespace, so ``" cat "`` and ``"cat"`` (or a full-width ``"Ｄog"`` and ``"Dog"``)
are one class. That is usually what a user means, but it changes the classes the table
spells, so check, preprocess and train say it: a ``labels_merged`` warning.
"""

from __future__ import annotations

from collections.abc import Iterable

MERGED = "labels_merged"  # the "kind" of the warning in JSON
SHOWN = 3  # classes named in the message (all are in ``classes``)


def distinct_cells(cells: Iterable[object]) -> list[object]:
    """The distinct cells of a column, in first-seen order; an unhashable cell (a JSON list
    or object) is kept each time it occurs (``set(cells)`` would raise ``TypeError``)."""
    seen: set = set()
    found = []
    for cell in cells:
        try:
            if cell in seen:
                continue
            seen.add(cell)
        except TypeError:
            pass
        found.append(cell)
    return found


def merged_labels(cells: Iterable[object]) -> list[dict]:
    """The ``labels_merged`` warning of a label column, or nothing.

    Args:
        cells: the label column's cells as read (verbatim; None for a missing cell).

    Returns:
        ``[]`` when each class has one spelling; else one object with ``kind``
        (``labels_merged``), ``classes`` (each merged class -> its spellings as written,
        sorted) and ``message`` (one line naming the first few, with ``repr`` quoting).
        ``--label-case fold`` and ``--label-map`` merge on purpose and are not counted.
    """
    from mmcli.data.clean import clean_label, is_missing, to_str

    spellings: dict[str, set[str]] = {}
    for cell in distinct_cells(cells):
        if is_missing(cell):
            continue
        label = clean_label(cell)
        if label is not None:
            spellings.setdefault(label, set()).add(to_str(cell))
    classes = {label: sorted(found) for label, found in sorted(spellings.items())
               if len(found) > 1}
    if not classes:
        return []
    named = "; ".join(f"{label!r} from " + ", ".join(repr(s) for s in found)
                      for label, found in list(classes.items())[:SHOWN])
    more = f"; and {len(classes) - SHOWN} more" if len(classes) > SHOWN else ""
    return [{"kind": MERGED, "classes": classes,
             "message": (f"label cells written differently are one class after cleaning "
                         f"(Unicode NFKC, whitespace): {named}{more}")}]
