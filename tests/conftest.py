"""Shared fixtures: the sample data, a CLI runner, and one tiny bundle trained once."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "data.csv"

# In CI the property tests run the same examples every time (a red CI names a reproducible
# input); on a developer's machine they explore new ones, and remember what failed.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


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
    """Train once on sample_data at 32 px (a few seconds) and share the bundle."""
    work = tmp_path_factory.mktemp("trained")
    bundle = work / "bundle"
    result = runner.invoke(
        app,
        [
            "train",
            str(SAMPLE),
            "--out",
            str(bundle),
            "--image-size",
            "32",
            "--epochs",
            "25",
            "--seed",
            "0",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.stderr
    return {"bundle": bundle, "summary": json.loads(result.stdout)}
