"""A preprocess stopped in the middle of its decoding pool, as a user or the system stops it:
a second Ctrl-C (or ``timeout -s INT``, which signals the command and then its whole group)
while it is already cleaning up after the first, ``kill -9``, a worker killed by the
out-of-memory killer. Each time: one line on stderr at most, the documented exit code, no
traceback, and no shared memory left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmcli.io.decode import IN_PROCESS_BELOW
from tests.cli.tables import png_table

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir() or not Path("/dev/shm").is_dir(),
                                reason="needs /proc and /dev/shm (Linux)")

MMCLI = [sys.executable, "-m", "mmcli"]


def _maps_ring(pid: int) -> bool:
    """Whether process ``pid`` has a shared-memory block mapped (the pool's ring)."""
    try:
        return "/dev/shm/psm_" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _preprocess(table: Path, out: Path) -> subprocess.Popen:
    """``mmcli preprocess TABLE --out OUT`` through the console script, in a pool of 2."""
    return subprocess.Popen([*MMCLI, "preprocess", str(table), "--out", str(out), "--workers",
                             "2", "--image-size", "48", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_ring(proc: subprocess.Popen) -> None:
    """Wait (up to 60 s) until the running command has mapped its pool's ring."""
    deadline = time.monotonic() + 60
    while not _maps_ring(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert _maps_ring(proc.pid), "the pool's ring never showed"


def test_a_second_ctrl_c_during_the_cleanup_is_still_one_line(tmp_path):
    table = png_table(tmp_path, 4 * IN_PROCESS_BELOW)
    out = tmp_path / "prepared"
    shm = set(os.listdir("/dev/shm"))
    with _preprocess(table, out) as proc:
        _wait_for_ring(proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.005)  # the first one is being handled: the pool shutting down
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)  # (orphans kept stderr open)
    assert proc.returncode == 130
    assert stderr.splitlines() == ["mmcli: interrupted"] and stdout == ""
    assert not out.exists()
    assert {n for n in set(os.listdir("/dev/shm")) - shm if n.startswith("psm_")} == set()


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_kill_9_leaves_no_warning_of_the_resource_tracker_on_stderr(tmp_path, kind):
    """``kill -9`` of a preprocess whose resource tracker was forked at the start (a large
    CSV) or spawned later (Parquet: no guess at the start): the tracker unlinks what the
    command left (the ring, the pool's semaphores) without printing Python's "leaked ...
    objects" warnings into the user's terminal."""
    table = png_table(tmp_path, 4 * IN_PROCESS_BELOW)
    if kind == "parquet":
        import pyarrow.csv
        import pyarrow.parquet

        pyarrow.parquet.write_table(pyarrow.csv.read_csv(table), tmp_path / "data.parquet")
        table = tmp_path / "data.parquet"
    out = tmp_path / "prepared"
    shm = set(os.listdir("/dev/shm"))
    with _preprocess(table, out) as proc:
        _wait_for_ring(proc)
        time.sleep(0.05)
        proc.kill()
        stdout, stderr = proc.communicate(timeout=60)  # once the tracker has ended
    assert proc.returncode == -signal.SIGKILL
    assert stderr == "" and stdout == ""
    assert {n for n in set(os.listdir("/dev/shm")) - shm if n.startswith("psm_")} == set()


def _workers(pid: int) -> list[int]:
    """The decoding workers of process ``pid``: the children of its children."""
    def children(parent: int) -> list[int]:
        try:
            return [int(c) for c in Path(f"/proc/{parent}/task/{parent}/children")
                    .read_text().split()]
        except OSError:
            return []
    return [w for c in children(pid) for w in children(c)]


def test_a_worker_killed_by_the_system_is_exit_7_and_one_line(tmp_path):
    """The out-of-memory killer picks a decoding worker (kill -9 of one): out of resources
    (exit 7), one line naming what happened, not an internal error asking for a report."""
    table = png_table(tmp_path, 4 * IN_PROCESS_BELOW)
    out = tmp_path / "prepared"
    with _preprocess(table, out) as proc:
        _wait_for_ring(proc)
        workers = _workers(proc.pid)
        assert workers, "the pool's workers never showed"
        os.kill(workers[0], signal.SIGKILL)
        try:  # CPython's pool alone could wait for ever here (mmcli.io.pool_watch)
            stdout, stderr = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            for pid in [*_workers(proc.pid), proc.pid]:
                os.kill(pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail("the command hung after a worker was killed")
    assert proc.returncode == 7
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmcli: error: ") and "worker" in lines[0]
    assert stdout == "" and not out.exists()


def test_a_broken_pool_is_out_of_resources():
    from concurrent.futures.process import BrokenProcessPool

    from mmcli.errors import ResourceError, resource_error

    found = resource_error(BrokenProcessPool("A process in the process pool was terminated"))
    assert isinstance(found, ResourceError) and found.exit_code == 7
