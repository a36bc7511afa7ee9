"""The prepared dataset folder: written once by preprocess, streamed by train and evaluate.

Layout (names in :mod:`mmcli.layout`): ``schema.json`` (:class:`~mmcli.data.schema.Schema`);
``examples.parquet``, one line per kept row: ``row``, ``id``, ``split``, ``label``, the
columns each modality stores there (a text modality: its cleaned text under its name) and a
``<m>_present`` flag per modality; one folder of ``.npy`` shards per modality stored as arrays
(an image modality: ``images/``, ``images_2/`` ...; row i of the examples at shard
i // rows_per_shard, offset i % rows_per_shard, zeros where absent), memory-mapped when read;
``rejects.csv``. What each modality stores is its kind's business (:mod:`mmcli.modalities`).
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcli import layout, modalities
from mmcli.data.coverage import Coverage
from mmcli.data.decoding import started
from mmcli.data.schema import Schema
from mmcli.data.shards import ShardWriter, Syncer
from mmcli.data.shards import rows_per_shard as rows_per_shard  # where it lived before
from mmcli.errors import DataError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mmcli.config import PrepConfig
    from mmcli.data.rows import Row

_EXAMPLES_BATCH = 8192
_BASE_COLUMNS = (("row", "int64"), ("id", "string"), ("split", "string"), ("label", "string"))


@dataclass
class WriteSummary:
    """What was written: counts by verdict and reason."""

    rows: int = 0
    kept: int = 0
    masked: int = 0
    rejected: int = 0
    reasons: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)
    coverage: Coverage = field(default_factory=Coverage)

    def tally(self, row: Row) -> None:
        """Count one row: its verdict, its issues by ``action:reason``, its label and split,
        and which modalities it has (:class:`~mmcli.data.coverage.Coverage`)."""
        self.rows += 1
        self.coverage.tally(row)
        issues = row.issues
        for issue in issues:
            self.reasons[f"{issue.action}:{issue.reason}"] += 1
        if row.rejected:
            self.rejected += 1
            return
        self.kept += 1
        if issues:
            self.masked += any(issue.action == "masked" for issue in issues)
        self.labels[row.label] += 1
        self.splits[row.split] += 1


def reject_lines(row: Row) -> list[list[object]]:
    """The rejects.csv lines of one row (none when it has no issue)."""
    return [[row.row, row.id, i.column, i.reason, i.action, i.message] for i in row.issues]


def write_rows(
    rows: Iterable[Row],
    folder: Path,
    config: PrepConfig,
    *,
    names: Sequence[str],
    extra_rejects: Iterable[Sequence[object]] = (),
) -> WriteSummary:
    """Stream rows into ``folder``: shards, examples, rejects. Memory stays bounded.

    ``names`` are the table's modalities (:attr:`mmcli.data.roles.Roles.modalities`).
    ``extra_rejects`` are rejects.csv lines about no row of the table (e.g. ids found only in
    a ``--join`` table); they are written first and counted in ``reasons``. Examples are
    written to Parquet in batches and shards as they fill, so no list grows with the table.
    """
    rows = started(rows, imports=("numpy", "mmcli.io.parquet_writer"))  # the pool first
    import pyarrow as pa

    from mmcli.io.arrow_table import records_table  # from_pylist would import pandas
    from mmcli.io.parquet_writer import ParquetFile  # pyarrow.parquet's writer, lighter

    _ARROW = {"string": pa.string, "int64": pa.int64, "float64": pa.float64, "bool": pa.bool_}
    shards = {}
    syncer = Syncer()
    for name in names:
        spec = modalities.modality_of(name).shard_spec(name, config)
        if spec is not None:
            shards[name] = ShardWriter(folder / spec.folder, spec, syncer)
    schema = pa.schema([(c, _ARROW[t]()) for c, t in _examples_columns(names, config)])
    summary = WriteSummary()
    records: list[dict[str, Any]] = []
    stored = [(name, _to_example(name, config), modalities.present_column(name))
              for name in names]
    writers = list(shards.items())
    try:
        with ParquetFile(folder / layout.EXAMPLES_FILE, schema) as examples, \
                open(folder / layout.REJECTS_FILE, "w", newline="", encoding="utf-8") as handle:
            rejects = csv.writer(handle)
            rejects.writerow(layout.REJECT_COLUMNS)
            for line in extra_rejects:
                rejects.writerow(line)
                summary.reasons[f"{line[4]}:{line[3]}"] += 1
            for row in rows:
                if row.issues:
                    rejects.writerows(reject_lines(row))
                summary.tally(row)
                if row.rejected:
                    continue
                values = row.values
                for name, writer in writers:
                    writer.add(values.get(name))
                records.append(_record(row, stored))
                if len(records) == _EXAMPLES_BATCH:
                    examples.write_table(records_table(records, schema))
                    records.clear()
            for writer in shards.values():
                writer.close()
            examples.write_table(records_table(records, schema))
    except BaseException:
        close = getattr(rows, "close", None)
        if close is not None:  # a generator's decoding pool ends now, its shared memory freed
            close()
        for writer in shards.values():
            writer.discard()
        syncer.wait(raising=False)
        raise
    syncer.wait()
    return summary


def _examples_columns(names: Sequence[str], config: PrepConfig) -> list[tuple[str, str]]:
    columns = list(_BASE_COLUMNS)
    for name in names:
        columns += modalities.modality_of(name).example_columns(name, config)
    return columns + [(modalities.present_column(name), "bool") for name in names]


def _to_example(name: str, config: PrepConfig) -> Any:
    """The modality's ``to_example``, or None when it stores no example column (its cells
    would be dropped: examples.parquet has the schema's columns only)."""
    kind = modalities.modality_of(name)
    return kind.to_example if kind.example_columns(name, config) else None


