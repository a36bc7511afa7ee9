"""Which column plays which role: id, label, split, and the sources of every modality
(:mod:`mmcli.modalities`): from flags, else by name, else by content."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mmcli import modalities
from mmcli.data.clean import cell_text
from mmcli.errors import DataError

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.io.tables import Table

_CANDIDATES = {
    "id": ("id", "uid", "key", "example_id", "item_id", "product_id"),
    "label": ("label", "labels", "class", "target", "category", "y"),
    "split": ("split", "fold", "subset"),
}


@dataclass(frozen=True)
class Roles:
    """Column names for id, label and split (``None`` when the table has none), and the
    columns each modality is made of, in model order (:func:`mmcli.modalities.ordered`).

    ``notes`` are settings a kind reports beside its columns (``image_dir``, ``text_inputs``).
    ``settings`` are the PrepConfig fields detection settled (:meth:`Modality.settle`): apply
    them with :meth:`settled` before reading the rows.
    """

    id: str | None
    label: str | None
    split: str | None
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def settled(self, config: PrepConfig) -> PrepConfig:
        """``config`` with what detection settled about the columns (e.g. which tabular
        columns are numeric): the config to read, save and train with."""
        import dataclasses

        return dataclasses.replace(config, **self.settings) if self.settings else config

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.sources)

    def column(self, name: str) -> str:
        """How reports name a modality's column (several joined columns as ``a+b``)."""
        return "+".join(self.sources[name])

    def to_dict(self) -> dict[str, Any]:
        """The roles as saved in schema.json and bundle.json: ``id``, ``label``, ``split``, and
        per kind the column of its first modality (``image``, ``text``: always present,
        None when absent), ``<kind>_columns`` when a kind has several columns, and notes."""
        data: dict[str, Any] = {"id": self.id}
        for kind in modalities.kinds():
            names = modalities.of_kind(self.sources, kind)
            if names or kind in modalities.RECORD_MODALITIES:
                data[kind] = self.column(names[0]) if names else None
        data["label"], data["split"] = self.label, self.split
        for kind in modalities.kinds():
            columns = [c for m in modalities.of_kind(self.sources, kind) for c in self.sources[m]]
            if len(columns) > 1:
                data[f"{kind}_columns"] = columns
        data.update(self.notes)
        return data


def detect_roles(table: Table, config: PrepConfig, *, name: str | None = None) -> Roles:
    """Assign roles: a flag names its column, else a known column name, else content (the
    kinds look at lists of cells: :meth:`~mmcli.modalities.base.Modality.match_score` ...).
    ``name``: the table's name in messages (default ``table.name``).

    Raises:
        DataError: a named column is missing, a source needs an id column the table lacks,
            or no modality column is found.
    """
    name = table.name if name is None else name
    columns = list(table.columns)
    cells = dict(zip(table.columns, table.cells, strict=True))
    ignored = set(config.ignore_col or ())  # a name the table lacks ignores nothing
    lower = {str(c).lower(): c for c in columns if c not in ignored}
    kinds = modalities.REGISTRY
    named = {kind: impl.named_columns(config) for kind, impl in kinds.items()}
    given = {"id": config.id_col, "label": config.label_col, "split": config.split_col}
    chosen: dict[str, str | None] = {}
    for role, column in given.items():
        if column is not None and column not in cells:
            raise DataError(
                f"{name}: no column {column!r} for the {role} (columns: {', '.join(columns)})"
            )
        chosen[role] = column or next((lower[c] for c in _CANDIDATES[role] if c in lower), None)
    for kind, impl in kinds.items():
        virtual = impl.virtual_source(config)
        for column in named[kind]:
            if column != virtual and column not in cells:
                raise DataError(
                    f"{name}: no column {column!r} for the {kind} (columns: {', '.join(columns)})"
                )
        if virtual is not None and chosen["id"] is None:
            raise DataError(f"{name}: --{kind}-dir needs an id column (name it with --id-col)")
    taken = {c for c in chosen.values() if c} | {c for cols in named.values() for c in cols}
    taken |= ignored
    found: dict[str, tuple[str, ...]] = {}
    for kind, impl in kinds.items():  # by flag, else by name
        if named[kind]:
            found[kind] = named[kind]
            continue
        column = next((lower[c] for c in impl.column_names
                       if c in lower and lower[c] not in taken), None)
        if column is not None:
            found[kind] = (column,)
            taken.add(column)
    for kind, impl in kinds.items():  # else by content
        if kind not in found:
            free = [c for c in columns if c not in taken]
            claimed = impl.detect_columns(cells, free, config)
            if claimed is None:
                column = _by_content(cells, impl, taken)
                claimed = (column,) if column is not None else ()
            found[kind] = tuple(claimed)
            taken |= set(found[kind])
    settings: dict[str, Any] = {}
    for kind, impl in kinds.items():
        settings.update(impl.settle(found[kind], cells, config))
    if settings:
        import dataclasses

        config = dataclasses.replace(config, **settings)
    sources: dict[str, tuple[str, ...]] = {}
    notes: dict[str, Any] = {}
    for kind, impl in kinds.items():
        for i, cols in enumerate(impl.sources(found[kind], config) if found[kind] else []):
            sources[modalities.name(kind, i)] = cols
        if found[kind]:
            notes.update(impl.role_notes(config))
    unused = _unused(cells, taken, kinds, detected=any(not named[k] for k in kinds))
    if unused:
        notes["unused"] = unused
    if not sources:
        raise DataError(
            f"{name}: found no {' or '.join(kinds)} column (columns: {', '.join(columns)}); "
            f"name them with {' / '.join(_flags(kinds))}"
        )
    return Roles(chosen["id"], chosen["label"], chosen["split"], sources, notes, settings)


