"""Preprocess killed (kill -9) or interrupted (Ctrl-C) half-way: the old output or none."""

from __future__ import annotations

import json
import signal
import time

from tests.conftest import SAMPLE
from tests.reliability.conftest import kill9, run, siblings, start, tree, wait_for

PREP = ["--image-size", "16", "--quiet"]


def start_slow(out, *extra):
    """A preprocess of the 480 sample rows at ~20 ms a row; returns once rows are written."""
    process = start("preprocess", str(SAMPLE), "--out", str(out), *PREP, *extra, slow_rows=True)
    partial = out.parent / f".{out.name}.tmp-{process.pid}"
    wait_for(lambda: (partial / "rejects.csv").is_file(), process)
    time.sleep(1.0)  # some rows in: about 50 of 480
    assert process.poll() is None
    return process, partial


def test_kill9_during_a_first_preprocess_leaves_no_output(tmp_path):
    out = tmp_path / "prep"
    process, partial = start_slow(out)
    kill9(process)
    assert not out.exists()
    # What remains is a hidden temporary folder (and the lock file), never the output:
    assert f".prep.tmp-{process.pid}" in siblings(out)
    assert not (partial / "schema.json").exists()

    done = run("preprocess", str(SAMPLE), "--out", str(out), *PREP)  # no --force needed
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == 480  # the 3 broken rows are kept, masked
    assert siblings(out) == []  # the dead run's leftovers were cleaned


def test_kill9_or_ctrl_c_during_a_forced_rewrite_keep_the_old_output(tmp_path):
    out = tmp_path / "prep"
    assert run("preprocess", str(SAMPLE), "--out", str(out), *PREP).returncode == 0
    old = tree(out)

    process, _ = start_slow(out, "--force")
    kill9(process)
    assert tree(out) == old

    process, partial = start_slow(out, "--force")
    process.send_signal(signal.SIGINT)
    output, err = process.communicate(timeout=60)
    assert process.returncode == 130, f"exit {process.returncode}; stderr: {err[-1500:]!r}; " \
        f"stdout: {output[-500:]!r}"
    assert err.strip().splitlines()[-1] == "mmcli: interrupted"
    assert tree(out) == old
    assert not partial.exists()
    # The interrupted run cleaned its own folder and the killed run's one.
    assert siblings(out) == []
