"""A result awaited from a decoding pool whose worker died does not wait for ever
(mmcli.io.pool_watch): CPython's pool can wait for the rest of a result the dead worker was
writing, so the workers are checked between short waits, and such a pool is ended by killing
the others and closing this process's end of the result pipe."""

from __future__ import annotations

import concurrent.futures
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from mmcli.io import pool_watch


class _Process:
    def __init__(self, exitcode=None):
        self.exitcode, self.killed, self.joined = exitcode, False, False

    def kill(self):
        self.killed, self.exitcode = True, -9

    def join(self, timeout=None):
        self.joined = True


class _Writer:
    closed = False

    def close(self):
        self.closed = True


class _Queue:
    def __init__(self):
        self._writer = _Writer()


class _Pool:
    """What the watch reads of CPython's ProcessPoolExecutor."""

    def __init__(self, processes):
        self._processes = dict(enumerate(processes))
        self._result_queue = _Queue()
        self.shut = None

    def shutdown(self, wait=True, cancel_futures=False):
        self.shut = (wait, cancel_futures)


def test_a_result_that_never_comes_from_a_pool_with_a_dead_worker_raises(monkeypatch):
    monkeypatch.setattr(pool_watch, "POLL_SECONDS", 0.01)
    pool = _Pool([_Process(), _Process()])
    never = concurrent.futures.Future()  # the pool's own thread is stuck: never set
    pool._processes[1].exitcode = -9  # killed
    start = time.monotonic()
    with pytest.raises(BrokenProcessPool, match="exit code -9"):
        pool_watch.result(never, pool)
    assert time.monotonic() - start < 5


def test_results_of_a_live_pool_are_awaited_as_they_come(monkeypatch):
    monkeypatch.setattr(pool_watch, "POLL_SECONDS", 0.01)
    pool = _Pool([_Process(), _Process()])
    with concurrent.futures.ThreadPoolExecutor(1) as threads:
        slow = threads.submit(lambda: time.sleep(0.1) or "done")
        assert pool_watch.result(slow, pool) == "done"  # several polls, no worker ended


def test_a_pool_with_a_dead_worker_is_ended_without_waiting_on_its_pipe():
    dead, alive = _Process(exitcode=-9), _Process()
    pool = _Pool([dead, alive])
    pool_watch.shut_down(pool)
    assert alive.killed and alive.joined and not dead.killed
    assert pool._result_queue._writer.closed  # the stuck reader sees the end of the pipe
    assert pool.shut == (True, True)


def test_a_healthy_pool_is_shut_down_as_usual():
    pool = _Pool([_Process(), _Process()])
    pool_watch.shut_down(pool)
    assert not any(p.killed for p in pool._processes.values())
    assert not pool._result_queue._writer.closed and pool.shut == (True, True)
