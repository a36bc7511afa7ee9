"""A ring of shared-memory slots that decoding workers write their arrays into, so a chunk's
arrays cross from a worker to this process without being pickled through a pipe.

One slot per chunk in flight; a slot holds ``chunk_size`` items of ``item_bytes`` each (the
largest array seen in the pool's first results, rounded up to 64 bytes). A worker writes item
i of its chunk at ``offset + i * item_bytes`` and returns an :class:`InRing` (its shape and
dtype) in its place; this process copies the slot's bytes out once per chunk
(:meth:`Ring.read`), so the rows it hands on are views of that copy, never of the ring,
and the slot is free again at once. A consumer that is done with each array soon (preprocess
copies it into a shard) may borrow instead (``copy=False``): the arrays are views of the
slot, which stays taken until :meth:`Ring.release` (no copy of 64 KB a row for 1 s of audio,
nor fresh pages for it). An array that does not fit travels pickled, as before.

The ring is created and unlinked by this process (:meth:`Ring.close`, on every exit path
of the pool), with Ctrl-C and SIGTERM held back meanwhile (:func:`interrupts_held`); a
process killed outright leaves it to multiprocessing's resource tracker, which unlinks what
its processes registered.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

ALIGN = 64  # item offsets stay aligned for every dtype
MAX_RING_BYTES = 256 * 2**20  # beyond this the arrays travel pickled (no ring)


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a chunk's arrays go: the ring's name, the slot's offset, the bytes per item."""

    name: str
    offset: int
    item_bytes: int


@dataclasses.dataclass(frozen=True)
class InRing:
    """An array a worker wrote into its chunk's slot, at the position of its result."""

    shape: tuple[int, ...]
    dtype: str


@dataclasses.dataclass(frozen=True)
class Written:
    """A chunk's results as a worker returns them when it wrote arrays of one shape and dtype
    into the slot: ``count`` items, each such an array but those in ``others`` (position ->
    result: a fault, a :class:`~mmcli.io.decode.Noted`, an array of another shape as an
    :class:`InRing` ...). One object crosses the pipe, not one marker per item, and this
    process makes the chunk's arrays in one call (:meth:`Ring.read`)."""

    kind: InRing
    count: int
    others: dict[int, Any]


