"""Decoding many cells (image files, audio files ...) in order, in worker processes when
there are enough of them, with faults returned in place of values.

A job is ``(decoder, payload)``: ``decoder(payload)`` returns the decoded value or raises
:class:`~mmcli.errors.CellError`; the decoder must pickle by reference (a module-level
function, or an instance of a module-level class such as
:class:`mmcli.io.images.ImageDecoder`), as worker processes import it.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mmcli.errors import CellError, UsageError
from mmcli.io import pool_watch, ring, server
from mmcli.io.ring import Place, Ring, interrupts_held
from mmcli.io.worker import start_worker

# Below this many jobs a process pool costs more (start-up, imports) than it saves;
# measured on 2 cores with 224 px JPEGs decoded to 64 px (benchmarks/preprocess_cutover.py,
# idle machine, workers forked from the fork server: in-process 0.41 s / pool 0.46 s at 600
# images, 0.70 / 0.65 at 1,200; audio files cost more each, so the pool pays sooner).
IN_PROCESS_BELOW = 1000

Decoder = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True)
class Noted:
    """A decoded value with notes about its file (the warnings a library raised reading it):
    a decoder may return one; the row keeps the value and reports the notes."""

    value: Any
    notes: tuple[str, ...]


def decode_workers(n_jobs: int, requested: int = 0) -> int:
    """The number of decoding processes for ``n_jobs``.

    Args:
        n_jobs: Cells to decode.
        requested: ``0`` for all cores, else the most processes to use.

    Returns:
        1 (decode in this process) when there are fewer than ``IN_PROCESS_BELOW`` jobs or
        one core; else ``requested`` (or the number of cores).
    """
    cores = os.cpu_count() or 1
    wanted = cores if requested <= 0 else requested
    if n_jobs < IN_PROCESS_BELOW or wanted <= 1:
        return 1
    return wanted


def decode_jobs(
    jobs: Iterable[tuple[Decoder, Any]],
    *,
    workers: int = 1,
    chunk_size: int = 64,
    error: type[CellError] = CellError,
    borrow: bool = False,
) -> Iterator[tuple[int, Any]]:
    """Run ``decoder(payload)`` for every job, in input order.

    With ``workers > 1`` chunks of ``chunk_size`` jobs run in a pool of worker processes
    (forked from a fork server that imported the decoders' modules, else spawned),
    with at most ``2 * workers`` chunks in flight, so memory stays bounded however many
    jobs there are; their arrays come back through shared memory (:mod:`mmcli.io.ring`).
    ``jobs`` is consumed lazily (at most that far ahead of the results, or ``PLAN_AHEAD``
    chunks while the workers start), so it may be a generator that plans rows meanwhile.
    A worker process that dies (e.g. killed by the OS) raises
    ``concurrent.futures.process.BrokenProcessPool``; closing the returned iterator ends the
    pool at once.

    ``borrow``: the arrays may be views of the ring's shared memory rather than copies (no
    copy of each array in this process), valid only until ``chunk_size`` further results
    have been taken: for a consumer that copies each array out (or drops it) before then,
    as preprocess does into its shards.

    Returns:
        An iterator of ``(index, value or error)``, one per job, in input order; a fault is
        an ``error`` instance (a :class:`CellError`) with its ``reason``.

    Raises:
        UsageError: ``chunk_size`` is not a positive integer.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise UsageError(
            f"Expected a positive integer for `chunk_size`. Received: chunk_size={chunk_size!r}"
        )
    chunks = _chunks(jobs, chunk_size)
    if workers <= 1:
        return _number((decode_chunk(chunk) for chunk in chunks), error)
    return _number(_in_pool(chunks, workers, borrow), error)


def _chunks(jobs: Iterable, size: int) -> Iterator[list]:
    iterator = iter(jobs)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _in_pool(chunks: Iterator[list], workers: int, borrow: bool = False) -> Iterator[list]:
    """Yield each chunk's results, in order, keeping ``2 * workers`` chunks in flight; their
    arrays come through a shared-memory :class:`~mmcli.io.ring.Ring` once the first results
    tell the arrays' size (the first chunks' arrays come pickled). ``borrow``: a chunk's
    arrays are views of its slot, freed when the chunk after the next is asked for (one more
    slot: the chunk before the one in use may still have a row being put together)."""
    first = next(chunks, None)
    if first is None:
        return
    context = server.pool_context(first)
    ring: Ring | None = None
    lent: collections.deque = collections.deque()  # slots of chunks yielded, borrowing
    with server.using_server(context.get_start_method() == "forkserver"):
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                      initializer=start_worker,
                                                      initargs=(os.getpid(),))
        try:
            planned = _plan_while_starting(pool, workers, first, chunks)
            pending: collections.deque = collections.deque()
            sized = False
            for chunk in itertools.chain(planned, chunks):
                place = ring.take() if ring is not None else None
                pending.append((pool.submit(decode_packed, chunk, place), place))
                if len(pending) >= 2 * workers:
                    future, place = pending.popleft()
                    results = _received(pool_watch.result(future, pool), place, ring, borrow)
                    if not sized:
                        with interrupts_held():  # never made and then lost
                            ring = Ring.for_arrays(results, 2 * workers + borrow, len(first))
                        sized = ring is not None or any(not isinstance(r, tuple)
                                                        for r in results)
                    yield results
                    if borrow:
                        _return_lent(lent, place, ring)
            while pending:
                future, place = pending.popleft()
                yield _received(pool_watch.result(future, pool), place, ring, borrow)
                if borrow:
                    _return_lent(lent, place, ring)
        finally:
            try:  # a second Ctrl-C may come while the workers finish their chunks
                pool_watch.shut_down(pool)
            finally:
                if ring is not None:
                    with interrupts_held():
                        ring.close()


