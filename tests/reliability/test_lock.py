"""One writer per output: a second process is refused at once; a killed holder blocks nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from mmcli.errors import OutputLockedError
from mmcli.io.lock import lock_path, output_lock
from tests.conftest import SAMPLE
from tests.reliability.conftest import run, siblings

HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from mmcli.io.lock import output_lock\n"
    "with output_lock(Path(sys.argv[1])):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(120)\n"
)


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of tmp_path/out (killed at the end)."""
    target = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(target)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "locked"
    yield target, process
    if process.poll() is None:
        process.kill()
    process.wait()
    process.stdout.close()


def test_second_writer_is_refused_and_a_killed_holder_releases(holder):
    target, process = holder
    with pytest.raises(OutputLockedError, match=f"pid {process.pid}"), output_lock(target):
        pass
    os.kill(process.pid, signal.SIGKILL)  # no cleanup runs: the kernel drops the flock
    process.wait()
    assert lock_path(target).exists()  # the file stays, but blocks nothing
    with output_lock(target):
        pass
    assert not lock_path(target).exists()


def test_lock_is_reentrant_in_one_process(tmp_path):
    target = tmp_path / "out"
    with output_lock(target), output_lock(target):
        assert lock_path(target).exists()
    assert siblings(target) == []


def test_preprocess_into_a_locked_out_is_exit_6(holder):
    target, process = holder
    done = run("preprocess", str(SAMPLE), "--out", str(target), "--quiet")
    assert done.returncode == 6
    assert done.stderr.strip() == (
        f"mmcli: error: {target} is being written by another mmcli process "
        f"(pid {process.pid}); wait for it to finish or choose another --out"
    )
    assert not target.exists()


@pytest.mark.tf
def test_export_into_a_locked_bundle_is_exit_6_and_leaves_it_as_it_was(holder, trained):
    """export without --out writes into the bundle (engine/, bundle.json): it takes the lock
    train takes to write it, before loading the model."""
    import shutil

    target, process = holder
    shutil.copytree(trained["bundle"], target)
    meta = (target / "bundle.json").read_bytes()
    done = run("export", str(target), "--format", "tflite", "--check-data", str(SAMPLE),
               "--quiet")
    assert done.returncode == 6
    assert done.stderr.strip() == (
        f"mmcli: error: {target} is being written by another mmcli process "
        f"(pid {process.pid}); wait for it to finish or choose another --out"
    )
    assert (target / "bundle.json").read_bytes() == meta
    assert not (target / "engine").exists()
