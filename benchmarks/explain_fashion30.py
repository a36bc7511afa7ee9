"""Benchmark ``mmcli explain`` on fashion30: 100 held-out rows.

    nice -n 10 .venv/bin/python benchmarks/explain_fashion30.py [--work DIR] [--rows 100]

A bundle is trained first (reused from --work if there): frozen MobileNet (alpha 0.25) with
the pretrained weights in ../shared/weights at 128 px, bag-of-words text, gated fusion,
8 epochs. Then ``mmcli explain`` runs in a child process over the first ``--rows`` test rows
(given with --ids), twice: the first run prepares the table into the cache if it is not there
(``seconds_first_run``); the second is timed (``seconds``, goal: under 60 s) with the
child's peak RSS, and gives the share
of rows whose top token is a word of the article type (``Tshirts`` -> ``tshirt``,
``tshirts``). Skipped (exit 0, a note) when fashion30 or the weights are absent.

Writes ``benchmarks/results/explain_fashion30.json`` and prints it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
if not (SHARED / "data").exists():
    SHARED = Path("/work/shared")
FASHION = SHARED / "data" / "fashion30" / "data.csv"
WEIGHTS = SHARED / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
MMCLI = [sys.executable, "-m", "mmcli"]
RESULT = ROOT / "benchmarks" / "results" / "explain_fashion30.json"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(cmd: list[str]) -> tuple[float, int]:
    """Run ``cmd``; wall seconds and the child's peak RSS in MB (from wait4)."""
    start = time.perf_counter()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss // 1024


def article_words(label: str) -> set[str]:
    words = {w.lower() for w in label.replace("-", " ").split()}
    return words | {w[:-1] for w in words if w.endswith("s")} | {w + "s" for w in words}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, default=Path("/tmp/mmcli-bench-explain"))
    parser.add_argument("--rows", type=int, default=100)
    args = parser.parse_args()
    if not FASHION.exists() or not WEIGHTS.exists():
        log(f"skipped: {FASHION} or {WEIGHTS} is absent")
        return
    bundle = args.work / "bundle"
    if not (bundle / "bundle.json").exists():
        log("training the bundle (frozen MobileNet 128 px, bow, gated, 8 epochs) ...")
        seconds, _ = run([*MMCLI, "train", str(FASHION), "--out", str(bundle), "--force",
                          "--image-size", "128", "--image-encoder", "mobilenet",
                          "--image-weights", str(WEIGHTS), "--freeze-backbone",
                          "--epochs", "8", "--seed", "0", "--quiet"])
        log(f"  trained in {seconds:.0f} s")
    with open(FASHION, newline="", encoding="utf-8") as handle:
        test = [r for r in csv.DictReader(handle) if r["split"] == "test"][:args.rows]
    out = args.work / "explained"
    command = [*MMCLI, "explain", str(bundle), str(FASHION), "--out", str(out), "--force",
               "--quiet", "--ids", ",".join(r["id"] for r in test)]
    log(f"explaining {len(test)} test rows (first run: prepares the table if not cached) ...")
    first, _ = run(command)
    log(f"  {first:.1f} s; again, the prepared table cached ...")
    seconds, peak = run(command)
    records = [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]
    truth = {r["id"]: r["label"] for r in test}
    top_is_type = [
        r["tokens"]["text"][0][0].lower().strip(".,-()") in article_words(truth[r["id"]])
        for r in records if r["tokens"].get("text")
    ]
    efficiency = max(abs(sum(r["shapley"].values())
                         - (r["target_probability"] - r["empty_probability"]))
                     for r in records)
    result = {
        "benchmark": "explain_fashion30", "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other jobs: "
                   "busy)",
        "rows": len(records), "seconds": round(seconds, 1), "seconds_first_run": round(first, 1),
        "seconds_per_row": round(seconds / max(1, len(records)), 3), "peak_rss_mb": peak,
        "top_token_is_article_type": round(sum(top_is_type) / max(1, len(top_is_type)), 3),
        "correct": round(sum(r["label"] == truth[r["id"]] for r in records) / len(records), 3),
        "mean_abs_shapley": {m: round(sum(abs(r["shapley"][m]) for r in records)
                                      / len(records), 4) for m in records[0]["shapley"]},
        "max_efficiency_gap": efficiency,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
