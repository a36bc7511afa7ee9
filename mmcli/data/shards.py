"""The ``.npy`` shards of a prepared dataset, written as rows come: one folder per modality
stored as arrays, ``rows_per_shard`` rows a file (:mod:`mmcli.data.dataset` reads them)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmcli import layout
from mmcli.io.direct import DirectWriter, make_buffers

if TYPE_CHECKING:
    from mmcli.modalities.base import ShardSpec

np: Any = None  # NumPy, imported when first needed (_numpy), not at import: preprocess
# starts its decoding pool before this process imports it


def _numpy() -> Any:
    global np
    if np is None:
        import numpy

        np = numpy
    return np


def rows_per_shard(spec: ShardSpec) -> int:
    """Rows per shard: about ``SHARD_BYTES`` each, so memory does not grow with the row size."""
    np = _numpy()
    row_bytes = int(np.prod(spec.shape)) * np.dtype(spec.dtype).itemsize
    return max(16, layout.SHARD_BYTES // max(1, row_bytes))


class ShardWriter:
    """Arrays of one modality written ``rows_per_shard`` rows to a ``.npy`` file.

    A shard's file is written as its rows come, with direct I/O where the file system takes
    it (:class:`mmcli.io.direct.DirectWriter`: no copy into the page cache, the writes run in
    the ``syncer``'s thread while decoding goes on); the fsync before the output is renamed
    into place (:func:`mmcli.io.atomic.atomic_dir`) then finds little left to write. The
    header first says a full shard; a last, shorter shard gets its header rewritten in place
    (the same bytes as ``np.save``).
    """

    def __init__(self, folder: Path, spec: ShardSpec, syncer: Syncer):
        _numpy()  # the module's np, for add()
        folder.mkdir()
        self.folder, self.spec, self.syncer = folder, spec, syncer
        self.capacity = rows_per_shard(spec)
        self.dtype, self.shape = np.dtype(spec.dtype), tuple(spec.shape)
        self.row = np.zeros(spec.shape, self.dtype)  # a row that needs casting or is missing
        self.file: DirectWriter | None = None
        self.buffers: list | None = None  # the DirectWriter's, the same from shard to shard
        self.filled = self.index = 0  # rows in the shard

    def add(self, value: Any) -> None:
        if self.file is None:
            self._open()
        if (type(value) is np.ndarray and (value.dtype is self.dtype or value.dtype == self.dtype)
                and value.shape == self.shape and value.flags.c_contiguous):
            self.file.write(value)
        else:  # None (zeros), another dtype or a broadcastable value, as numpy assigns it
            self.row[...] = 0 if value is None else value
            self.file.write(self.row)
        self.filled += 1
        if self.filled == self.capacity:
            self.close()

    def close(self) -> None:
        if self.file is None:
            return
        if self.filled != self.capacity:
            # numpy pads the header so that the row count can change in place
            # (GROWTH_AXIS_MAX_DIGITS): the same length
            header = self._header(self.filled)
            if len(header) != len(self._header(self.capacity)):
                raise RuntimeError(f"{self.path}: the .npy header changed length")
            self.file.rewrite_head(header)
        self.file.close()
        self.syncer.fsync(self.path)
        self.file, self.index, self.filled = None, self.index + 1, 0

    def discard(self) -> None:
        """Close the shard's file without finishing it (the output is being abandoned)."""
        if self.file is not None:
            self.file.discard()
            self.file = None

    def _open(self) -> None:
        self.path = self.folder / layout.SHARD_PATTERN.format(self.index)
        if self.buffers is None:
            self.buffers = make_buffers()
        self.file = DirectWriter(self.path, self.syncer.submit, buffers=self.buffers)
        self.file.write(self._header(self.capacity))

    def _header(self, rows: int) -> bytes:
        fmt = np.lib.format
        out = io.BytesIO()
        fmt.write_array_header_1_0(out, {
            "descr": fmt.dtype_to_descr(self.dtype), "fortran_order": False,
            "shape": (rows, *self.spec.shape)})
        return out.getvalue()


class Syncer:
    """fsync files in one background thread, so the disk writes overlap the decoding;
    ``wait`` returns when every requested fsync is done (raising the first error)."""

    def __init__(self) -> None:
        import concurrent.futures

        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mmcli-fsync")
        self.futures: list = []

    def fsync(self, path: Path) -> None:
        from mmcli.io.atomic import fsync_file

        self.submit(fsync_file, path)

    def submit(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` in the thread, after what was asked before; returns its future
        (an error is also raised by ``wait``)."""
        self.futures = [f for f in self.futures if not f.done() or f.exception()]
        future = self.pool.submit(fn, *args)
        self.futures.append(future)
        return future

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
