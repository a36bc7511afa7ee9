"""train --strategy mirrored (two logical CPUs) and multi-worker (two loopback workers) with the
default image encoder (a frozen pretrained MobileNet, features cached): it trains, and its
bundle (extractor + trained head) predicts within tolerance of a one-process run of the same seed
and global batch, with and without the per-modality auxiliary heads.

Every run is a subprocess with a timeout; 40 rows of the sample data at 32 px, 2 epochs.
Skipped without the shared MobileNet weights (``../shared/weights/``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SAMPLE

pytestmark = [pytest.mark.tf, pytest.mark.distributed]
WEIGHTS = ROOT.parent / "shared" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
TOLERANCE = 0.05
TRAIN = ["--epochs", "2", "--seed", "3", "--batch-size", "16", "--patience", "10",
         "--image-encoder", "mobilenet", "--image-weights", str(WEIGHTS)]

if not WEIGHTS.is_file():
    pytest.skip("shared MobileNet weights not present", allow_module_level=True)


def mmcli(*args, extra_env=None, timeout=420):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "",
           **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "mmcli", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dist_frozen")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:41]
    (root / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = mmcli("preprocess", root / "data.csv", "--out", root / "prep", "--image-size", "32",
                 "--image-root", SAMPLE.parent, "--quiet", timeout=300)
    assert done.returncode == 0, done.stderr
    return root / "prep"


def probabilities(bundle: Path, table: Path) -> np.ndarray:
    done = mmcli("predict", bundle, table, "--format", "jsonl", timeout=300)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return np.array([[r["probabilities"][k] for k in sorted(r["probabilities"])]
                     for r in records if r["probabilities"]])


def train(prepared: Path, out: Path, strategy: str, *extra: str) -> dict:
    done = mmcli("train", prepared, "--out", out, "--strategy", strategy, *TRAIN, *extra,
                 extra_env={"MMCLI_LOGICAL_CPUS": "2"} if strategy == "mirrored" else None)
    assert done.returncode == 0, done.stderr
    assert "auxiliary heads" not in done.stderr, done.stderr  # trained, not switched off
    return json.loads((out / "bundle.json").read_text())


@pytest.fixture(scope="module")
def one_process(prepared) -> np.ndarray:
    """A one-process run with the default auxiliary heads: its probabilities on the table."""
    one = train(prepared, prepared.parent / "one", "one")
    assert one["config"]["model"]["aux_loss_weight"] == 0.5
    return probabilities(prepared.parent / "one", prepared.parent / "data.csv")


def test_mirrored_trains_the_auxiliary_heads(prepared, one_process, tmp_path):
    """A frozen backbone trains under a strategy on its cached features, and the default
    model.aux_loss_weight (0.5) stays on: each modality's head trains in the custom step,
    its validation accuracy logged, and the fused model still matches a one-process run
    with the same heads."""
    meta = train(prepared, tmp_path / "m", "mirrored")
    model = meta["config"]["model"]
    assert model["aux_loss_weight"] == 0.5
    assert (model["image_encoder"], model["freeze_backbone"]) == ("mobilenet", True)
    assert meta["training"]["distribution"]["replicas"] == 2
    header = (tmp_path / "m" / "history.csv").read_text().splitlines()[0].split(",")
    expected = {"val_aux_image_accuracy", "val_aux_text_accuracy", "val_accuracy", "val_loss",
                "total_loss", "aux_image_loss"}
    assert expected <= set(header), header
    gap = np.abs(probabilities(tmp_path / "m", prepared.parent / "data.csv") - one_process).max()
    assert gap < TOLERANCE, gap


def test_two_workers_frozen_backbone_with_auxiliary_heads(prepared, one_process, tmp_path):
    """Each worker computes the features itself; the chief's bundle matches one process."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from launch_local_workers import launch, wait_all

    out = tmp_path / "bundle"
    procs = launch([sys.executable, "-m", "mmcli", "train", str(prepared), "--out", str(out),
                    *TRAIN], 2, tmp_path / "logs",
                   extra_env={"PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""})
    status = wait_all(procs, timeout=600)
    logs = [(tmp_path / "logs" / f"worker-{i}.log").read_text() for i in (0, 1)]
    assert status == 0, logs
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["training"]["distribution"]["workers"] == 2
    assert meta["config"]["model"]["freeze_backbone"] is True
    gap = np.abs(probabilities(out, prepared.parent / "data.csv") - one_process).max()
    assert gap < TOLERANCE, gap
