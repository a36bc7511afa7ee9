"""The prepared dataset folder: written once by preprocess, streamed by train and evaluate.

Layout (names in :mod:`mmcli.layout`): ``schema.json``; ``examples.parquet``
(one line per kept row: row, id, split, label, text, image_present,
text_present, and for further modalities (:mod:`mmcli.modality`) ``text_2`` ...
and ``<m>_present``); ``images/shard-NNNNN.npy`` (uint8 arrays of ``shard_rows``
images each, row i of the examples at shard i // shard_rows, offset i % shard_rows,
zeros where the image is masked; ``images_2/`` ... for further image columns),
memory-mapped when read; ``rejects.csv``.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmcli import layout, modality
from mmcli.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from mmcli.data.rows import Row


@dataclass
class WriteSummary:
    """What was written: counts by verdict and reason."""

    rows: int = 0
    kept: int = 0
    masked: int = 0
    rejected: int = 0
    shard_rows: int = 0
    reasons: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)


def tally(summary: WriteSummary, row: Row) -> None:
    """Count one row in ``summary``: its verdict, its issues by ``action:reason``, its label."""
    summary.rows += 1
    for issue in row.issues:
        summary.reasons[f"{issue.action}:{issue.reason}"] += 1
    if row.rejected:
        summary.rejected += 1
        return
    summary.kept += 1
    summary.masked += bool(row.issues)
    summary.labels[row.label] += 1
    summary.splits[row.split] += 1


def reject_lines(row: Row) -> list[list[object]]:
    """The rejects.csv lines of one row (none when it has no issue)."""
    return [[row.row, row.id, i.column, i.reason, i.action, i.message] for i in row.issues]


def write_rows(
    rows: Iterable[Row],
    folder: Path,
    image_size: int,
    *,
    modalities: Sequence[str] = (modality.IMAGE, modality.TEXT),
    extra_rejects: Iterable[Sequence[object]] = (),
) -> WriteSummary:
    """Stream rows into ``folder``: image shards, examples, rejects. Memory stays bounded.

    ``modalities`` are the table's (:attr:`mmcli.data.roles.Roles.modalities`): one shard
    folder per image modality, a text column per text modality, a presence flag for each.
    ``extra_rejects`` are rejects.csv lines about no row of the table (e.g. ids found
    only in a ``--join`` table); they are written first and counted in ``reasons``.
    Examples are written to Parquet in batches, so no list grows with the table.
    """
    import pyarrow.parquet as pq

    images = modality.of_kind(modalities, modality.IMAGE) or [modality.IMAGE]
    for name in images:
        (folder / modality.images_dir(name)).mkdir()
    summary = WriteSummary(shard_rows=shard_rows(image_size))
    schema = _examples_schema(modalities)
    examples = pq.ParquetWriter(folder / layout.EXAMPLES_FILE, schema)
    try:
        _write(rows, folder, summary, extra_rejects, image_size, examples, schema, images)
    finally:
        examples.close()
    return summary


def _write(rows, folder, summary, extra_rejects, image_size, examples, schema, images) -> None:
    import pyarrow as pa

    records: list[dict[str, Any]] = []
    shards = {
        name: np.zeros((summary.shard_rows, image_size, image_size, 3), np.uint8)
        for name in images
    }
    filled, shard_index = 0, 0

    def save(count: int) -> None:
        for name, shard in shards.items():
            np.save(
                folder / modality.images_dir(name) / layout.SHARD_PATTERN.format(shard_index),
                shard[:count],
            )

    with open(folder / layout.REJECTS_FILE, "w", newline="", encoding="utf-8") as handle:
        rejects = csv.writer(handle)
        rejects.writerow(layout.REJECT_COLUMNS)
        for line in extra_rejects:
            rejects.writerow(line)
            summary.reasons[f"{line[4]}:{line[3]}"] += 1
        for row in rows:
            rejects.writerows(reject_lines(row))
            tally(summary, row)
            if row.rejected:
                continue
            for name, shard in shards.items():
                image = row.images.get(name)
                shard[filled] = image if image is not None else 0
            filled += 1
            records.append(_record(row, schema.names))
            if len(records) == _EXAMPLES_BATCH:
                examples.write_table(pa.Table.from_pylist(records, schema))
                records.clear()
            if filled == summary.shard_rows:
                save(filled)
                shard_index, filled = shard_index + 1, 0
    if filled:
        save(filled)
    examples.write_table(pa.Table.from_pylist(records, schema))


_EXAMPLES_BATCH = 8192
_BASE_COLUMNS = ("row", "id", "split", "label")


def _record(row: Row, names: Sequence[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"row": row.row, "id": row.id, "split": row.split,
                              "label": row.label}
    for name in names[len(_BASE_COLUMNS):]:
        if name.endswith("_present"):
            record[name] = row.present(name[: -len("_present")])
        else:
            record[name] = row.texts.get(name, "")
    return record


def _examples_schema(modalities: Sequence[str]):
    """The examples' columns: row, id, split, label, a text column per text modality and a
    presence flag per modality; ``text``, ``image_present`` and ``text_present`` always."""
    import pyarrow as pa

    texts = modality.of_kind(modalities, modality.TEXT)
    texts = texts if modality.TEXT in texts else [modality.TEXT, *texts]
    present = [modality.present_column(m) for m in (modality.IMAGE, modality.TEXT)]
    present += [modality.present_column(m) for m in modalities
                if modality.present_column(m) not in present]
    return pa.schema([
        ("row", pa.int64()), ("id", pa.string()), ("split", pa.string()), ("label", pa.string()),
        *((name, pa.string()) for name in texts),
        *((name, pa.bool_()) for name in present),
    ])


@dataclass
class Dataset:
    """A prepared dataset, opened for reading. Images are memory-mapped, not loaded."""

    folder: Path
    schema: dict[str, Any]
    examples: pd.DataFrame
    image_shards: dict[str, list[np.ndarray]]  # per image modality

    @property
    def labels(self) -> list[str]:
        return list(self.schema["labels"])

    @property
    def modalities(self) -> list[str]:
        return list(self.schema["modalities"])

    @property
    def shards(self) -> list[np.ndarray]:
        """Every image shard, all image modalities (for fingerprints)."""
        return [shard for shards in self.image_shards.values() for shard in shards]

    def images(self, indices: np.ndarray, name: str = modality.IMAGE) -> np.ndarray:
        """Return the named image modality's images of the given example positions as one
        uint8 array."""
        size = self.schema["prep"]["image_size"]
        per_shard = self.schema["shard_rows"]
        shards = self.image_shards[name]
        out = np.empty((len(indices), size, size, 3), np.uint8)
        for j, i in enumerate(indices):
            out[j] = shards[i // per_shard][i % per_shard]
        return out


def shard_rows(image_size: int) -> int:
    """Rows per image shard: about SHARD_BYTES each, so memory does not grow with image size."""
    return max(16, layout.SHARD_BYTES // (image_size * image_size * 3))


def is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / layout.SCHEMA_FILE).is_file()


def open_dataset(folder: Path) -> Dataset:
    """Open a prepared dataset folder.

    Raises:
        DataError: not a prepared dataset, of an unknown format, or incomplete.
    """
    import pandas as pd

    folder = Path(folder)
    if not is_dataset(folder):
        raise DataError(f"{folder} is not a prepared dataset (no {layout.SCHEMA_FILE})")
    try:
        schema = json.loads((folder / layout.SCHEMA_FILE).read_text(encoding="utf-8"))
        version = schema.get("format_version")
        if version != layout.DATASET_FORMAT:
            raise DataError(
                f"{folder}: prepared dataset format {version} is not supported "
                f"(this mmcli reads format {layout.DATASET_FORMAT}); run mmcli preprocess again"
            )
        examples = pd.read_parquet(folder / layout.EXAMPLES_FILE)
        names = modality.of_kind(schema.get("modalities", ()), modality.IMAGE) or [modality.IMAGE]
        image_shards = {
            name: [
                np.load(p, mmap_mode="r")
                for p in sorted((folder / modality.images_dir(name)).glob("shard-*.npy"))
            ]
            for name in names
        }
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{folder}: damaged prepared dataset: {exc}") from exc
    for shards in image_shards.values():
        if sum(len(s) for s in shards) != len(examples):
            raise DataError(f"{folder}: image shards do not match {layout.EXAMPLES_FILE}")
    return Dataset(folder, schema, examples, image_shards)
