"""Several prepared folders read as one dataset (``train``/``evaluate`` DATA repeated or a glob).

The folders must agree on everything that shapes a row (the ``prep`` settings, the
modalities, the column roles), else a :class:`~mmcli.errors.UsageError` names the first
setting that differs. Parts of one table (``preprocess --shard I/N``) must all be there,
each once. Examples are put back in table order (by the table's first folder, then the row
number), so the N parts of a table give the rows, labels, split and metrics of the whole
table prepared at once. Labels are the sorted union over the parts (a label seen in only one
part is a class); counts, issues and rejects are summed.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmcli import modalities
from mmcli.data.coverage import LOST
from mmcli.data.dataset import Dataset, open_dataset
from mmcli.data.schema import Schema
from mmcli.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

_GLOB = set("*?[")


def expand_data(data: str | Path | Sequence[str | Path]) -> list[str]:
    """The DATA arguments as a list: each pattern (``*``, ``?``, ``[``) that is not itself an
    existing path replaced by its sorted matches.

    Raises:
        UsageError: no DATA, or a pattern that matches nothing.
    """
    items = [data] if isinstance(data, (str, Path)) else list(data)
    if not items:
        raise UsageError("no DATA given")
    out: list[str] = []
    for item in map(str, items):
        if item != "-" and _GLOB & set(item) and not Path(item).exists():
            matches = sorted(glob.glob(item))
            if not matches:
                raise UsageError(f"no file or folder matches {item!r}")
            out += matches
        else:
            out.append(item)
    return out


class PartsDataset(Dataset):
    """Prepared folders read as one :class:`Dataset`: example i is row ``local[i]`` of part
    ``owner[i]``; arrays are still memory-mapped from each part."""

    def __init__(self, parts: list[Dataset]):
        import pandas as pd

        frames = [p.examples.assign(_part=k, _local=np.arange(len(p.examples)))
                  for k, p in enumerate(parts)]
        groups = {}
        for p in parts:  # one table's parts sort together, in table order
            groups.setdefault(p.schema.sha256, len(groups))
        order = pd.concat(frames, ignore_index=True)
        order["_group"] = [groups[parts[k].schema.sha256] for k in order["_part"]]
        order = order.sort_values(["_group", "row"], kind="stable", ignore_index=True)
        self.owner = order.pop("_part").to_numpy()
        self.local = order.pop("_local").to_numpy()
        order.pop("_group")
        self.parts = parts
        schema = merged_schema([p.schema for p in parts], order)
        super().__init__(parts[0].folder, schema, order, {})

    def all_shards(self) -> list[np.ndarray]:
        return [shard for part in self.parts for shard in part.all_shards()]

    def reject_lines(self) -> list[list[str]]:
        """Every part's rejects.csv lines (without the header) in table order: one table's
        parts together (in the order the tables came), its lines about no row first (a
        ``--join`` table's ``only_in_join``, written in part 1), then by row number; a row's
        own lines in the order they were written. The N parts of a table give the lines of
        the whole table prepared at once."""
        groups: dict[str, int] = {}
        keyed = []
        for part in self.parts:
            group = groups.setdefault(part.schema.sha256, len(groups))
            for line in part.reject_lines():
                row = int(line[0]) if line[0].isdigit() else 0
                keyed.append(((group, row), line))
        keyed.sort(key=lambda item: item[0])  # stable: a row's lines keep their order
        return [line for _, line in keyed]

    def values(self, name: str, indices: Sequence[int], prep=None):
        indices = np.asarray(indices, dtype=np.int64)
        if name not in self.schema.modalities or not self.parts[0].shards.get(name):
            return super().values(name, indices, prep)
        owner, local = self.owner[indices], self.local[indices]
        first = self.parts[0].values(name, local[:1], prep)
        out = np.empty((len(indices), *first.shape[1:]), first.dtype)
        for k, part in enumerate(self.parts):
            chosen = np.flatnonzero(owner == k)
            if len(chosen):
                out[chosen] = part.values(name, local[chosen], prep)
        return out


def open_parts(folders: Sequence[str | Path]) -> Dataset:
    """Open several prepared folders as one dataset (one folder: that folder).

    Raises:
        DataError: a folder is not a prepared dataset.
        UsageError: the folders differ in a setting, or a table's parts are not all there
            exactly once.
    """
    parts = [open_dataset(Path(f)) for f in folders]
    if len(parts) == 1:
        return parts[0]
    for part in parts[1:]:
        _check_same(parts[0], part)
    _check_complete(parts)
    return PartsDataset(parts)


def _check_same(first: Dataset, other: Dataset) -> None:
    a, b = dataclasses.asdict(first.schema.prep), dataclasses.asdict(other.schema.prep)
    pairs = [(f"prep.{k}", a[k], b.get(k)) for k in a if a[k] != b.get(k)]
    pairs += [(name, getattr(first.schema, name), getattr(other.schema, name))
              for name in ("modalities", "roles") if getattr(first.schema, name)
              != getattr(other.schema, name)]
    if pairs:
        name, mine, theirs = pairs[0]
        raise UsageError(f"prepared folders {first.folder} and {other.folder} cannot be one "
                         f"dataset: setting {name} differs ({mine!r} vs {theirs!r}); prepare "
                         "them with the same settings")


def _check_complete(parts: list[Dataset]) -> None:
    by_table: dict[str, list[Dataset]] = {}
    for part in parts:
        by_table.setdefault(part.schema.sha256, []).append(part)
    for group in by_table.values():
        table = group[0].schema.table
        info = [p.schema.part for p in group]
        if any(i is None for i in info):
            if len(group) > 1:
                folders = ", ".join(str(p.folder) for p in group)
                raise UsageError(f"{table} is given more than once ({folders})")
            continue
        counts = {i["of"] for i in info}
        if len(counts) > 1:
            raise UsageError(f"parts of {table} were cut in different numbers of parts: "
                             f"{sorted(counts)}; use the parts of one --shard I/N run")
        (n,) = counts
        seen = Counter(i["index"] for i in info)
        twice = sorted(i for i, c in seen.items() if c > 1)
        missing = sorted(set(range(1, n + 1)) - set(seen))
        if twice or missing:
            what = (f"part(s) {', '.join(f'{i}/{n}' for i in twice)} given twice" if twice
                    else f"part(s) {', '.join(f'{i}/{n}' for i in missing)} missing")
            raise UsageError(f"{table}: {what}; give every part of the table exactly once")


def merged_schema(schemas: Sequence[Schema], examples: pd.DataFrame) -> Schema:
    """One schema for the parts: labels the sorted union; counts, issues, splits summed; a
    ``modality_lost`` warning recomputed from the summed counts (the whole's share is a
    weighted mean of the parts', so a part warned whenever the whole must); ``examples``:
    every part's kept rows, whose presence flags give the exact counts."""
    first = schemas[0]
    tables = list(dict.fromkeys(s.table for s in schemas))
    shas = list(dict.fromkeys(s.sha256 for s in schemas))
    sha = shas[0] if len(shas) == 1 else hashlib.sha256(" ".join(shas).encode()).hexdigest()

    def summed(name: str) -> dict[str, int]:
        total: Counter = Counter()
        for s in schemas:
            total.update(getattr(s, name))
        return dict(sorted(total.items()))

    class_counts = summed("class_counts")
    kept = sum(s.kept for s in schemas)
    return dataclasses.replace(
        first, table=", ".join(tables), sha256=sha, labels=tuple(class_counts),
        rows=sum(s.rows for s in schemas), kept=kept, masked=sum(s.masked for s in schemas),
        rejected=sum(s.rejected for s in schemas), issues=summed("issues"),
        class_counts=class_counts, split_counts=summed("split_counts"),
        warnings=tuple(_merged_warnings(schemas, examples)), join=first.join, part=None,
    )


def _merged_warnings(schemas: Sequence[Schema], examples: pd.DataFrame) -> list[Any]:
    lines = list(dict.fromkeys(w for s in schemas for w in s.warnings if isinstance(w, str)))
    lost: dict[str, list[dict]] = {}
    for s in schemas:
        for w in s.warnings:
            if isinstance(w, dict) and w.get("kind") == LOST:
                lost.setdefault(w["modality"], []).append(w)
    kept, limit = len(examples), schemas[0].prep.max_missing_fraction
    out: list[Any] = []
    for name, found in lost.items():
        flag = modalities.present_column(name)
        absent = kept - int(examples[flag].sum()) if flag in examples else kept
        if kept == 0 or absent == 0 or absent / kept <= limit:
            continue
        top = max(found, key=lambda w: w["rows"])  # its reason and example stand for all
        every, share = absent == kept, absent / kept
        out.append({**top, "rows": absent, "of": kept, "share": round(share, 6),
                    "every_row": every, "message": (
                        f"{name} ({top['column']}) is missing or unusable in "
                        f"{'every one' if every else absent} of {kept} kept rows "
                        f"({share:.0%}), mostly {top['reason']}"
                        + (f"; e.g. {top['example']}" if top["example"] else ""))})
    return lines + out