def _record(row: Row, stored: Sequence[tuple[str, Any, str]]) -> dict[str, Any]:
    """One examples.parquet line; ``stored``: each modality's name, its kind's ``to_example``
    (None: it stores no column) and its presence column."""
    record: dict[str, Any] = {"row": row.row, "id": row.id, "split": row.split,
                              "label": row.label}
    values = row.values
    for name, to_example, present in stored:
        value = values.get(name)
        if to_example is not None:
            record.update(to_example(name, value))
        record[present] = value is not None
    return record


@dataclass
class Dataset:
    """A prepared dataset, opened for reading. Arrays are memory-mapped, not loaded."""

    folder: Path
    schema: Schema
    examples: pd.DataFrame
    shards: dict[str, list[np.ndarray]]  # per modality stored as arrays

    @property
    def labels(self) -> list[str]:
        return list(self.schema.labels)

    @property
    def modalities(self) -> list[str]:
        return list(self.schema.modalities)

    def all_shards(self) -> list[np.ndarray]:
        """Every shard of every modality (for fingerprints)."""
        return [shard for shards in self.shards.values() for shard in shards]

    def reject_lines(self) -> list[list[str]]:
        """The lines of the data's rejects.csv (without the header), as strings; a folder
        without one (an older format) has none."""
        path = self.folder / layout.REJECTS_FILE
        if not path.is_file():
            return []
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))[1:]

    def values(self, name: str, indices: Sequence[int], prep: PrepConfig | None = None):
        """One modality's model input for the given example positions, as one batch array.

        A modality the dataset does not have is absent in every row: its kind's absent
        value, shaped by ``prep`` (default: the dataset's own settings).
        """
        import numpy as np  # not at import: preprocess starts its decoding pool first

        kind = modalities.modality_of(name)
        prep = prep or self.schema.prep
        indices = np.asarray(indices, dtype=np.int64)
        if name not in self.schema.modalities:
            return kind.batch([None] * len(indices), prep)
        if name not in self.shards:
            return kind.batch(kind.from_examples(name, self.examples.iloc[indices], prep), prep)
        spec = kind.shard_spec(name, self.schema.prep)
        per_shard = rows_per_shard(spec)
        shards = self.shards[name]
        out = np.empty((len(indices), *spec.shape), spec.dtype)
        for j, i in enumerate(indices):
            out[j] = shards[i // per_shard][i % per_shard]
        return out

    def present(self, name: str, indices: Sequence[int]) -> np.ndarray:
        """0/1 (float32) flags: which of the rows have the modality."""
        import numpy as np

        flag = modalities.present_column(name)
        if flag not in self.examples.columns:
            return np.zeros(len(indices), np.float32)
        return self.examples[flag].to_numpy()[np.asarray(indices, np.int64)].astype(np.float32)


def is_dataset(path: Path) -> bool:
    return path.is_dir() and (path / layout.SCHEMA_FILE).is_file()


def open_dataset(folder: Path) -> Dataset:
    """Open a prepared dataset folder.

    Raises:
        DataError: not a prepared dataset, of an unknown format, or incomplete.
    """
    import numpy as np
    import pandas as pd

    folder = Path(folder)
    if not is_dataset(folder):
        raise DataError(f"{folder} is not a prepared dataset (no {layout.SCHEMA_FILE})")
    try:
        raw = json.loads((folder / layout.SCHEMA_FILE).read_text(encoding="utf-8"))
        schema = Schema.from_dict(raw, f"{folder / layout.SCHEMA_FILE}")
        examples = pd.read_parquet(folder / layout.EXAMPLES_FILE)
        shards = {}
        for name in schema.modalities:
            spec = modalities.modality_of(name).shard_spec(name, schema.prep)
            if spec is not None:
                files = sorted((folder / spec.folder).glob("shard-*.npy"))
                shards[name] = [np.load(p, mmap_mode="r") for p in files]
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"{folder}: damaged prepared dataset: {exc}") from exc
    for name, parts in shards.items():
        if sum(len(s) for s in parts) != len(examples):
            raise DataError(f"{folder}: {name} shards do not match {layout.EXAMPLES_FILE}")
    return Dataset(folder, schema, examples, shards)
