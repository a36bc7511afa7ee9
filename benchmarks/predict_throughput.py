"""Benchmark ``mmcli predict`` on a bundle with the default model and both modalities:
throughput, memory as rows grow, and cold-start cost.

    PYTHONPATH=. nice -n 10 .venv/bin/python benchmarks/predict_throughput.py [--work DIR]

The bundle is trained on ../shared/data/fashion30 (image + text, 30 classes) with every
model default (frozen MobileNet 0.25 at the default 64 px with ImageNet weights, `bow` text,
late fusion with an auxiliary head per modality; ``--epochs 3`` only bounds the run and
changes nothing in the model). The ImageNet weights come from ../shared/weights through a
temporary Keras cache. Then:

1. Throughput (rows/s): every fashion30 row predicted (the whole command, start-up included).
2. Peak RSS of ``mmcli predict`` on tables of ``--sizes`` rows cycling over fashion30's
   rows (both modalities): memory should stay flat as rows grow.
3. Cold start: wall time of a one-row (image + text) ``mmcli predict`` on that bundle against
   ``python -c "import tensorflow"``, alternating their order (goal: at most 1.5 s more).

Prints one JSON document on stdout, writes ``benchmarks/results/predict_throughput.md``;
progress on stderr. Needs fashion30 and the shared weights (exits saying so otherwise).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_result  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT.parent / "shared" / "data" / "fashion30" / "data.csv"
if not FASHION.exists():
    FASHION = Path("/work/shared/data/fashion30/data.csv")
WEIGHTS = FASHION.parents[2] / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
MMCLI = [sys.executable, "-m", "mmcli"]


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


def bundle_for(table: Path, out: Path, *extra: str) -> Path:
    if (out / "bundle.json").exists():
        log(f"reusing {out}")
        return out
    log(f"training {out} on {table} ...")
    wall, _, _ = run([*MMCLI, "train", str(table), "--out", str(out), "--seed", "0", "--quiet",
                      *extra])
    log(f"  trained in {wall:.1f} s")
    return out


def default_bundle(work: Path) -> Path:
    """A bundle with every model default, trained on fashion30 (image + text)."""
    models = work / "keras-home" / "models"
    models.mkdir(parents=True, exist_ok=True)
    link = models / WEIGHTS.name
    if not link.exists():
        link.symlink_to(WEIGHTS)
    os.environ["KERAS_HOME"] = str(work / "keras-home")
    bundle = bundle_for(FASHION, work / "fashion-bundle", "--epochs", "3")
    model = json.loads((bundle / "bundle.json").read_text())["config"]["model"]
    if model["image_encoder"] != "mobilenet":
        raise SystemExit(f"the default backbone was not used: {model}")
    return bundle


def throughput(bundle: Path) -> dict:
    rows = sum(1 for _ in open(FASHION, encoding="utf-8")) - 1
    log(f"predicting {rows} fashion30 rows ...")
    wall, rss, _ = run([*MMCLI, "predict", str(bundle), str(FASHION), "--quiet"])
    return {"rows": rows, "seconds": round(wall, 2), "rows_per_second": round(rows / wall, 1),
            "peak_rss_mb": rss, "note": "wall time of the whole command, TensorFlow start "
            "included; images decoded from 224 px JPEGs"}


def cycled_table(path: Path, rows: int) -> Path:
    """``rows`` rows cycling over fashion30's (absolute image paths, no label)."""
    with open(FASHION, newline="", encoding="utf-8") as handle:
        source = list(csv.DictReader(handle))
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "text"])
        for i in range(rows):
            row = source[i % len(source)]
            writer.writerow([f"r{i}", str((FASHION.parent / row["image"]).resolve()),
                             row["text"]])
    return path


def memory(work: Path, bundle: Path, sizes: list[int]) -> dict:
    out = {}
    for rows in sizes:
        table = cycled_table(work / f"cycled-{rows}.csv", rows)
        log(f"predicting {rows} cycled fashion30 rows ...")
        wall, rss, _ = run([*MMCLI, "predict", str(bundle), str(table), "--quiet",
                            "--allow-outside-root"])
        out[str(rows)] = {"seconds": round(wall, 2), "rows_per_second": round(rows / wall, 1),
                          "peak_rss_mb": rss}
    return out


def cold_start(work: Path, bundle: Path, repeats: int) -> dict:
    one = cycled_table(work / "one-row.csv", 1)
    tf_times, predict_times = [], []
    steps = [("tf", [sys.executable, "-c", "import tensorflow"]),
             ("predict", [*MMCLI, "predict", str(bundle), str(one), "--quiet",
                          "--allow-outside-root"])]
    for i in range(repeats):
        for name, cmd in steps if i % 2 == 0 else steps[::-1]:
            (tf_times if name == "tf" else predict_times).append(run(cmd)[0])
    best_tf, best_predict = min(tf_times), min(predict_times)
    return {"import_tensorflow_s": [round(t, 2) for t in tf_times],
            "one_row_predict_s": [round(t, 2) for t in predict_times],
            "extra_s_best": round(best_predict - best_tf, 2),
            "goal_extra_s": 1.5, "meets_goal": best_predict - best_tf <= 1.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, help="keep bundles and tables here (reused)")
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not FASHION.exists() or not WEIGHTS.exists():
        raise SystemExit(f"needs {FASHION} and {WEIGHTS}")
    work = args.work or Path(tempfile.mkdtemp(prefix="mmcli-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    bundle = default_bundle(work)
    figures = {
        "machine": machine(),
        "model": json.loads((bundle / "bundle.json").read_text())["config"]["model"],
        "cold_start": cold_start(work, bundle, args.repeats),
        "fashion30": throughput(bundle),
        "memory": memory(work, bundle, [int(s) for s in args.sizes.split(",")]),
    }
    json.dump(figures, sys.stdout, indent=2)
    sys.stdout.write("\n")
    write_result("predict_throughput", figures, notes=(
        "Default model, both modalities, trained on fashion30. Wall times of whole commands "
        "on a machine shared with other jobs (see load_average)."))


if __name__ == "__main__":
    main()
