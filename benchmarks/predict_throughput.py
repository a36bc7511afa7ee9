"""Benchmark ``mmcli predict``: throughput, memory as rows grow, and cold-start cost.

    nice -n 10 .venv/bin/python benchmarks/predict_throughput.py [--work DIR] [--skip-fashion]

1. Throughput (rows/s) on ../shared/data/fashion30 (skipped when absent): a quick small bundle
   is trained first (32 px, 2 epochs; reused from --work if there), then every row is predicted.
2. Peak RSS of ``mmcli predict`` on generated text-only tables of 20,000 and 200,000 rows
   (a text-only bundle trained on 600 generated rows): memory should stay flat.
3. Cold start: wall time of a one-row ``mmcli predict`` against ``python -c "import
   tensorflow"`` in the same run (goal: at most 1.5 s more).

Prints one JSON document on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT.parent / "shared" / "data" / "fashion30" / "data.csv"
if not FASHION.exists():
    FASHION = Path("/work/shared/data/fashion30/data.csv")
BIN = Path(sys.executable).parent
MMCLI = [sys.executable, "-m", "mmcli"]
WORDS = {
    "sports": "ball goal team match score coach league field",
    "food": "bread soup salad cheese pasta apple rice sauce",
    "music": "guitar drum song album concert piano band tune",
    "travel": "train hotel beach flight map ticket island road",
}
FILLER = "the a of and with very new old red blue big small".split()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(cmd: list[str], **kwargs) -> tuple[float, int, subprocess.CompletedProcess | None]:
    """Run ``cmd``; return wall seconds and the child's peak RSS in MB (from wait4)."""
    start = time.perf_counter()
    stdout = kwargs.pop("stdout", subprocess.DEVNULL)
    process = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(cmd)}\n"
                         f"{process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss // 1024, process


def text_table(path: Path, rows: int, seed: int, *, labelled: bool) -> None:
    rng = random.Random(seed)
    labels = list(WORDS)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("id,text,label\n" if labelled else "id,text\n")
        for i in range(rows):
            label = labels[i % len(labels)]
            words = rng.sample(WORDS[label].split(), 2) + rng.sample(FILLER, 4)
            rng.shuffle(words)
            text = " ".join(words)
            handle.write(f"t{i},{text},{label}\n" if labelled else f"t{i},{text}\n")


def bundle_for(table: Path, out: Path, *extra: str) -> Path:
    if (out / "bundle.json").exists():
        log(f"reusing {out}")
        return out
    log(f"training {out} on {table} ...")
    wall, _, _ = run([*MMCLI, "train", str(table), "--out", str(out), "--seed", "0", "--quiet",
                      *extra])
    log(f"  trained in {wall:.1f} s")
    return out


def throughput(work: Path) -> dict:
    if not FASHION.exists():
        return {"skipped": f"{FASHION} not found"}
    bundle = bundle_for(FASHION, work / "fashion-bundle", "--image-size", "32", "--epochs", "2")
    rows = sum(1 for _ in open(FASHION, encoding="utf-8")) - 1
    log(f"predicting {rows} fashion30 rows ...")
    wall, rss, _ = run([*MMCLI, "predict", str(bundle), str(FASHION), "--quiet"])
    return {"rows": rows, "seconds": round(wall, 2), "rows_per_second": round(rows / wall, 1),
            "peak_rss_mb": rss, "note": "wall time of the whole command, TensorFlow start "
            "included; images are decoded from 224 px JPEGs"}


def memory(work: Path, sizes: list[int]) -> dict:
    train = work / "text-train.csv"
    text_table(train, 600, seed=1, labelled=True)
    bundle = bundle_for(train, work / "text-bundle", "--epochs", "3")
    out = {}
    for rows in sizes:
        table = work / f"text-{rows}.csv"
        if not table.exists():
            text_table(table, rows, seed=2, labelled=False)
        log(f"predicting {rows} generated text rows ...")
        wall, rss, _ = run([*MMCLI, "predict", str(bundle), str(table), "--quiet"])
        out[str(rows)] = {"seconds": round(wall, 2), "rows_per_second": round(rows / wall, 1),
                          "peak_rss_mb": rss}
    return out


def cold_start(work: Path, repeats: int) -> dict:
    bundle = work / "text-bundle"
    one = work / "one-row.csv"
    text_table(one, 1, seed=3, labelled=False)
    tf_times, predict_times = [], []
    for _ in range(repeats):
        tf_times.append(run([sys.executable, "-c", "import tensorflow"])[0])
        predict_times.append(run([str(BIN / "mmcli"), "predict", str(bundle), str(one),
                                  "--quiet"])[0])
    best_tf, best_predict = min(tf_times), min(predict_times)
    return {"import_tensorflow_s": [round(t, 2) for t in tf_times],
            "one_row_predict_s": [round(t, 2) for t in predict_times],
            "extra_s_best": round(best_predict - best_tf, 2),
            "goal_extra_s": 1.5, "meets_goal": best_predict - best_tf <= 1.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="keep bundles and tables here (reused)")
    parser.add_argument("--skip-fashion", action="store_true")
    parser.add_argument("--sizes", default="20000,200000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="mmcli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "nice": os.nice(0)},
        "memory_text_only": memory(work, [int(s) for s in args.sizes.split(",")]),
        "cold_start": cold_start(work, args.repeats),
        "fashion30": {"skipped": "--skip-fashion"} if args.skip_fashion else throughput(work),
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
