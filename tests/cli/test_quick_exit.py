"""The console script ends its process without the interpreter's teardown
(:mod:`mmcli.cli.quick_exit`): every output is still complete, every exit status kept."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import SAMPLE

MMCLI = [sys.executable, "-m", "mmcli"]


def _run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([*MMCLI, *args], capture_output=True, text=True, timeout=120,
                          **kwargs)


def test_a_large_stdout_is_written_whole_and_the_outputs_are_complete(tmp_path):
    out = tmp_path / "prep"
    done = _run("preprocess", str(SAMPLE), "--out", str(out), "--image-size", "16", "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # flushed whole before the process ended
    assert summary["kept"] > 0
    assert json.loads((out / "schema.json").read_text())["kept"] == summary["kept"]
    check = _run("check", str(SAMPLE))
    assert check.returncode == 0 and json.loads(check.stdout)["rows"] == summary["rows"]


def test_exit_statuses_are_kept(tmp_path):
    usage = _run("preprocess", str(SAMPLE))  # neither --out nor --check
    assert usage.returncode == 2
    assert usage.stderr.strip().splitlines() == [
        "mmcli: error: preprocess needs --out DIR, or --check to validate without writing"]
    missing = _run("check", str(tmp_path / "absent.csv"))
    assert missing.returncode == 3 and missing.stderr.startswith("mmcli: error: ")
    assert _run("--version").returncode == 0


def test_a_reader_that_stops_early_ends_quietly(tmp_path):
    read, write = os.pipe()
    with subprocess.Popen([*MMCLI, "check", str(SAMPLE)], stdout=write,
                          stderr=subprocess.PIPE, text=True) as proc:
        os.close(write)
        os.close(read)  # the reader goes away before anything is read (`| head -0`)
        _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (0, 141)  # 141: stdout closed early, as with SIGPIPE
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