def _unused(cells: Mapping[str, list], taken: set[str], kinds, *,
            detected: bool) -> dict[str, str]:
    """The columns no role took (``--ignore-col`` ones aside) and why: reported in
    ``roles.unused`` so no column is left out silently. Only when some kind was detected."""
    if not detected:
        return {}
    unused = {}
    for column, values in cells.items():
        if column in taken:
            continue
        reasons = (impl.unused_reason(values, column) for impl in kinds.values())
        unused[str(column)] = next((r for r in reasons if r), "no role matched it")
    return unused


def _flags(kinds) -> list[str]:
    return [f"--{impl.config_field.replace('_', '-')}" for impl in kinds.values()
            if impl.config_field]


def pin_roles(
    saved: Mapping[str, Any], config: PrepConfig, columns: Sequence[str]
) -> tuple[PrepConfig, dict[str, tuple[str, ...]]]:
    """``config`` with the column roles a bundle was trained with (``saved``: its ``roles``)
    wherever no flag names a column, so evaluate and predict read the columns training read
    rather than guessing again; and the trained inputs' columns that ``columns`` lacks.

    Id, label and split are taken from ``saved`` only when the table has that column (else
    found as usual). A modality kind named by no flag gets its saved columns, present or not:
    a caller adds each missing one as a column of missing cells (``absent``), so the input
    keeps its name (``image_2`` stays ``image_2``) and is masked in every row.

    Returns:
        ``(config, absent)``: absent maps a saved input's kind to its columns not in the table.
    """
    from mmcli.config import replace

    have = set(columns)
    changes: dict[str, Any] = {}
    for role in ("id", "label", "split"):
        column = saved.get(role)
        if getattr(config, f"{role}_col") is None and isinstance(column, str) and column in have:
            changes[f"{role}_col"] = column
    absent: dict[str, tuple[str, ...]] = {}
    for kind, impl in modalities.REGISTRY.items():
        named = impl.named_columns(config)
        wanted = named or _saved_columns(saved, kind)
        if not named and wanted and impl.config_field is not None:
            changes[impl.config_field] = wanted if len(wanted) > 1 else wanted[0]
        virtual = impl.virtual_source(config)
        missing = tuple(c for c in wanted if c not in have and c != virtual)
        if missing:
            absent[kind] = missing
    return replace(config, **changes), absent


def _saved_columns(saved: Mapping[str, Any], kind: str) -> tuple[str, ...]:
    several = saved.get(f"{kind}_columns")
    if isinstance(several, list) and several:
        return tuple(str(c) for c in several)
    one = saved.get(kind)
    return (one,) if isinstance(one, str) and saved.get(f"{kind}_dir") is None else ()


def _by_content(cells: Mapping[str, list], impl, taken: set[str]) -> str | None:
    """The column whose values the kind scores highest (the first on a tie), or None. A kind
    scores a column's first 200 values that are not null (None, NaN), as strings."""
    best, best_score = None, None
    for column, values in cells.items():
        if column in taken:
            continue
        score = impl.match_score(_head_strings(values, 200))
        if score is not None and (best_score is None or score > best_score):
            best, best_score = column, score
    return best


def _head_strings(values: Sequence[Any], count: int) -> list[str]:
    """The first ``count`` values that are not null, as text (:func:`cell_text`; a blank
    string counts), as pandas' ``dropna().astype(str).head(count)`` gave them."""
    texts = (text for text in map(cell_text, values) if text is not None)
    return list(itertools.islice(texts, count))


def ignored_absent(table: Table, config: PrepConfig) -> list[dict[str, Any]]:
    """A warning per ``--ignore-col`` the table lacks (a misspelt name ignores nothing, and
    the column meant may be used): ``kind`` ``ignore_col_absent``, ``column``, ``message``."""
    return [{"kind": "ignore_col_absent", "column": column,
             "message": (f"--ignore-col {column!r}: the table has no such column, so it ignores "
                         f"nothing (columns: {', '.join(map(str, table.columns))})")}
            for column in config.ignore_col or () if column not in table]