class Ring:
    """``slots`` slots of ``items * item_bytes`` bytes in one shared-memory block.

    Raises:
        OSError: the block cannot be created (no /dev/shm, no space).
    """

    def __init__(self, slots: int, items: int, item_bytes: int):
        from multiprocessing import shared_memory

        self.item_bytes = item_bytes
        self.slot_bytes = items * item_bytes
        self.memory: Any = shared_memory.SharedMemory(create=True, size=slots * self.slot_bytes)
        self.free = list(range(slots - 1, -1, -1))

    @classmethod
    def for_arrays(cls, results: list, slots: int, items: int) -> Ring | None:
        """A ring sized for the largest array among ``results`` (a chunk's values), or None
        when there is none, the ring would exceed ``MAX_RING_BYTES`` or cannot be made."""
        sizes = [a.nbytes for a in (_array(r) for r in results) if a is not None]
        if not sizes:
            return None
        item_bytes = -(-max(sizes) // ALIGN) * ALIGN
        if slots * items * item_bytes > MAX_RING_BYTES:
            return None
        try:
            return cls(slots, items, item_bytes)
        except (OSError, ValueError):
            return None

    def take(self) -> Place | None:
        """A free slot's place, or None when every slot is in use."""
        if not self.free:
            return None
        slot = self.free.pop()
        return Place(self.memory.name, slot * self.slot_bytes, self.item_bytes)

    def read(self, place: Place, results: Written | list, copy: bool = True) -> list:
        """A chunk's results with each :class:`InRing` replaced by its array: a view of one
        copy of the slot, and the slot freed (``copy``); else a view of the slot itself, which
        stays taken until :meth:`release` (the caller must drop the arrays by then)."""
        import numpy as np

        from mmcli.io.decode import Noted

        count = results.count if isinstance(results, Written) else len(results)
        slot = np.frombuffer(self.memory.buf, np.uint8, count * self.item_bytes,
                             place.offset)  # the chunk's items (a fault's: unused)
        if copy:
            slot = slot.copy()
            self.release(place)
        else:  # views of the slot: read-only (the slot's next chunk will overwrite them)
            slot.flags.writeable = False
        blocks: dict[InRing, Any] = {}  # each shape and dtype's view of the slot, by item
        if isinstance(results, Written):
            blocks[results.kind] = block = self._block(slot, results.kind)
            out = list(block[:count])  # item i: row i (those in `others` replaced below)
            items: Any = results.others.items()
        else:
            out, items = list(results), enumerate(results)
        for i, item in items:
            inner = item.value if isinstance(item, Noted) else item
            if isinstance(inner, InRing):
                block = blocks.get(inner)
                if block is None:
                    block = blocks[inner] = self._block(slot, inner)
                array = block[i]
                item = Noted(array, item.notes) if isinstance(item, Noted) else array
            out[i] = item
        return out

    def release(self, place: Place) -> None:
        """Free a slot read without a copy (its arrays must no longer be used)."""
        self.free.append(place.offset // self.slot_bytes)

    def _block(self, slot: Any, kind: InRing) -> Any:
        """``slot`` seen as an array of items of ``kind``'s shape and dtype (item i: row i)."""
        import numpy as np

        dtype = np.dtype(kind.dtype)
        rows = slot.reshape(-1, self.item_bytes)[:, :int(np.prod(kind.shape)) * dtype.itemsize]
        return rows.view(dtype).reshape(-1, *kind.shape)

    def close(self) -> None:
        """Unmap and unlink the block (idempotent)."""
        memory, self.memory = self.memory, None
        if memory is None:
            return
        try:
            memory.close()
        except BufferError:  # a view still held (an error while reading, a borrowed array in
            # a traceback): unmapped when the last view goes, not again by SharedMemory.__del__
            memory.close = _unmapped_later
        finally:
            memory.unlink()


def write(place: Place, results: list) -> Written | list:
    """In a worker: write each array of ``results`` that fits into the chunk's slot and put an
    :class:`InRing` in its place (inside its :class:`~mmcli.io.decode.Noted`, if any); the
    results as one :class:`Written` when the first array's shape and dtype are shared by
    the others written bare (the usual chunk)."""
    import numpy as np

    from mmcli.io.decode import Noted

    buf = _attach(place.name).buf
    first = None  # (shape, dtype) of the first array written bare
    bare = []  # the positions of arrays written bare with that shape and dtype
    for i, item in enumerate(results):
        array = _array(item)
        if array is None or array.nbytes > place.item_bytes or array.dtype.hasobject:
            continue
        target = np.ndarray(array.shape, array.dtype, buffer=buf,
                            offset=place.offset + i * place.item_bytes)
        target[...] = array
        del target  # no view may outlive the write (the block must stay closable)
        key = (array.shape, array.dtype.str)
        if first is None and item is array:
            first = key
        if key == first and item is array:
            bare.append(i)
        else:
            marker = InRing(tuple(array.shape), array.dtype.str)
            results[i] = Noted(marker, item.notes) if isinstance(item, Noted) else marker
    if first is None:
        return results
    others = dict(enumerate(results))
    for i in bare:
        del others[i]
    return Written(InRing(tuple(first[0]), first[1]), len(results), others)


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Inside, SIGINT and SIGTERM are held back; their handlers run (raising
    ``KeyboardInterrupt``, or the console script's ``Terminated``) once the block is done.

    For making or unlinking a ring, and keeping it where its closer finds it: a Ctrl-C
    between CPython's ``shm_open`` and its registration with the resource tracker left the
    block in /dev/shm for good, and one just after it, or a second Ctrl-C during the pool's
    shutdown, left it to the tracker, whose warnings (and a ``BufferError`` traceback of a
    borrowed slot's unmapping) came on stderr. Only in the main thread (where Python runs
    signal handlers), and only for handlers that are Python functions.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []
    held = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(signum)
        if callable(handler):
            held[signum] = handler
            signal.signal(signum, lambda number, frame: came.append(number))
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
        if came:
            held[came[0]](came[0], None)


def _unmapped_later() -> None:
    """``close`` of a block whose map is still exported: the map's own release unmaps it."""


_ATTACHED: dict[str, Any] = {}  # in a worker: the ring it writes to (one pool, one ring)


def _attach(name: str) -> Any:
    memory = _ATTACHED.get(name)
    if memory is None:
        from multiprocessing import shared_memory

        for old in _ATTACHED.values():
            old.close()
        _ATTACHED.clear()
        memory = _ATTACHED[name] = shared_memory.SharedMemory(name=name)
    return memory


def _inner(item: Any) -> Any:
    """A result's value (inside a :class:`~mmcli.io.decode.Noted`, or bare)."""
    from mmcli.io.decode import Noted

    return item.value if isinstance(item, Noted) else item


def _array(item: Any) -> Any:
    """The ndarray a result holds, else None."""
    value = _inner(item)
    return value if type(value).__name__ == "ndarray" else None

