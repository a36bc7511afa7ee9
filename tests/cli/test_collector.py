"""The console script starts with the garbage collector off and runs the command with it on,
start-up's objects frozen (mmcli.cli.collector)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from mmcli.cli import collector

CODE = """
import atexit, gc, json, sys
import mmcli.cli.app as app
built = []
original = app.build
def build(*names):
    built.append(gc.isenabled())
    return original(*names)
app.build = build
atexit.register(lambda: print(json.dumps([built, gc.isenabled(), gc.get_freeze_count()]),
                              file=sys.stderr))
sys.argv = ["mmcli", "--version"]
from mmcli.__main__ import main
main()
"""


def test_the_console_script_builds_without_the_collector_and_runs_with_it():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mmcli ")
    built, enabled, frozen = json.loads(done.stderr.splitlines()[-1])
    assert built == [False] and enabled
    assert frozen > 1000  # the modules' objects, never traversed again


def test_resume_without_pause_changes_nothing():
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    collector.resume()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
