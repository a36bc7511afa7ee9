"""Helpers for the fault tests: run mmcli in a subprocess, wait for a state, kill it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# A preprocess that takes about 20 ms per row, so that it can be killed half-way
# deterministically (the rows themselves are the real ones).
SLOW_ROWS = (
    "import sys, time\n"
    "import mmcli.data.rows as rows\n"
    "verdict = rows._verdict\n"
    "def slow(*a, **k):\n"
    "    time.sleep(0.02)\n"
    "    return verdict(*a, **k)\n"
    "rows._verdict = slow\n"
    "from mmcli.cli.app import main\n"
    "sys.argv[0] = 'mmcli'\n"
    "main()\n"
)


def start(*args: str, slow_rows: bool = False, cwd: Path | None = None) -> subprocess.Popen:
    """Start ``mmcli ARGS`` (optionally with slowed rows) in a subprocess."""
    head = [sys.executable, "-c", SLOW_ROWS] if slow_rows else [sys.executable, "-m", "mmcli"]
    return subprocess.Popen(
        [*head, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        preexec_fn=_as_from_a_terminal,
    )


def _as_from_a_terminal() -> None:
    """In the child before exec: Ctrl-C's signal handled by default and not blocked, as a
    shell starts a foreground command. A pytest worker may have SIGINT ignored or blocked
    (inherited by its children: the Ctrl-C test's run then finished with exit 0)."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``mmcli ARGS`` to the end."""
    return subprocess.run(
        [sys.executable, "-m", "mmcli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def wait_for(condition, process: subprocess.Popen, timeout: float = 180) -> None:
    """Poll ``condition()`` until true; fail if the process ends or time runs out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"process ended (rc {process.returncode}) before the state: {err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("timed out waiting for the process")
        time.sleep(0.05)


def kill9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.communicate()
    assert process.returncode == -signal.SIGKILL


def checkpoint_epoch(out: Path) -> int:
    """Epochs done in ``out``'s checkpoint (0 when there is none yet)."""
    import numpy as np

    try:
        with np.load(out.parent / f"{out.name}.ckpt" / "checkpoint.npz") as npz:
            return int(json.loads(str(npz["meta"]))["epoch"])
    except (OSError, ValueError, KeyError):
        return 0


def siblings(target: Path) -> list[str]:
    """Hidden siblings of ``target`` (temporary folders, lock files), by name."""
    return sorted(p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}."))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes (to compare an output before and after)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}
