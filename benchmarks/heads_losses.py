"""Benchmark the head options on fashion30, text only: class weights and label smoothing.

fashion30 is imbalanced (Tshirts 1,647 rows, Kurtis 60), so balanced class weights may trade
accuracy for macro-F1. Text only keeps the run short (the image branch dominates cost and is
benchmarked with the encoders). Prints a Markdown table on stdout.

Usage: python benchmarks/heads_losses.py [--data ../shared/data/fashion30/data.csv]
           [--epochs 30] [--work /tmp/mmcli-bench-heads]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

RUNS = {
    "softmax (default)": [],
    "label smoothing 0.1": ["--label-smoothing", "0.1"],
    "class weight balanced": ["--class-weight", "balanced"],
    "balanced + smoothing 0.1": ["--class-weight", "balanced", "--label-smoothing", "0.1"],
}


def mmcli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mmcli", *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"mmcli {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = Path(__file__).resolve().parents[1]
    parser.add_argument("--data", type=Path,
                        default=here.parent / "shared" / "data" / "fashion30" / "data.csv")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/mmcli-bench-heads"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    table = args.work / "text.csv"
    with open(args.data, newline="", encoding="utf-8") as src, \
            open(table, "w", newline="", encoding="utf-8") as dst:
        rows = csv.DictReader(src)
        keep = [c for c in rows.fieldnames if c != "image"]
        writer = csv.DictWriter(dst, fieldnames=keep, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    prepared = args.work / "prepared"
    mmcli("preprocess", str(table), "--out", str(prepared), "--force", "--quiet")
    print("| head | test accuracy | macro-F1 | balanced accuracy | epochs (best) | train s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, extra in RUNS.items():
        bundle = args.work / name.replace(" ", "_").replace("(", "").replace(")", "")
        started = time.perf_counter()
        summary = json.loads(mmcli(
            "train", str(prepared), "--out", str(bundle), "--force", "--quiet",
            "--epochs", str(args.epochs), "--seed", str(args.seed), *extra,
        ))
        wall = time.perf_counter() - started
        metrics = json.loads(mmcli("evaluate", str(bundle), str(prepared), "--quiet"))
        run = summary["training"]
        print(f"| {name} | {metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} | "
              f"{metrics['balanced_accuracy']:.3f} | {run['epochs_run']} ({run['best_epoch']}) | "
              f"{run['seconds']:.0f} (wall {wall:.0f}) |", flush=True)


if __name__ == "__main__":
    main()
