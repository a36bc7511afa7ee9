"""The cost of fsync: ``mmcli preprocess`` and ``mmcli train`` with mmcli's fsyncs as written
and with ``os.fsync`` made a no-op (the code before durability), run side by side.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/durability_cost.py [--repeat 3]

preprocess: sample_data (480 rows, 64 px) and, when present, ../shared/data/fashion30
(9,082 rows, 64 px, a 75 MB shard folder). train: sample_data at 32 px, 5 epochs (a
checkpoint fsynced per epoch, then the bundle). Each repeat runs both variants, alternating
which goes first; the best of each is reported with their ratio. Writes
``benchmarks/results/durability.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "data.csv"
FASHION = ROOT.parent / "shared" / "data" / "fashion30" / "data.csv"
NO_FSYNC = "import os, sys; os.fsync = lambda fd: None; from mmcli.cli.app import main; " \
           "sys.argv[0] = 'mmcli'; main()"
WITH_FSYNC = "import sys; from mmcli.cli.app import main; sys.argv[0] = 'mmcli'; main()"


def timed(code: str, args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed: {args}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def compare(name: str, args_for, repeat: int) -> dict:
    times = {"fsync": [], "no_fsync": []}
    for i in range(repeat):
        order = [("fsync", WITH_FSYNC), ("no_fsync", NO_FSYNC)]
        for label, code in order if i % 2 == 0 else order[::-1]:
            with tempfile.TemporaryDirectory(prefix="mmcli-bench-dur-") as work:
                times[label].append(timed(code, args_for(Path(work))))
    best = {k: min(v) for k, v in times.items()}
    result = {"case": name, "seconds": {k: [round(t, 2) for t in v] for k, v in times.items()},
              "best_fsync_s": round(best["fsync"], 2),
              "best_no_fsync_s": round(best["no_fsync"], 2),
              "ratio_fsync_over_no_fsync": round(best["fsync"] / best["no_fsync"], 3)}
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def fashion_table(folder: Path) -> Path | None:
    if not FASHION.is_file():
        return None
    table = folder / "fashion.csv"
    with open(FASHION, newline="") as src, open(table, "w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            writer.writerow({**row, "image": str((FASHION.parent / row["image"]).resolve())})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = [compare("preprocess sample_data 64 px", lambda w: [
        "preprocess", str(SAMPLE), "--out", str(w / "p"), "--image-size", "64", "--quiet"],
        args.repeat)]
    with tempfile.TemporaryDirectory(prefix="mmcli-bench-fashion-") as tables:
        table = fashion_table(Path(tables))
        if table is not None:
            results.append(compare("preprocess fashion30 64 px", lambda w: [
                "preprocess", str(table), "--out", str(w / "p"), "--image-size", "64",
                "--allow-outside-root", "--quiet"], args.repeat))
    results.append(compare("train sample_data 32 px 5 epochs", lambda w: [
        "train", str(SAMPLE), "--out", str(w / "b"), "--image-size", "32", "--epochs", "5",
        "--seed", "0", "--no-cache", "--quiet"], args.repeat))
    figures = {"machine": machine(), "results": results}
    print(json.dumps(figures, indent=2))
    write_result("durability", figures, notes=(
        "Wall time of the whole command with mmcli's fsyncs (`fsync`) and with `os.fsync` a "
        "no-op (`no_fsync`, the behaviour before), best of the repeats, alternating order. "
        "The machine was shared with other jobs (see load_average): read the ratio, not the "
        "seconds."))


if __name__ == "__main__":
    main()
