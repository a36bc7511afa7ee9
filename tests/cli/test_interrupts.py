"""Ctrl-C through the console script (``python -m mmcli``, what users run): whenever it comes
(while the CLI is still being imported, or while a decoding pool runs), the command ends with
exit code 130 and the one line ``mmcli: interrupted``, no traceback from this process or its
workers, no process and no output (or temporary sibling) left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mmcli.io.decode import IN_PROCESS_BELOW
from tests.cli.tables import png_table

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")

MMCLI = [sys.executable, "-m", "mmcli"]

# The console script's main(), the CLI interrupted as it starts (Ctrl-C while Typer and the
# command module are imported), after the warm start of the fork server, which gets the
# Ctrl-C too while it imports the decoders' modules; the server's pid and ignored signals
# are written to $PROBE_OUT first.
STARTING = r"""
import json, os, signal, sys, time
from multiprocessing import forkserver
import mmcli.cli.app

def interrupted():
    server = forkserver._forkserver._forkserver_pid
    with open(f"/proc/{server}/status") as status:  # still importing the decoders' modules
        ignored = [l.split()[1] for l in status if l.startswith(("SigIgn:", "SigBlk:"))]
    with open(os.environ["PROBE_OUT"], "w") as handle:
        json.dump({"server": server, "ignored": ignored}, handle)
    os.kill(server, signal.SIGINT)  # Ctrl-C reaches the server too (the terminal's group)
    time.sleep(0.5)
    raise KeyboardInterrupt

mmcli.cli.app.main = interrupted
sys.argv = ["mmcli", *sys.argv[1:]]
from mmcli.__main__ import main
main()
"""


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _left(pids: list[int], seconds: float = 5.0) -> list[int]:
    """Those of ``pids`` still running (not exited, nor a zombie) after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for pid in pids:
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                alive.append(pid)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def _pool_of(proc: subprocess.Popen) -> list[int]:
    """The fork server(s) and decoding workers of a running preprocess, once its workers
    show (within 60 s)."""
    helpers: list[int] = []
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        servers = _children(proc.pid)
        helpers = servers + [w for s in servers for w in _children(s)]
        if len(helpers) > len(servers) > 0:
            break
        time.sleep(0.005)
    assert len(helpers) > 2, "the pool's workers never showed"
    return helpers


def _ignores_sigint(pid: int) -> bool | None:
    """Whether SIGINT is ignored or blocked in the process ``pid`` (None: it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    masks = [int(line.split()[1], 16) for line in status.splitlines()
             if line.startswith(("SigIgn:", "SigBlk:"))]
    return any(mask & (1 << (signal.SIGINT - 1)) for mask in masks)


def test_ctrl_c_while_the_cli_starts_is_one_line_and_exit_130(tmp_path):
    table = png_table(tmp_path, IN_PROCESS_BELOW + 200)  # the fork server starts on the guess
    out, probe = tmp_path / "prepared", tmp_path / "probe.json"
    done = subprocess.run([sys.executable, "-c", STARTING, "preprocess", str(table), "--out",
                           str(out), "--workers", "2"], capture_output=True, text=True,
                          env={**os.environ, "PROBE_OUT": str(probe)}, timeout=120)
    assert done.returncode == 130
    assert done.stderr.splitlines() == ["mmcli: interrupted"]
    found = json.loads(probe.read_text())
    ignored = int(found["ignored"][0], 16) | int(found["ignored"][1], 16)
    assert ignored & (1 << (signal.SIGINT - 1))  # from its start: never interrupted
    server = found["server"]
    assert server is not None and not Path(f"/proc/{server}").exists()  # stopped and reaped
    assert not out.exists()


def test_ctrl_c_in_the_middle_of_a_pool_is_one_line_and_exit_130(tmp_path):
    table = png_table(tmp_path, 4 * IN_PROCESS_BELOW)
    out = tmp_path / "prepared"
    with subprocess.Popen([*MMCLI, "preprocess", str(table), "--out", str(out), "--workers",
                           "2", "--image-size", "8"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as proc:  # its own group, as in a terminal
        workers: list[int] = []
        deadline = time.monotonic() + 60
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            workers = [w for c in _children(proc.pid) for w in _children(c)]
            time.sleep(0.005)
        assert workers, "the pool's workers never showed"
        ignoring = [_ignores_sigint(w) for w in workers]  # Ctrl-C is the main process' to
        assert True in ignoring and False not in ignoring  # handle (None: gone already)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
        stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr.splitlines() == ["mmcli: interrupted"] and stdout == ""
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")
                                 and ".tmp-" in p.name] == []
    assert _left(workers) == []


def test_sigterm_to_the_command_alone_cleans_up_like_ctrl_c(tmp_path):
    """``kill PID`` (SIGTERM to the main process only, as a script or a service manager
    sends it): the pool, its fork server, the shared memory and the temporary output go
    with it; exit code 143 and one line."""
    table = png_table(tmp_path, 4 * IN_PROCESS_BELOW)
    out = tmp_path / "prepared"
    shm = set(os.listdir("/dev/shm")) if Path("/dev/shm").is_dir() else set()
    with subprocess.Popen([*MMCLI, "preprocess", str(table), "--out", str(out), "--workers",
                           "2", "--image-size", "8"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        helpers = _pool_of(proc)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)  # (orphans kept stderr open)
    assert proc.returncode == 143
    assert stderr.splitlines() == ["mmcli: terminated"] and stdout == ""
    assert not out.exists() and [p.name for p in tmp_path.iterdir()
                                 if ".tmp-" in p.name] == []
    assert _left(helpers) == []
    if shm:
        assert {n for n in set(os.listdir("/dev/shm")) - shm if n.startswith("psm_")} == set()


def test_a_command_killed_outright_leaves_no_pool_behind(tmp_path):
    """``kill -9`` (or the kernel's out-of-memory killer) gives the main process no chance
    to clean up: its workers exit on their own once it is gone, then the fork server and
    the resource tracker, which unlinks the shared-memory ring."""
    table = png_table(tmp_path, 4 * IN_PROCESS_BELOW)
    out = tmp_path / "prepared"
    shm = set(os.listdir("/dev/shm")) if Path("/dev/shm").is_dir() else set()
    with subprocess.Popen([*MMCLI, "preprocess", str(table), "--out", str(out), "--workers",
                           "2", "--image-size", "8"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        helpers = _pool_of(proc)
        proc.kill()
        proc.communicate(timeout=30)  # returns once no process holds stderr open
    assert proc.returncode == -signal.SIGKILL
    assert _left(helpers) == []
    if shm:
        assert {n for n in set(os.listdir("/dev/shm")) - shm if n.startswith("psm_")} == set()
