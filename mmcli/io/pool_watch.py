"""Waiting on a decoding pool (:mod:`mmcli.io.decode`) without hanging when a worker dies.

CPython's ``ProcessPoolExecutor`` reads every worker's results from one pipe, in a thread of
this process. A worker killed while writing a result (the out-of-memory killer, ``kill -9``:
a chunk sent pickled is hundreds of KB) leaves half a message there; that thread waits for
the rest for ever, since this process and the other workers still hold the pipe's writing
end, and the pool's shutdown then waits for that thread (1 run in 3 to 30 when a worker was
killed as the ring was made, found by a new user's trial, session 7). So a result is
awaited in steps of ``POLL_SECONDS``, checking the workers between steps (a dead one:
``BrokenProcessPool``), and a pool with a dead worker is ended by killing the others and
closing this process's end of the result pipe: the waiting thread reads the end of the
pipe and stops, and the shutdown returns.

The pool's fields used (``_processes``, ``_result_queue``) are CPython's (3.9-3.13); where
they are missing, results are awaited and the pool ended as before.
"""

from __future__ import annotations

import concurrent.futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any

POLL_SECONDS = 0.5  # between checks of the workers while a result is awaited
JOIN_SECONDS = 10.0  # for the workers killed when one died


def result(future: concurrent.futures.Future, pool: Any) -> Any:
    """``future.result()``, raising ``BrokenProcessPool`` once a worker of ``pool`` has
    ended (a worker never ends on its own while the pool runs)."""
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except concurrent.futures.TimeoutError:
            ended = _ended(pool)
            if ended:
                raise BrokenProcessPool(
                    f"a decoding worker ended while the pool ran (exit code {ended[0]})"
                ) from None


def shut_down(pool: Any) -> None:
    """``pool.shutdown(wait=True, cancel_futures=True)``; when a worker has died, the others
    are killed and the result pipe's writing end closed first, so that it cannot wait for
    ever (see the module docstring)."""
    if _ended(pool):
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            if process.exitcode is None:
                process.kill()
        for process in processes:
            process.join(JOIN_SECONDS)
        writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
        if writer is not None:
            writer.close()
    pool.shutdown(wait=True, cancel_futures=True)


def _ended(pool: Any) -> list[int]:
    """The exit codes of the pool's workers that have ended."""
    processes = getattr(pool, "_processes", None) or {}
    return [code for code in (p.exitcode for p in list(processes.values())) if code is not None]