# Chunks planned at most while the workers start (their jobs are small: a decoder and a path)
PLAN_AHEAD = 64


def _plan_while_starting(pool: Any, workers: int, first: list, chunks: Iterator[list]) -> list:
    """Start the pool's workers in a thread (each start waits for the fork server to have
    imported the decoders: 0.25-0.35 s on the 2-core machine) and meanwhile pull chunks
    (planning their rows) in this one, up to ``PLAN_AHEAD``. Returns: the chunks pulled."""
    starter = threading.Thread(target=_start_workers, args=(pool, workers), daemon=True)
    starter.start()
    planned = [first]
    while starter.is_alive() and len(planned) < PLAN_AHEAD:
        chunk = next(chunks, None)
        if chunk is None:
            break
        planned.append(chunk)
    starter.join()
    return planned


def _start_workers(pool: Any, workers: int) -> None:
    with contextlib.suppress(Exception):  # a failed start shows at the first real submit
        for _ in range(workers):
            pool.submit(int)


def _received(chunk: Packed | list, place: Place | None, ring: Ring | None,
              borrow: bool = False) -> list:
    """A chunk's results as a worker sent them: from the ring (views of its slot when
    ``borrow``), from a packed block, or as they are."""
    if place is not None and ring is not None:
        return ring.read(place, chunk, copy=not borrow)
    return unpack(chunk)


def _return_lent(lent: collections.deque, place: Place | None, ring: Ring | None) -> None:
    """After a chunk was yielded and the next one is asked for: keep its slot lent (when it
    was read borrowing) and free the one lent before it, whose rows are all done by now."""
    if ring is None or place is None:
        return
    lent.append(place)
    while len(lent) > 1:
        ring.release(lent.popleft())


def _number(results: Iterator[list], error: type[CellError]) -> Iterator[tuple[int, Any]]:
    """Number the flattened results, rebuilding errors from ``(reason, message)``."""
    index = 0
    with contextlib.closing(results):  # closing this closes the pool (and frees its ring)
        for chunk in results:
            for item in chunk:
                yield index, error(*item) if isinstance(item, tuple) else item
                index += 1


def decode_chunk(jobs: list[tuple[Decoder, Any]]) -> list:
    """Run a chunk of jobs; faults become ``(reason, message)`` (exceptions with extra
    arguments do not pickle). Module-level so that "spawn" worker processes can import it.

    A chunk of one decoder's jobs runs inside its ``chunk()`` context when it has one
    (:meth:`mmcli.io.images.ImageDecoder.chunk`: one warnings filter for the chunk)."""
    decoders = {type(decoder) for decoder, _ in jobs}
    chunk = getattr(jobs[0][0], "chunk", None) if len(decoders) == 1 else None
    with chunk() if chunk is not None else contextlib.nullcontext():
        return _run(jobs)


def _run(jobs: list[tuple[Decoder, Any]]) -> list:
    results: list = []
    for decoder, payload in jobs:
        try:
            results.append(decoder(payload))
        except CellError as exc:
            results.append((exc.reason, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one bad cell must not end the batch
            what = getattr(decoder, "what", "cell")
            results.append(("unreadable", f"cannot decode {what} '{payload}': {describe(exc)}"))
    return results


@dataclasses.dataclass(frozen=True)
class _Slot:
    """Where a chunk's decoded array sits in its packed block (see :func:`decode_packed`)."""

    index: int


@dataclasses.dataclass(frozen=True)
class Packed:
    """A chunk's results as they cross from a worker: the arrays of one shape and dtype
    stacked into ``block`` (one array pickled per chunk, not one per row), each result
    naming its row of the block (a :class:`_Slot`, also inside a :class:`Noted`)."""

    block: Any  # np.ndarray (k, *shape) or None
    results: list


def decode_packed(jobs: list[tuple[Decoder, Any]], place: Place | None = None) -> Packed | list:
    """:func:`decode_chunk`, its arrays written into the ring at ``place`` (see
    :mod:`mmcli.io.ring`), else stacked into one block when they share a shape and dtype (the
    pool's unit of work; :meth:`Ring.read` or :func:`unpack` undoes it in the main process)."""
    results = decode_chunk(jobs)
    if place is not None:
        return ring.write(place, results)
    arrays = [(i, r.value if isinstance(r, Noted) else r) for i, r in enumerate(results)]
    arrays = [(i, a) for i, a in arrays if type(a).__name__ == "ndarray"]
    if len(arrays) < 2 or len({(a.shape, a.dtype.str) for _, a in arrays}) != 1:
        return results
    import numpy as np

    block = np.stack([a for _, a in arrays])
    for k, (i, _) in enumerate(arrays):
        item = results[i]
        results[i] = Noted(_Slot(k), item.notes) if isinstance(item, Noted) else _Slot(k)
    return Packed(block, results)


def unpack(chunk: Packed | list) -> list:
    """A chunk's results from :func:`decode_packed`: each array a row (a view) of the block."""
    if not isinstance(chunk, Packed):
        return chunk
    block, out = chunk.block, []
    for item in chunk.results:
        if isinstance(item, _Slot):
            item = block[item.index]
        elif isinstance(item, Noted) and isinstance(item.value, _Slot):
            item = Noted(block[item.value.index], item.notes)
        out.append(item)
    return out


def describe(exc: BaseException) -> str:
    """A one-line cause for ``exc``, without the file path a library may add."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
