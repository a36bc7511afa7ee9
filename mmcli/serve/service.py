"""The service without HTTP: a verified bundle, its engine behind a micro-batcher, and what
a request's rows need (read, predict, records). The routes in :mod:`mmcli.serve.app` only
move bytes in and out of it."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from mmcli import __version__
from mmcli.api.reading import ChunkReader
from mmcli.api.row_issues import with_unseen
from mmcli.bundle import Bundle, read_bundle
from mmcli.data.roles import pin_roles
from mmcli.data.rows import Row
from mmcli.errors import DataError
from mmcli.serve import prepare
from mmcli.serve.batching import MicroBatcher
from mmcli.serve.engine import Engine, load_engine
from mmcli.serve.requests import RequestError
from mmcli.serve.settings import BATCH_ROWS, ServeConfig
from mmcli.tasks import task_name


class Service:
    """A bundle ready to serve: hashes verified and the model loaded (both before the
    server binds), a worker thread started.

    Raises:
        BundleError: a tampered, incomplete or unreadable bundle (exit 4).
        UsageError: a bundle serve cannot take (images by id from ``--image-dir``).
    """

    def __init__(self, bundle: str | Path, config: ServeConfig) -> None:
        self.config = config
        self.bundle: Bundle = read_bundle(bundle)  # signature and every file's SHA-256
        self.prep = prepare.serving_prep(self.bundle, config.join)
        self.inputs = prepare.serving_inputs(self.bundle, joined=self.prep.join is not None)
        # Requests are read as predict reads a table (the side table read once, here).
        self.tables = ChunkReader(self.bundle, self.prep, per_chunk=True)
        engine_prep, _ = pin_roles(self.bundle.roles, self.prep, list(self.inputs.columns))
        self.engine: Engine = load_engine(self.bundle, engine_prep, config.engine)
        self.engine_prep = engine_prep
        self.issues: Counter = Counter()  # the served rows' problems, by action:reason
        self.rows_served = 0
        for size in (1, 2, 3):  # Keras traces a call per new batch size, then one for any
            self.engine.predict([_blank_row(self.bundle.modalities)] * size)  # (1.4 s each)
        self.batcher = MicroBatcher(self.engine.predict, capacity=config.queue,
                                    wait=config.batch_wait_ms / 1000, batch_rows=BATCH_ROWS)
        # Requests' rows are read together too: one table for several requests' rows costs
        # about what one request's did (pandas, roles, the row path's set-up).
        self.reader = MicroBatcher(self.read, capacity=config.queue,
                                   wait=config.batch_wait_ms / 1000, batch_rows=BATCH_ROWS)
        self._requests = itertools.count()  # spooled files' prefix (the folder is private)
        self.spool = Path(tempfile.mkdtemp(prefix="mmcli-serve-", dir=_memory_folder()))
        self.root = config.allow_paths if config.allow_paths is not None else self.spool
        self.batcher.start()
        self.reader.start()

    def cells(self, rows: Sequence[dict[str, Any]], *,
              form: bool = False) -> tuple[list[dict[str, Any]], list[Path]]:
        """Rows (validated by :mod:`mmcli.serve.requests`) as table lines, uploads spooled;
        and the spooled files, to :meth:`discard` once the rows are read.

        Raises:
            RequestError: an upload that does not decode, a path outside ``--allow-paths``.
        """
        spooled: list[Path] = []
        try:
            return prepare.cells_of(rows, self.inputs, spooled, self.spool,
                                    self.config.allow_paths, prefix=str(next(self._requests)),
                                    form=form), spooled
        except BaseException:
            self.discard(spooled)
            raise

    def shareable(self, cells: Sequence[dict[str, Any]]) -> bool:
        """Whether the rows may be read in one table with other requests' (:attr:`reader`)."""
        return prepare.shareable(cells, self.inputs)

    def read(self, cells: Sequence[dict[str, Any]]) -> list[Row]:
        """Table lines read as predict reads a table: cleaned, decoded, in order.

        Raises:
            RequestError: 422 the rows do not make a table.
        """
        try:
            return prepare.table_rows(cells, self.tables, self.root)
        except DataError as exc:
            raise RequestError(422, "rows", str(exc)) from None

    def discard(self, spooled: Sequence[Path]) -> None:
        for path in spooled:
            path.unlink(missing_ok=True)

    def submit(self, rows: Sequence[Row]) -> Future | None:
        """Queue the usable rows for the model (None: there are none).

        Raises:
            QueueFull: the queue is full (503).
        """
        usable = prepare.usable(rows)
        return self.batcher.submit(usable) if usable else None

    def records(self, rows: Sequence[Row], proba) -> list[dict[str, Any]]:
        import numpy as np

        if proba is None:
            proba = np.zeros((0, len(self.bundle.labels)))
        rows = [with_unseen(row, self.engine.categories, self.engine_prep) for row in rows]
        self.rows_served += len(rows)  # on the event loop only: no lock needed
        self.issues.update(f"{i.action}:{i.reason}" for row in rows for i in row.issues)
        return prepare.records(rows, proba, self.bundle, self.config.top_k)

    def health(self) -> dict[str, Any]:
        health = {"status": "ok", "queued": self.batcher.waiting + self.reader.waiting,
                  "queue": self.config.queue, "batches": self.batcher.batches,
                  "rows": self.rows_served, "issues": dict(sorted(self.issues.items()))}
        join = self.tables.join_report()
        if join is not None:  # predict's join counts over the rows served so far
            health["join"] = join
        return health

    def metadata(self) -> dict[str, Any]:
        """Labels, inputs, modalities, task, versions, limits and the bundle's hashes."""
        bundle, config = self.bundle, self.config
        return {
            "bundle": str(bundle.folder),
            "task": task_name(bundle.config.train),
            "labels": list(bundle.labels),
            "modalities": list(bundle.modalities),
            "inputs": {
                "files": dict(self.inputs.file_columns),
                "values": list(self.inputs.value_columns),
                "id": self.inputs.id_column,
            },
            "join": self.prep.join,
            "engine": self.engine.name,
            "versions": {"mmcli": __version__, "bundle_mmcli": bundle.mmcli_version,
                         **dict(bundle.versions)},
            "files": dict(bundle.files),
            "limits": {"max_body_bytes": config.max_body_bytes, "max_rows": config.max_rows,
                       "max_text_chars": config.max_text_chars, "queue": config.queue,
                       "batch_wait_ms": config.batch_wait_ms, "top_k": config.top_k,
                       "allow_paths": str(config.allow_paths) if config.allow_paths else None},
        }

    def close(self) -> None:
        """Answer what is queued, stop the worker, remove the spool folder."""
        self.reader.stop(timeout=60)
        self.batcher.stop(timeout=60)
        shutil.rmtree(self.spool, ignore_errors=True)


def _blank_row(names: Sequence[str]) -> Row:
    """A row with every modality absent: the warm-up call's input."""
    return Row(row=0, id="", split="test", label=None, values=dict.fromkeys(names),
               issues=(), rejected=False)


def _memory_folder() -> str | None:
    """Where uploads are spooled: /dev/shm (memory) when writable, else the temp folder
    (measured: a folder made and removed per request cost 5 ms on this machine's disk)."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
