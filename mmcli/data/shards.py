"""The ``.npy`` shards of a prepared dataset, written as rows come: one folder per modality
stored as arrays, ``rows_per_shard`` rows a file (:mod:`mmcli.data.dataset` reads them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcli import layout

if TYPE_CHECKING:
    from mmcli.modalities.base import ShardSpec

_BLOCK_BYTES = 8 * 1024 * 1024  # rows written (and fsynced in the background) at a time


def rows_per_shard(spec: ShardSpec) -> int:
    """Rows per shard: about ``SHARD_BYTES`` each, so memory does not grow with the row size."""
    import numpy as np  # not at import: preprocess starts its decoding pool first

    row_bytes = int(np.prod(spec.shape)) * np.dtype(spec.dtype).itemsize
    return max(16, layout.SHARD_BYTES // max(1, row_bytes))


class ShardWriter:
    """Arrays of one modality written ``rows_per_shard`` rows to a ``.npy`` file.

    A shard's file is written as its rows come, a block (about ``_BLOCK_BYTES``) at a time, and
    each block is fsynced in the background (``syncer``) while decoding goes on: the data
    reaches the disk during the run, so the fsync before the output is renamed into place
    (:func:`mmcli.io.atomic.atomic_dir`) finds little left to write. The header first says
    a full shard; a last, shorter shard gets its header rewritten in place (the same bytes as
    ``np.save``).
    """

    def __init__(self, folder: Path, spec: ShardSpec, syncer: Any):
        import numpy as np

        folder.mkdir()
        self.folder, self.spec, self.syncer = folder, spec, syncer
        self.capacity = rows_per_shard(spec)
        row_bytes = int(np.prod(spec.shape)) * np.dtype(spec.dtype).itemsize
        block = max(1, min(self.capacity, _BLOCK_BYTES // max(1, row_bytes)))
        self.buffer = np.zeros((block, *spec.shape), spec.dtype)
        self.handle = None
        self.filled = self.pending = self.index = 0  # rows in the shard / in the buffer

    def add(self, value: Any) -> None:
        if self.handle is None:
            self._open()
        self.buffer[self.pending] = 0 if value is None else value
        self.pending += 1
        self.filled += 1
        if self.pending == len(self.buffer):
            self._flush()
        if self.filled == self.capacity:
            self.close()

    def close(self) -> None:
        if self.handle is None:
            return
        self._flush()
        if self.filled != self.capacity:
            self.handle.seek(0)  # numpy pads the header so that the row count can change
            self._header(self.filled)  # in place (GROWTH_AXIS_MAX_DIGITS): same length
            if self.handle.tell() != self.data_at:
                raise RuntimeError(f"{self.path}: the .npy header changed length")
        self.handle.close()
        self.syncer.fsync(self.path)
        self.handle, self.index, self.filled = None, self.index + 1, 0

    def discard(self) -> None:
        """Close the shard's file without finishing it (the output is being abandoned)."""
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def _open(self) -> None:
        self.path = self.folder / layout.SHARD_PATTERN.format(self.index)
        self.handle = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        self._header(self.capacity)
        self.data_at = self.handle.tell()

    def _header(self, rows: int) -> None:
        import numpy as np

        fmt = np.lib.format
        fmt.write_array_header_1_0(self.handle, {
            "descr": fmt.dtype_to_descr(np.dtype(self.spec.dtype)), "fortran_order": False,
            "shape": (rows, *self.spec.shape)})

    def _flush(self) -> None:
        if self.pending:
            _write(self.handle, memoryview(self.buffer[: self.pending]).cast("B"), self.path)
            self.syncer.fsync(self.path)
            self.pending = 0


def _write(handle: Any, data: memoryview, path: Path) -> None:
    """Write and flush ``data``; an OSError (a full disk ...) names the file."""
    try:
        handle.write(data)
        handle.flush()
    except OSError as exc:
        if exc.filename is None:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


class Syncer:
    """fsync files in one background thread, so the disk writes overlap the decoding;
    ``wait`` returns when every requested fsync is done (raising the first error)."""

    def __init__(self) -> None:
        import concurrent.futures

        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mmcli-fsync")
        self.futures: list = []

    def fsync(self, path: Path) -> None:
        from mmcli.io.atomic import fsync_file

        self.futures = [f for f in self.futures if not f.done() or f.exception()]
        self.futures.append(self.pool.submit(fsync_file, path))

    def wait(self, raising: bool = True) -> None:
        """Wait for every fsync asked for; ``raising``: raise the first error (an OSError)."""
        try:
            for future in self.futures:
                if raising:
                    future.result()
                else:
                    future.exception()
        finally:
            self.pool.shutdown(wait=True)
