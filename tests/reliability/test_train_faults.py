"""Training killed (kill -9), out of disk, or run twice into one --out: nothing half-written,
the old bundle intact, and --resume ends where an uninterrupted run ends."""

from __future__ import annotations

import csv
import errno
import io
import json
import shutil

import pytest

import mmcli.api.train
from mmcli.bundle import read_bundle
from tests.conftest import SAMPLE
from tests.reliability.conftest import checkpoint_epoch, kill9, run, siblings, start, tree, wait_for

pytestmark = pytest.mark.tf

TRAIN = ["--image-size", "16", "--epochs", "5", "--patience", "2", "--seed", "0", "--quiet"]
TOLERANCE = 1e-5  # measured: a resumed run has matched bit for bit


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, runner, app) -> dict:
    out = tmp_path_factory.mktemp("uninterrupted") / "bundle"
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *TRAIN])
    assert result.exit_code == 0, result.stderr
    assert not (out.parent / "bundle.ckpt").exists()  # a successful run removes them
    return {"summary": json.loads(result.stdout), "history": history(out)}


def history(bundle) -> dict[str, list[float]]:
    rows = list(csv.DictReader(io.StringIO((bundle / "history.csv").read_text())))
    return {k: [float(r[k]) for r in rows] for k in rows[0]}


def assert_same_run(summary, bundle, reference) -> None:
    assert summary["training"]["epochs_run"] == reference["summary"]["training"]["epochs_run"]
    assert summary["training"]["best_epoch"] == reference["summary"]["training"]["best_epoch"]
    got, want = summary["validation"], reference["summary"]["validation"]
    assert got["accuracy"] == pytest.approx(want["accuracy"], abs=TOLERANCE)
    assert got["modalities"] == pytest.approx(want["modalities"], abs=TOLERANCE)
    assert got["fusion_weights"] == pytest.approx(want["fusion_weights"], abs=1e-3)
    resumed, full = history(bundle), reference["history"]
    assert resumed.keys() == full.keys()
    for key in full:
        assert resumed[key] == pytest.approx(full[key], rel=TOLERANCE), key


def test_kill9_mid_training_keeps_the_old_bundle_and_resume_matches(
    uninterrupted, trained, tmp_path
):
    out = tmp_path / "bundle"
    shutil.copytree(trained["bundle"], out)  # an existing output, being replaced (--force)
    old = tree(out)
    first = start("train", str(SAMPLE), "--out", str(out), *TRAIN, "--force")
    wait_for(lambda: checkpoint_epoch(out) >= 2, first)

    # A second run into the same --out while the first holds it: refused at once.
    second = run("train", str(SAMPLE), "--out", str(out), *TRAIN, "--force")
    assert second.returncode == 6
    assert f"is being written by another mmcli process (pid {first.pid})" in second.stderr
    assert tree(out) == old

    kill9(first)
    killed_at = checkpoint_epoch(out)
    assert 2 <= killed_at <= 5
    assert tree(out) == old  # the old bundle, whole; no partial new one
    read_bundle(out)  # and it still verifies

    resumed = run("train", str(SAMPLE), "--out", str(out), *TRAIN, "--force", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(json.loads(resumed.stdout), out, uninterrupted)
    assert not (tmp_path / "bundle.ckpt").exists()
    assert siblings(out) == []  # lock file and any temporary folder gone
    assert read_bundle(out).meta["training"]["epochs_run"] == 5


def test_resume_needs_a_checkpoint_and_the_same_flags(runner, app, tmp_path):
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *TRAIN, "--resume"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"mmcli: error: nothing to resume: no checkpoint in {out}.ckpt (an interrupted "
        f"`mmcli train ... --out {out}` leaves one there)"
    )
    assert not out.exists() and siblings(out) == []


def test_disk_full_while_saving_then_resume_finishes_without_retraining(
    uninterrupted, runner, app, tmp_path, monkeypatch
):
    out = tmp_path / "bundle"
    real_write_meta = mmcli.api.train.write_meta

    def full_disk(folder, meta, **kwargs):
        (folder / "bundle.json").write_text("{")  # a partial write, then the error
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "bundle.json"))

    monkeypatch.setattr(mmcli.api.train, "write_meta", full_disk)
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *TRAIN])
    assert result.exit_code == 7
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmcli: error: no space left on the device")
    assert not out.exists() and [s for s in siblings(out) if ".tmp-" in s] == []
    assert checkpoint_epoch(out) == uninterrupted["summary"]["training"]["epochs_run"]

    # Without --resume the checkpoint is not silently thrown away.
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *TRAIN])
    assert result.exit_code == 2
    assert "holds the checkpoint of an interrupted run (epoch 5); pass --resume" in result.stderr

    # With a different config the checkpoint is refused, naming the difference.
    other = list(TRAIN)
    other[other.index("--seed") + 1] = "1"
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *other, "--resume"])
    assert result.exit_code == 2
    assert "config.train.seed: 0 then, 1 now" in result.stderr

    monkeypatch.setattr(mmcli.api.train, "write_meta", real_write_meta)
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *TRAIN, "--resume"])
    assert result.exit_code == 0, result.stderr
    assert_same_run(json.loads(result.stdout), out, uninterrupted)
    assert not (tmp_path / "bundle.ckpt").exists()


def test_a_run_early_stopping_ended_resumes_to_its_best_weights(runner, app, tmp_path,
                                                                monkeypatch):
    # A learning rate this high makes validation loss rise at once: early stopping ends the
    # run at epoch 2 and restores epoch 1's weights. The disk fills before the bundle is
    # written; --resume must run no more epochs and still restore the best weights.
    args = ["--image-size", "16", "--epochs", "12", "--patience", "1", "--learning-rate",
            "0.3", "--seed", "0", "--quiet"]
    full = runner.invoke(app, ["train", str(SAMPLE), "--out", str(tmp_path / "full"), *args])
    assert full.exit_code == 0, full.stderr
    reference = {"summary": json.loads(full.stdout), "history": history(tmp_path / "full")}
    training = reference["summary"]["training"]
    assert training["epochs_run"] < 12 and training["best_epoch"] < training["epochs_run"]

    out = tmp_path / "bundle"

    def full_disk(folder, meta, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mmcli.api.train, "write_meta", full_disk)
    assert runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *args]).exit_code == 7
    assert checkpoint_epoch(out) == training["epochs_run"]
    monkeypatch.undo()
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), *args, "--resume"])
    assert result.exit_code == 0, result.stderr
    assert_same_run(json.loads(result.stdout), out, reference)
