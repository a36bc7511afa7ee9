"""Benchmark issue 14's export and engines on fashion30 (image + text, 30 classes).

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/export_engines.py [--rows 2000]

A short training (``--rows`` rows of fashion30's training split, ``small_cnn`` at 32 px, 3
epochs: this measures the exports, not the model) writes a bundle with train's default LiteRT
export (its extra seconds are in ``training.engine_export``). Then:

1. Export checks: ``mmcli export`` to savedmodel, tflite and onnx, each checked on fashion30's
   test rows (``--test-rows``): rows, top-1 agreement, largest probability difference.
2. Cold start: wall time of a one-row ``mmcli predict --engine auto`` (LiteRT, no TensorFlow)
   against ``python -c "import tensorflow"`` and ``mmcli predict --engine tf``, alternating,
   ``--repeats`` times each; goal: auto at most 0.4 of the TensorFlow import.

Prints one JSON document, writes ``benchmarks/results/export_engines.md``; needs fashion30.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT.parent / "shared" / "data" / "fashion30" / "data.csv"
MMCLI = [sys.executable, "-m", "mmcli"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, done


def subset(work: Path, rows: int, test_rows: int) -> tuple[Path, Path]:
    """A training table (rows of the train split) and a test table (images read through
    ``--image-root``, which the bundle keeps)."""
    with open(FASHION, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    train = [r for r in table if r["split"] == "train"][:rows]
    test = [r for r in table if r["split"] == "test"][:test_rows]
    paths = []
    for name, part in (("train.csv", train), ("test.csv", test)):
        path = work / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(part[0]))
            writer.writeheader()
            writer.writerows(part)
        paths.append(path)
    return paths[0], paths[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--test-rows", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    if not FASHION.exists():
        raise SystemExit(f"needs {FASHION}")
    work = args.work or Path(tempfile.mkdtemp(prefix="mmcli-bench-export-"))
    work.mkdir(parents=True, exist_ok=True)
    train, test = subset(work, args.rows, args.test_rows)
    bundle = work / "bundle"
    log(f"training on {args.rows} rows -> {bundle}")
    wall, _ = timed([*MMCLI, "train", str(train), "--out", str(bundle), "--force", "--seed", "0",
                     "--image-encoder", "small_cnn", "--image-weights", "none", "--image-size",
                     "32", "--epochs", "3", "--image-root", str(FASHION.parent), "--quiet"])
    meta = json.loads((bundle / "bundle.json").read_text())
    figures: dict = {"train_rows": args.rows, "train_seconds": round(wall, 1),
                     "train_engine_export": meta["training"].get("engine_export"),
                     "validation_accuracy": meta["validation"].get("accuracy"), "exports": {}}
    for fmt in ("tflite", "onnx", "savedmodel"):
        log(f"export {fmt} ...")
        wall, done = timed([*MMCLI, "export", str(bundle), "--format", fmt, "--out",
                            str(work / f"out-{fmt}"), "--force", "--check-data", str(test),
                            "--check-rows", str(args.test_rows), "--quiet"])
        summary = json.loads(done.stdout)
        figures["exports"][fmt] = {**summary["check"], "command_seconds": round(wall, 1)}
    one = work / "one.csv"
    with open(test, newline="", encoding="utf-8") as handle:
        lines = handle.read().splitlines()[:2]
    one.write_text("\n".join(lines) + "\n", encoding="utf-8")
    runs: dict[str, list[float]] = {"predict_auto": [], "import_tensorflow": [],
                                    "predict_tf": []}
    commands = {
        "predict_auto": [*MMCLI, "predict", str(bundle), str(one), "--engine", "auto", "-q"],
        "import_tensorflow": [sys.executable, "-c", "import tensorflow"],
        "predict_tf": [*MMCLI, "predict", str(bundle), str(one), "--engine", "tf", "-q"],
    }
    for _ in range(args.repeats):
        for name, cmd in commands.items():
            runs[name].append(round(timed(cmd)[0], 2))
    medians = {k: statistics.median(v) for k, v in runs.items()}
    figures["cold_start_seconds"] = {"runs": runs, "median": medians,
                                     "auto_over_tf_import": round(
                                         medians["predict_auto"] / medians["import_tensorflow"],
                                         3)}
    print(json.dumps(figures, indent=2))
    path = write_result("export_engines", figures, notes=(
        "Short training on a fashion30 subset (small_cnn, 32 px, 3 epochs): the figures are "
        "about the exports and the engines, not accuracy. Export checks on fashion30 test rows; "
        "cold start of a one-row predict, medians of alternating runs."))
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
