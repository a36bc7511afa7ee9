"""train --strategy: two workers on loopback, two logical CPUs, a worker killed and resumed.

Every distributed or mixed-precision run is a subprocess with a timeout (a cluster missing a
worker would wait forever; logical CPUs and the dtype policy are process-wide). Preprocess, the
one-process reference and predict run in-process (CliRunner): a subprocess is mostly
TensorFlow's start-up. The data is a tiny text table (bag of words), trained for 2 epochs.
Tolerance: a distributed run takes the same steps on the same global batches as one
process, but sums the gradients of the replicas' halves (another float order) and averages
the last, uneven batch's loss by replica: probabilities within 0.05 of the one-process run's.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from launch_local_workers import launch, wait_all  # noqa: E402

pytestmark = [pytest.mark.tf, pytest.mark.distributed]
TOLERANCE = 0.05
WORDS = {"a": "sun warm bright gold summer light", "b": "rain cold grey wind winter dark"}
TRAIN = ["--epochs", "2", "--seed", "5", "--batch-size", "16", "--text-encoder", "bow",
         "--patience", "10", "--learning-rate", "0.01"]


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "", **extra}


def mmcli(*args, extra_env=None, timeout=420):
    return subprocess.run([sys.executable, "-m", "mmcli", *map(str, args)], env=env(
        **(extra_env or {})), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, runner, app) -> Path:
    root = tmp_path_factory.mktemp("dist")
    rng = np.random.default_rng(0)
    with open(root / "t.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "text", "label", "split"])
        for i in range(72):
            label = "ab"[i % 2]
            words = rng.choice(WORDS[label].split(), 3).tolist() + rng.choice(
                WORDS["ba"[i % 2]].split(), 1).tolist()
            out.writerow([f"r{i}", " ".join(words), label, "test" if i >= 60 else "train"])
    done = runner.invoke(app, ["preprocess", str(root / "t.csv"), "--out", str(root / "prep"),
                               "--quiet"])
    assert done.exit_code == 0, done.stderr
    return root / "prep"


def probabilities(runner, app, bundle: Path, table: Path) -> np.ndarray:
    done = runner.invoke(app, ["predict", str(bundle), str(table)])
    assert done.exit_code == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    return np.array([[r["probabilities"][k] for k in sorted(r["probabilities"])]
                     for r in records])


@pytest.fixture(scope="module")
def one_process(prepared, runner, app) -> np.ndarray:
    done = runner.invoke(app, ["train", str(prepared), "--out", str(prepared.parent / "one"),
                               "--strategy", "one", *TRAIN])
    assert done.exit_code == 0, done.stderr
    meta = json.loads((prepared.parent / "one" / "bundle.json").read_text())
    assert meta["training"]["distribution"] == {
        "strategy": "one", "replicas": 1, "devices": ["/device:CPU:0"], "mixed_precision": False,
        "workers": 1}
    return probabilities(runner, app, prepared.parent / "one", prepared.parent / "t.csv")


def workers(prepared, out, *extra, logs, timeout=600):
    procs = launch([sys.executable, "-m", "mmcli", "train", str(prepared), "--out", str(out),
                    *TRAIN, *extra], 2, logs, extra_env={"PYTHONPATH": str(ROOT),
                                                          "CUDA_VISIBLE_DEVICES": ""})
    return procs


def test_two_workers_train_one_bundle_written_by_the_chief(prepared, one_process, tmp_path,
                                                           runner, app):
    out = tmp_path / "bundle"
    status = wait_all(workers(prepared, out, logs=tmp_path / "logs"), timeout=600)
    logs = [(tmp_path / "logs" / f"worker-{i}.log").read_text() for i in (0, 1)]
    assert status == 0, logs
    assert "worker 0 of a cluster of 2: the chief" in logs[0]
    assert "worker 1 of a cluster of 2: not the chief" in logs[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "logs"]  # no .ckpt left
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["training"]["distribution"]["strategy"] == "multi-worker"
    assert meta["training"]["distribution"]["replicas"] == 2
    assert meta["training"]["distribution"]["workers"] == 2
    gap = np.abs(probabilities(runner, app, out, prepared.parent / "t.csv") - one_process).max()
    assert gap < TOLERANCE, gap


def test_mirrored_over_two_logical_cpus_matches_one_process(prepared, one_process, tmp_path,
                                                            runner, app):
    done = mmcli("train", prepared, "--out", tmp_path / "m", "--strategy", "mirrored", *TRAIN,
                 extra_env={"MMCLI_LOGICAL_CPUS": "2"})
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "m" / "bundle.json").read_text())
    assert meta["training"]["distribution"]["replicas"] == 2
    assert meta["training"]["distribution"]["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    gap = np.abs(probabilities(runner, app, tmp_path / "m", prepared.parent / "t.csv")
                 - one_process).max()
    assert gap < TOLERANCE, gap


def test_a_killed_worker_resumes_from_the_last_completed_epoch(prepared, tmp_path):
    out = tmp_path / "bundle"
    epochs = ["--epochs", "6"]
    procs = workers(prepared, out, *epochs, logs=tmp_path / "first")
    # The first epoch's checkpoint in place (its folder alone may hold only the lock and the
    # file being written: killed then, there is nothing to resume)
    checkpoint = tmp_path / "bundle.ckpt" / "checkpoint.npz"
    deadline = time.monotonic() + 400
    while not checkpoint.is_file():
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)  # a worker dies mid-run ...
    procs[0].send_signal(signal.SIGKILL)  # ... and the launcher stops the cluster
    for p in procs:
        p.wait(timeout=60)
    assert not out.exists()
    status = wait_all(workers(prepared, out, *epochs, "--resume", logs=tmp_path / "second"),
                      timeout=600)
    chief = (tmp_path / "second" / "worker-0.log").read_text()
    assert status == 0, chief
    assert "epoch 1/6" not in chief and "epoch 6/6" in chief  # continued, not from scratch
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 6


def test_mixed_precision_trains_and_its_bundle_predicts_in_float32(prepared, tmp_path, runner,
                                                                   app):
    done = mmcli("train", prepared, "--out", tmp_path / "mp", "--strategy", "one",
                 "--mixed-precision", *TRAIN[:-2])
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "mp" / "bundle.json").read_text())
    assert meta["training"]["distribution"]["mixed_precision"] is True
    proba = probabilities(runner, app, tmp_path / "mp", prepared.parent / "t.csv")
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-4)
