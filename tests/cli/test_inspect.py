"""``mmcli inspect BUNDLE``: metadata as JSON, without TensorFlow."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.tf  # uses the trained bundle

RUN = (
    "import sys\n"
    "from mmcli.cli.app import app\n"
    "try:\n"
    "    app(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
    "print('EXIT', code, 'HEAVY', ','.join(heavy) or '-', file=sys.stderr)\n"
)


def run_inspect(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUN, "inspect", *args], capture_output=True,
                          text=True, timeout=120)


def test_inspect_prints_metadata_without_importing_tensorflow(trained):
    done = run_inspect(str(trained["bundle"]))
    assert "EXIT 0 HEAVY -" in done.stderr, done.stderr
    meta = json.loads(done.stdout)
    assert meta["labels"] == ["blue_happy", "blue_sad", "red_happy", "red_sad"]
    assert meta["modalities"] == ["image", "text"]
    assert meta["config"]["prep"]["image_size"] == 32
    assert meta["validation"]["accuracy"] == trained["summary"]["validation"]["accuracy"]
    assert "tensorflow" in meta["versions"]
    size = (trained["bundle"] / "model.keras").stat().st_size
    assert meta["files"]["model.keras"]["bytes"] == size
    assert len(meta["files"]["model.keras"]["sha256"]) == 64


def test_inspect_refuses_a_tampered_bundle(trained, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(trained["bundle"], copy)
    with open(copy / "history.csv", "a") as handle:
        handle.write("tampered\n")
    done = run_inspect(str(copy))
    assert "EXIT 4" in done.stderr and done.stdout == ""
    assert "history.csv" in done.stderr
    assert "EXIT 0" in run_inspect(str(copy), "--no-verify").stderr


def test_inspect_has_help(runner, app):
    result = runner.invoke(app, ["inspect", "--help"])
    assert result.exit_code == 0 and "Example" in result.stdout
