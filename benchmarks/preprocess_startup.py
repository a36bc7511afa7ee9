"""CPU seconds of ``mmcli preprocess`` where start-up dominates, against an older checkout.

Two generated tables (under /tmp, deleted afterwards): ``tiny``, 12 rows of text (nothing to
decode: the command is its imports, option parsing, reading and writing), and ``pool``, 2,400
rows of 32 px JPEGs with ``--workers 2`` (above ``IN_PROCESS_BELOW``: the decoding pool starts
and its workers import their libraries; the decoding itself is small). Each table is run
``--repeat`` times by both checkouts, the two runs of a pair in alternating order, and the
CPU seconds of every process (``runs.run_command``: the process and the children it reaped)
are reported: median and spread of each, and of the per-pair difference (before - this), the
figure to read on a busy machine, where a single run's CPU seconds swing by 0.2 s or more.

    python benchmarks/preprocess_startup.py --before DIR [--repeat 15]

Prints JSON on stdout and writes ``benchmarks/results/preprocess_startup.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_result  # noqa: E402
from runs import checkout_env, run_command, spread  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def tables(folder: Path) -> dict[str, tuple[Path, list[str]]]:
    """The two tables and their extra flags."""
    tiny = folder / "tiny.csv"
    with open(tiny, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "label"])
        for i in range(12):
            writer.writerow([f"t{i}", f"a short text number {i}", f"c{i % 3}"])
    (folder / "images").mkdir()
    pool = folder / "pool.csv"
    with open(pool, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "label"])
        for i in range(2400):
            shade = (i * 37) % 256
            Image.new("RGB", (32, 32), (shade, 255 - shade, 128)).save(
                folder / "images" / f"p{i}.jpg", quality=80)
            writer.writerow([f"p{i}", f"images/p{i}.jpg", f"c{i % 3}"])
    return {"tiny": (tiny, []), "pool": (pool, ["--image-size", "32", "--workers", "2"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="an older checkout")
    parser.add_argument("--repeat", type=int, default=15, help="pairs of runs per table")
    args = parser.parse_args()
    envs = {"mmcli": checkout_env(ROOT), "before": checkout_env(args.before.resolve())}
    folder = Path(tempfile.mkdtemp(prefix="mmcli-bench-startup-", dir="/tmp"))
    results = []
    try:
        for name, (table, extra) in tables(folder).items():
            cpu: dict[str, list[float]] = {"mmcli": [], "before": []}
            for repeat in range(max(1, args.repeat)):
                order = ["mmcli", "before"] if repeat % 2 == 0 else ["before", "mmcli"]
                for side in order:
                    out = folder / f"out-{side}"
                    run = run_command([sys.executable, "-m", "mmcli", "preprocess", str(table),
                                       "--out", str(out), "--force", "--quiet", *extra],
                                      env=envs[side])
                    cpu[side].append(run["cpu_s"])
                print(json.dumps({"table": name, "repeat": repeat,
                                  **{k: v[-1] for k, v in cpu.items()}}), file=sys.stderr,
                      flush=True)
            saved = [b - m for b, m in zip(cpu["before"], cpu["mmcli"], strict=True)]
            results.append({"table": name, "pairs": len(saved),
                            "mmcli_cpu_s": spread(cpu["mmcli"]),
                            "before_cpu_s": spread(cpu["before"]),
                            "before_minus_mmcli_cpu_s": spread(saved)})
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {"machine": machine(), "before": str(args.before), "results": results}
    print(json.dumps(figures, indent=2))
    write_result("preprocess_startup", figures, notes=(
        "CPU seconds (every process) of `mmcli preprocess` on a 12-row text table (start-up, "
        "nothing decoded) and on 2,400 32 px JPEGs with 2 workers (the decoding pool's "
        "start), this checkout against `before`, pairs in alternating order. Read the "
        "per-pair difference: single runs swing with the load."))


if __name__ == "__main__":
    main()
