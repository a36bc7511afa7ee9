"""``mmcli tune`` against the defaults on a 1,000-row fashion30 subset (issue 16).

Usage: nice -n 10 .venv/bin/python benchmarks/tune_fashion30.py [--trials 20] [--rows 1000]

Takes ``--rows`` training rows of fashion30 (seeded, each label's share of the train split)
and ``--test-rows`` of its test rows, prepares them at 64 px, then through the CLI:
``train`` with the defaults, ``tune --trials N --refit`` over this file's space (the default
space with a smaller epochs budget and the prepared image size), and ``evaluate --split test``
on both bundles. Tuning never reads the test rows. The frozen MobileNet uses the shared ImageNet
weights file. Writes ``benchmarks/results/tune_fashion30.md`` and ``.json`` and prints the
table. Skips (exit 0) when ``../shared/data/fashion30`` is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MMCLI_FASHION30", ROOT.parent / "shared/data/fashion30"))
WEIGHTS = ROOT.parent / "shared/weights/mobilenet_2_5_224_tf_no_top.h5"
RESULTS = ROOT / "benchmarks" / "results"
# The default space (mmcli/tune/space.py) with epochs 5-15 and the image encoder fixed to the
# default frozen MobileNet (features computed once per trial): on 2 shared cores a small_cnn
# trial of 5 epochs took 10.6 min here, a budget the time box could not hold 20 times.
SPACE = """
[model.fusion]
choices = ["gated", "late", "attention", "concat"]
[model.text_encoder]
choices = ["bow", "embedding", "cnn"]
[train.learning_rate]
low = 3e-4
high = 1e-2
log = true
[model.dropout]
low = 0.0
high = 0.5
[model.modality_dropout]
low = 0.0
high = 0.4
[model.embed_dim]
choices = [32, 64, 128]
[train.epochs]
low = 5
high = 15
step = 5
"""


def mmcli(*args: str) -> tuple[dict, float]:
    """Run the CLI; its JSON stdout and the wall seconds."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mmcli", *args], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if done.returncode != 0:
        sys.exit(f"mmcli {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout), time.perf_counter() - started


def subset(work: Path, rows: int, test_rows: int, seed: int) -> Path:
    import pandas as pd

    frame = pd.read_csv(DATA / "data.csv", dtype=str, keep_default_na=False)
    train, test = frame[frame["split"] == "train"], frame[frame["split"] == "test"]
    picked = train.groupby("label").sample(frac=rows / len(train), random_state=seed)
    table = pd.concat([picked, test.sample(test_rows, random_state=seed)])
    path = work / "subset.csv"
    table.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--test-rows", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=None, help="tune's --timeout (s)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the runs here; a prepared folder and default bundle already "
                             "there are reused")
    args = parser.parse_args()
    if not (DATA / "data.csv").exists():
        print(f"skipped: {DATA} not found", file=sys.stderr)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="mmcli-tune-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    prep = work / "prep"
    if not (prep / "schema.json").exists():
        table = subset(work, args.rows, args.test_rows, args.seed)
        mmcli("preprocess", str(table), "--out", str(prep), "--image-root", str(DATA), "-q",
              "--force")
    weights = ["--set", f"model.image_weights={WEIGHTS}"]
    if not (work / "default" / "bundle.json").exists():
        mmcli("train", str(prep), "--out", str(work / "default"), "--seed", str(args.seed),
              "-q", "--force", *weights)
    default = json.loads((work / "default" / "bundle.json").read_text())
    default_test, _ = mmcli("evaluate", str(work / "default"), str(prep), "--split", "test")
    (work / "space.toml").write_text(SPACE, encoding="utf-8")
    summary, tune_wall = mmcli("tune", str(prep), "--out", str(work / "search"), "--space",
                               str(work / "space.toml"), "--trials", str(args.trials),
                               "--refit", "--seed", str(args.seed), "-q", *weights,
                               *(["--timeout", str(args.timeout)] if args.timeout else []))
    tuned_test, _ = mmcli("evaluate", summary["bundle"], str(prep), "--split", "test")
    tuned_meta = json.loads((Path(summary["bundle"]) / "bundle.json").read_text())
    result = {
        "rows": args.rows, "test_rows": args.test_rows, "trials": summary["trials"],
        "best": summary["best"], "nproc": os.cpu_count(),
        "default": {"validation": default["validation"]["accuracy"],
                    "test": default_test["accuracy"],
                    "wall": round(default["training"]["seconds"], 1)},
        "tuned": {"validation": tuned_meta["validation"]["accuracy"],
                  "test": tuned_test["accuracy"], "wall": round(tune_wall, 1)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tune_fashion30.json").write_text(json.dumps(result, indent=2) + "\n")
    table_md = render(result)
    (RESULTS / "tune_fashion30.md").write_text(table_md)
    print(table_md)


def render(result: dict) -> str:
    d, t = result["default"], result["tuned"]
    counts = ", ".join(f"{k} {v}" for k, v in result["trials"].items())
    params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result["best"]["params"].items())
    return "\n".join([
        f"# mmcli tune on fashion30: {result['rows']} training rows, "
        f"{result['test_rows']} test rows (64 px)",
        "",
        "| run | validation accuracy | test accuracy | wall (s) |",
        "| --- | --- | --- | --- |",
        f"| defaults (`train`) | {d['validation']:.3f} | {d['test']:.3f} | {d['wall']} "
        "(fit) |",
        f"| `tune` best, refit | {t['validation']:.3f} | {t['test']:.3f} | {t['wall']} "
        "(whole search + refit) |",
        "",
        f"Trials: {counts}. Best trial {result['best']['number']}: {params}.",
        "",
    ])


if __name__ == "__main__":
    main()
