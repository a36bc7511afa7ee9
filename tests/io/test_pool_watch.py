"""A result awaited from a decoding pool whose worker died does not wait for ever
(mmcli.io.pool_watch): CPython's pool can wait for the rest of a result the dead worker was
writing, so the workers are checked between short waits, and such a pool is ended by killing
the others and closing this process's end of the result pipe. The logic on a stand-in pool,
then the real hang on CPython's own pool (tests/io/half_result_scenario.py)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import signal
import subprocess
import sys
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from mmcli.io import pool_watch

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("half_result_scenario.py")


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


def _scenario(way: str, timeout: float) -> tuple[int, str, str] | None:
    """Run tests/io/half_result_scenario.py in a session of its own: its exit code, stdout
    and stderr, or None when it was still running after ``timeout`` seconds (then it and its
    pool's workers are killed)."""
    process = subprocess.Popen([sys.executable, str(SCENARIO), way], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the workers left, if any
        process.communicate()
    return process.returncode, stdout, stderr


def test_a_real_pool_whose_worker_died_mid_result_ends_instead_of_hanging():
    """CPython's own pool, a worker killed after writing 1 KB of a 1 MB result: through the
    watch the wait raises and the pool ends within seconds; without it (the control run) the
    pool's reading thread waits for the rest for ever, so the command hung."""
    watched = _scenario("watched", timeout=60)
    assert watched is not None, "the watched pool hung"
    code, stdout, stderr = watched
    assert code == 0, stderr
    assert stdout.splitlines() == [
        "broken: a decoding worker ended while the pool ran (exit code -9)", "ended"]
    assert _scenario("plain", timeout=5) is None, "the control run no longer hangs: " \
        "CPython's pool may have been fixed; the watch could then be dropped"
