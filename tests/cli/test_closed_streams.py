"""The console script with a standard stream closed when it starts (``>&-``, ``2>&-``, as in
a cron line or a service unit): Python leaves ``sys.stdout`` / ``sys.stderr`` None, and
every write, and the console script's final flush, raised AttributeError (exit 1 and a
traceback, even for a run that succeeded). The stream is /dev/null instead: the exit code
is the command's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/dev/null").exists(), reason="needs /dev/null")

MMCLI = [sys.executable, "-m", "mmcli"]


def _table(folder: Path) -> Path:
    table = folder / "data.csv"
    table.write_text("id,text,label\n1,a red shoe,a\n2,a blue hat,b\n3,a green sock,a\n",
                     encoding="utf-8")
    return table


def _closed(fd: int):
    return lambda: os.close(fd)


def test_stderr_closed_keeps_the_exit_code_and_stdout(tmp_path):
    table = _table(tmp_path)
    done = subprocess.run([*MMCLI, "check", str(table)], stdout=subprocess.PIPE,
                          preexec_fn=_closed(2), timeout=120)
    assert done.returncode == 0
    assert json.loads(done.stdout)["rows"] == 3
    done = subprocess.run([*MMCLI, "check", str(tmp_path / "absent.csv")],
                          stdout=subprocess.PIPE, preexec_fn=_closed(2), timeout=120)
    assert done.returncode == 3 and done.stdout == b""


def test_stdout_closed_writes_the_output_without_a_traceback(tmp_path):
    table = _table(tmp_path)
    out = tmp_path / "prepared"
    done = subprocess.run([*MMCLI, "preprocess", str(table), "--out", str(out), "--quiet"],
                          stderr=subprocess.PIPE, text=True, preexec_fn=_closed(1),
                          timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert (out / "schema.json").is_file()
