"""Shared fixtures: the sample data, a CLI runner, and one tiny bundle trained once.

The suite runs on two pytest-xdist workers (``-n 2 --dist loadfile`` in pyproject's addopts:
a file's tests, and so its module fixtures, stay on one worker). ``shared_folder`` builds an
artifact once for the whole run, whichever worker asks first."""

from __future__ import annotations

import csv
import fcntl
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "data.csv"

# Two workers on two cores: one TensorFlow intra-op thread each (subprocesses inherit it), not
# two apiece competing for the cores (measured: about 7% less CPU for the same tests).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

# The files that take longest, slowest first (measured with --durations on a whole run): with
# `--dist loadfile --no-loadscope-reorder` the workers take them before the many short files,
# so that both finish at about the same time instead of one running a long file alone.
SLOW_FILES = (
    "tests/model/test_backbones.py",
    "tests/model/test_distributed.py",
    "tests/test_export.py",
    "tests/model/test_fusions.py",
    "tests/test_train_heads.py",
    "tests/reliability/test_train_faults.py",
    "tests/cli/test_tune.py",
    "tests/test_explain_kinds.py",
    "tests/test_multi_modality.py",
    "tests/test_sample_four.py",
    "tests/data/test_cache.py",
    "tests/cli/test_audio.py",
    "tests/model/test_distributed_frozen.py",
    "tests/serve/test_serve.py",
)


def pytest_collection_modifyitems(config, items) -> None:
    """Put the SLOW_FILES first (in their order), every other file after in its usual order."""
    rank = {name: i for i, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))

# In CI the property tests run the same examples every time (a red CI names a reproducible
# input); on a developer's machine they explore new ones, and remember what failed.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def shared_folder(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder that ``build(folder)`` fills once per test run, shared by the xdist workers.

    Under xdist each worker has its own base temp under the run's folder; the first worker to
    take an exclusive lock there builds, the others wait and reuse. Without xdist it is a plain
    ``mktemp``. Tests must not change what is in it (copy it first)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")[:12]  # never a folder of another run
    folder = root / f"shared-{name}-{run}"
    with open(root / f"shared-{name}-{run}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / ".built").touch()
    return folder


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Point mmcli's prepared-data cache at a temporary folder, never the real home."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MMCLI_CACHE_DIR", str(tmp_path_factory.mktemp("mmcli-cache")))
        # Train's LiteRT export costs 10-25 s a bundle here: only tests/test_export.py, which
        # passes --engine-export, pays it (subprocesses inherit the variable).
        patch.setenv("MMCLI_ENGINE_EXPORT", "0")
        yield


@pytest.fixture(scope="session")
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def app():
    from mmcli.cli.app import app

    return app


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of sample_data (tests may add or break files in it)."""
    target = tmp_path / "sample"
    shutil.copytree(SAMPLE.parent, target)
    return target / "data.csv"


@pytest.fixture(scope="session")
def trained(tmp_path_factory, runner, app) -> dict:
    """Train once on sample_data at 32 px (a few seconds) and share the bundle (once for the
    run, whichever xdist worker asks first)."""

    def build(folder: Path) -> None:
        result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(folder / "bundle"),
                                     "--image-size", "32", "--epochs", "25", "--seed", "0",
                                     "--quiet"])
        assert result.exit_code == 0, result.stderr
        (folder / "summary.json").write_text(result.stdout)

    folder = shared_folder(tmp_path_factory, "trained", build)
    return {"bundle": folder / "bundle",
            "summary": json.loads((folder / "summary.json").read_text())}


@pytest.fixture(scope="session")
def multi(tmp_path_factory, runner, app) -> dict:
    """A multi-label table from sample_data ("red_happy" -> "red|happy", image paths made
    absolute), trained once for the run at 32 px, 25 epochs (tests/test_train_heads.py checks
    the bundle, tests/test_explain_kinds.py explains it)."""
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        rows = [{**r, "label": r["label"].replace("_", "|")} for r in csv.DictReader(handle)]

    def build(folder: Path) -> None:
        with open(folder / "data.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**r, "image": str(SAMPLE.parent / r["image"])} for r in rows)
        result = runner.invoke(app, ["train", str(folder / "data.csv"), "--out",
                                     str(folder / "bundle"), "--multi-label",
                                     "--allow-outside-root", "--image-size", "32",
                                     "--epochs", "25", "--seed", "0", "--quiet"])
        assert result.exit_code == 0, result.stderr
        (folder / "summary.json").write_text(result.stdout)

    folder = shared_folder(tmp_path_factory, "multi", build)
    return {"table": folder / "data.csv", "bundle": folder / "bundle", "rows": rows,
            "summary": json.loads((folder / "summary.json").read_text())}
