"""A decoding pool whose worker dies half-way through writing a result (run as a script by
tests/io/test_pool_watch.py): ``watched`` waits through :mod:`mmcli.io.pool_watch`,
``plain`` as CPython's pool alone does. Prints ``broken: ...`` and ``ended``."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import struct
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.queues import SimpleQueue

from mmcli.io import pool_watch


def half_a_result() -> None:
    """In a worker: write the first KB of a 1 MB result to the pool's result pipe (its
    length header, then part of the body), then die by SIGKILL, as the out-of-memory killer
    or ``kill -9`` would stop a worker mid-write."""
    queue = next(o for o in gc.get_objects() if isinstance(o, SimpleQueue))
    os.write(queue._writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 1024)
    os.kill(os.getpid(), signal.SIGKILL)


def main(way: str) -> None:
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(half_a_result)
    try:
        pool_watch.result(future, pool) if way == "watched" else future.result()
    except BrokenProcessPool as exc:
        print("broken:", exc, flush=True)
    if way == "watched":
        pool_watch.shut_down(pool)
    else:
        pool.shutdown(wait=True, cancel_futures=True)
    print("ended", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
