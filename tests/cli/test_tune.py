"""``mmcli tune`` (issue 16): trials finish and best.toml reloads into train; every trial
scores the same validation rows and never a test row; a search killed with SIGKILL resumes on
its study, with two processes on one SQLite study, both adding trials.

Tiny on purpose: 120 rows of sample_data at 32 px, the small CNN, 1 epoch, a 2-setting
space."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "data.csv"
SPACE = """
[model.fusion]
choices = ["gated", "concat"]

[train.learning_rate]
low = 1e-3
high = 1e-2
log = true
"""
FIXED = ["--set", "model.image_encoder=small_cnn", "--epochs", "1", "--seed", "0"]

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, runner, app) -> Path:
    """90 training and 30 test rows of sample_data, prepared at 32 px, and a space file."""
    work = tmp_path_factory.mktemp("tune")
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kept = [r for r in rows if r["split"] == "train"][:90] + \
        [r for r in rows if r["split"] == "test"][:30]
    table = work / "data.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in kept:
            writer.writerow({**row, "image": str(SAMPLE.parent / row["image"])})
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(work / "prep"),
                                 "--image-size", "32", "--allow-outside-root", "-q"])
    assert result.exit_code == 0, result.stderr
    (work / "space.toml").write_text(SPACE, encoding="utf-8")
    return work


def _tune_args(work: Path, out: Path, *extra: str) -> list[str]:
    return ["tune", str(work / "prep"), "--out", str(out), "--space", str(work / "space.toml"),
            *FIXED, "-q", *extra]


def _states(out: Path) -> list[dict]:
    with open(out / "trials.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_three_trials_finish_and_best_toml_reloads_into_train(prepared, runner, app):
    out = prepared / "search"
    result = runner.invoke(app, _tune_args(prepared, out, "--trials", "3"))
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["trials"]["added"] == 3 and summary["trials"]["total"] == 3
    trials = _states(out)
    assert [t["state"] for t in trials] == ["COMPLETE"] * 3
    assert {t["model.fusion"] for t in trials} <= {"gated", "concat"}
    best = max(trials, key=lambda t: float(t["value"]))
    assert summary["best"]["value"] == pytest.approx(float(best["value"]), abs=1e-5)
    assert (out / "history.png").stat().st_size > 0

    # the same validation rows in every trial, never a test row
    examples = _examples(prepared / "prep")
    test_ids = {e for e, split in examples if split == "test"}
    seen = []
    for trial in trials:
        meta = json.loads((out / trial["run"] / "bundle.json").read_text())
        assert meta["config"]["model"]["image_encoder"] == "small_cnn"  # fixed, not searched
        seen.append(tuple(meta["validation_ids"]))
        assert meta["data"]["train_rows"] + meta["data"]["val_rows"] == 90
    assert len(set(seen)) == 1 and seen[0] and not set(seen[0]) & test_ids

    # best.toml is the best trial's configuration, as train --config reads it
    result = runner.invoke(app, ["train", "--config", str(out / "best.toml"), "--print-config"])
    assert result.exit_code == 0, result.stderr
    reloaded = tomllib.loads(result.stdout)
    best_meta = json.loads((out / summary["best"]["run"] / "bundle.json").read_text())
    for section in ("model", "train"):
        assert reloaded[section] == best_meta["config"][section]
    assert reloaded["prep"]["image_size"] == 32  # the prepared data's, not the default


def _examples(folder: Path) -> list[tuple[str, str]]:
    import pandas as pd

    frame = pd.read_parquet(folder / "examples.parquet", columns=["id", "split"])
    return list(zip(frame["id"], frame["split"], strict=True))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "mmcli", *args]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_a_killed_search_resumes_and_two_processes_share_one_sqlite_study(prepared):
    """kill -9 during a trial; then two processes at once on the same SQLite study: the
    killed trial is failed and its settings re-queued once, and both processes add a trial."""
    import optuna
    from optuna.trial import TrialState

    out = prepared / "killed"
    out.mkdir()
    url = f"sqlite:///{out / 'tune.db'}"
    args = _tune_args(prepared, out, "--storage", url, "--study", "shared")
    process = subprocess.Popen(_cli(*args, "--trials", "10"), env=_env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline, running = time.monotonic() + 300, None
    while time.monotonic() < deadline and process.poll() is None and running is None:
        time.sleep(1)
        if not (out / "tune.db").exists():
            continue
        try:
            study = optuna.load_study(study_name="shared", storage=url)
        except Exception:  # noqa: BLE001 - tables or study not created yet: poll again
            continue
        running = next((t for t in study.get_trials(states=(TrialState.RUNNING,))
                        if t.params), None)
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert running is not None, (process.returncode, process.stderr.read().decode())

    processes = [subprocess.Popen(_cli(*args, "--trials", "1"), env=_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in processes]
    summaries = []
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        summaries.append(json.loads(stdout))
    assert [s["trials"]["added"] for s in summaries] == [1, 1]
    assert sorted(n for s in summaries for n in s["requeued"]) == [running.number]
    trials = {int(t["number"]): t for t in _states(out)}
    assert trials[running.number]["state"] == "FAIL"
    assert [t["state"] for n, t in sorted(trials.items()) if n != running.number] == \
        ["COMPLETE", "COMPLETE"]
    rerun = optuna.load_study(study_name="shared", storage=url).trials
    assert any(t.user_attrs.get("mmcli_requeued_from") == running.number
               and t.params == running.params and t.state == TrialState.COMPLETE
               for t in rerun)


def test_a_trial_below_the_median_is_pruned_after_its_warm_up_epoch(prepared, runner, app):
    """Three finished trials that scored 1.0 at every epoch sit in the study; a new trial
    that scores less at its second epoch (the first after the warm-up) is PRUNED: training
    stops there, the trial's run shows 2 of the 3 epochs asked for, and the summary counts it."""
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution

    out = prepared / "pruning"
    out.mkdir()
    url = f"sqlite:///{out / 'tune.db'}"
    study = optuna.create_study(study_name="pruning", storage=url, direction="maximize")
    distributions = {"model.fusion": CategoricalDistribution(["gated", "concat"]),
                     "train.learning_rate": FloatDistribution(1e-3, 1e-2, log=True)}
    for fusion in ("gated", "concat", "gated"):
        study.add_trial(optuna.trial.create_trial(
            params={"model.fusion": fusion, "train.learning_rate": 3e-3},
            distributions=distributions, value=1.0,
            intermediate_values={0: 1.0, 1: 1.0, 2: 1.0}))

    args = _tune_args(prepared, out, "--storage", url, "--study", "pruning", "--trials", "1")
    args[args.index("--epochs") + 1] = "3"
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["trials"]["added"] == 1 and summary["trials"]["pruned"] == 1
    assert summary["trials"]["complete"] == 3 and summary["best"]["number"] in (0, 1, 2)
    trials = {int(t["number"]): t for t in _states(out)}
    assert trials[3]["state"] == "PRUNED"
    added = optuna.load_study(study_name="pruning", storage=url).trials[3]
    assert sorted(added.intermediate_values) == [0, 1]
    assert max(added.intermediate_values.values()) < 1.0
    meta = json.loads((out / "runs" / "trial-0003" / "bundle.json").read_text())
    assert meta["training"]["epochs_run"] == 2
