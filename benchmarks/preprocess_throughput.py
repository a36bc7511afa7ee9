"""Throughput and peak memory of ``mmcli preprocess`` against a bare Pillow loop.

Datasets: ``../shared/data/fashion30`` (9,082 224 px JPEGs; a table with absolute paths
is written to a temporary folder and preprocessed with ``--allow-outside-root``), and
generated tables of 5,000 and 50,000 rows of small JPEGs (written under /tmp and
deleted afterwards). For each: images/s of ``mmcli preprocess --workers N`` (the whole
command: start-up, reading, cleaning, decoding, writing shards) and of a bare loop doing
what mmcli's decoder does to a JPEG (``Image.open`` + ``draft`` + ``convert("RGB")`` +
``resize``, :mod:`bare_loop`) over the same files in a pool of the same N processes, run two
ways:

- ``bare_command`` (like for like): ``benchmarks/bare_loop.py`` run as a command and measured
  exactly as mmcli is (:func:`runs.run_command`: interpreter start, imports, reading the
  table, the pool, the same RSS sampling every 20 ms); ratios ``ratio_vs_bare_command``;
- ``bare_draft``: the same loop in a pool started inside this harness (no interpreter start,
  imports done, no RSS sampling while it runs): the figure sessions 1-5 reported, kept for
  comparison; it flatters the bare side by its start-up; ratios ``ratio_vs_bare_draft``.

Also the peak RSS of the preprocess process and of its whole process tree. The bare loop
without ``draft`` (full-size decode) is reported for reference only: mmcli never decodes that
way, so no ratio is taken against it. The runs of each repeat alternate their order.

    nice -n 10 .venv/bin/python benchmarks/preprocess_throughput.py [--rows 5000 50000]
        [--before DIR]

``--before DIR`` (a checkout of an older mmcli, e.g. ``git archive REV mmcli | tar -x -C
DIR``) adds its ``mmcli preprocess`` as one more step of every repeat, interleaved with the
others, and reports its ratios beside this checkout's. Both checkouts' bytecode is compiled
first, as an installed package's is (:func:`runs.checkout_env`).

Prints JSON on stdout and writes ``benchmarks/results/preprocess_throughput.md``; progress
on stderr. Skips fashion30 when ../shared/data is absent.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bare_loop as bare  # noqa: E402
from results import machine, write_result  # noqa: E402
from runs import checkout_env, ratios, run_command, run_loop, spread  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT.parent / "shared" / "data" / "fashion30"
MMCLI = [sys.executable, "-m", "mmcli"]  # run with PYTHONPATH set to the checkout measured
SIZE = 64
CHECKOUTS: dict[str, dict[str, str]] = {}  # "mmcli" (this checkout), "before": environment


def bare_loop(paths: list[str], workers: int, draft: bool) -> float:
    """Seconds for the bare Pillow loop over ``paths`` in ``workers`` processes, started in
    this process (imports done, no interpreter start)."""
    func = bare.decode_image if draft else bare.decode_image_full
    return bare.pool_loop(functools.partial(func, size=SIZE), paths, workers)


def bare_command(table: Path, workers: int, count: int) -> dict:
    """The bare loop with ``draft`` run as a command (``benchmarks/bare_loop.py``), measured
    as ``mmcli preprocess`` is: its start-up, table read and pool included."""
    run = run_command([sys.executable, bare.__file__, "image", str(table), "--column", "image",
                       "--workers", str(workers), "--size", str(SIZE)])
    if int(run.pop("stdout")) != count:
        raise SystemExit("the bare command decoded another number of files")
    return run


def run_preprocess(table: Path, out: Path, workers: int, extra: list[str],
                   env: dict[str, str] | None = None) -> dict:
    """Run ``mmcli preprocess``: wall and CPU seconds, peak RSS of it and its children."""
    cmd = [*MMCLI, "preprocess", str(table), "--out", str(out), "--force", "--quiet",
           "--image-size", str(SIZE), "--workers", str(workers), *extra]
    run = run_command(cmd, env=env)
    run["kept"] = json.loads(run.pop("stdout"))["kept"]
    return run


REPEAT = 3


def measure(name: str, table: Path, paths: list[str], workers: int, extra: list[str]) -> dict:
    """``REPEAT`` interleaved runs of each, alternating their order (the machine is shared:
    the median and the spread of the per-repeat ratios are reported)."""
    n = len(paths)
    print(f"{name}: {n} images, {workers} processes", file=sys.stderr, flush=True)
    for path in paths:  # into the page cache: no step reads them cold from disk (the first would)
        Path(path).read_bytes()
    runs, bares, drafts, befores, commands = [], [], [], [], []
    for repeat in range(REPEAT):
        steps = ["mmcli", "draft", *(["before"] if "before" in CHECKOUTS else []), "bare",
                 "command"]
        for step in steps if repeat % 2 == 0 else steps[::-1]:  # alternate: no order favoured
            if step in ("mmcli", "before"):
                with tempfile.TemporaryDirectory(prefix="mmcli-bench-out-") as work:
                    (runs if step == "mmcli" else befores).append(run_preprocess(
                        table, Path(work) / "prepared", workers, extra, CHECKOUTS.get(step)))
            elif step == "command":
                commands.append(bare_command(table, workers, len(paths)))
            else:
                draft = step == "draft"
                (drafts if draft else bares).append(
                    run_loop(lambda draft=draft: bare_loop(paths, workers, draft=draft)))
        print(json.dumps({"repeat": repeat, "mmcli": runs[-1], "bare_draft": drafts[-1],
                          "bare_command": commands[-1]}), file=sys.stderr, flush=True)
    wall, cpu = ratios(drafts, runs)
    command_wall, command_cpu = ratios(commands, runs)
    median = statistics.median
    result = {
        "dataset": name, "rows": n, "workers": workers, "repeats": REPEAT,
        "mmcli_images_per_s": round(n / median(r["seconds"] for r in runs), 1),
        "bare_draft_images_per_s": round(n / median(d["seconds"] for d in drafts), 1),
        "ratio_vs_bare_draft": wall,
        "cpu_ratio_vs_bare_draft": cpu,
        "mmcli_cpu_s": spread([r["cpu_s"] for r in runs]),
        "bare_draft_cpu_s": spread([d["cpu_s"] for d in drafts]),
        "bare_command_images_per_s": round(n / median(c["seconds"] for c in commands), 1),
        "ratio_vs_bare_command": command_wall,
        "cpu_ratio_vs_bare_command": command_cpu,
        "bare_command_cpu_s": spread([c["cpu_s"] for c in commands]),
        "bare_full_decode_images_per_s": round(n / median(b["seconds"] for b in bares), 1),
        "seconds": spread([r["seconds"] for r in runs]),
        "kept": runs[0]["kept"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "peak_rss_tree_mb": max(r["peak_rss_tree_mb"] for r in runs),
    }
    if befores:
        result["before"] = {
            "ratio_vs_bare_draft": ratios(drafts, befores)[0],
            "cpu_ratio_vs_bare_draft": ratios(drafts, befores)[1],
            "ratio_vs_bare_command": ratios(commands, befores)[0],
            "mmcli_cpu_s": spread([r["cpu_s"] for r in befores]),
            "seconds": spread([r["seconds"] for r in befores]),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in befores),
            "peak_rss_tree_mb": max(r["peak_rss_tree_mb"] for r in befores),
        }
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def fashion(workers: int) -> dict | None:
    source = FASHION / "data.csv"
    if not source.is_file():
        print(f"skipping fashion30: {source} not found", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory(prefix="mmcli-bench-fashion-") as work:
        table = Path(work) / "data.csv"
        paths = []
        with open(source, newline="") as src, open(table, "w", newline="") as dst:
            reader = csv.DictReader(src)
            writer = csv.DictWriter(dst, fieldnames=reader.fieldnames)
            writer.writeheader()
            for row in reader:
                row["image"] = str((FASHION / row["image"]).resolve())
                paths.append(row["image"])
                writer.writerow(row)
        return measure("fashion30", table, paths, workers, ["--allow-outside-root"])


def generated(rows: int, folder: Path, workers: int) -> dict:
    """A table of ``rows`` rows over small generated JPEGs (made once, reused)."""
    images = folder / "images"
    images.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (64, 3))
    existing = len(list(images.iterdir()))
    for i in range(existing, rows):
        img = Image.new("RGB", (96, 96), tuple(int(c) for c in colours[i % 64]))
        img.paste(tuple(int(c) for c in colours[(i * 7) % 64]), (i % 40, 20, 60, 60))
        img.save(images / f"g{i:06d}.jpg", quality=85)
    table = folder / f"data-{rows}.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "text", "label"])
        for i in range(rows):
            writer.writerow([f"g{i:06d}", f"images/g{i:06d}.jpg",
                             f"item number {i} colour {i % 64}", f"class_{i % 5}"])
    paths = [str(images / f"g{i:06d}.jpg") for i in range(rows)]
    return measure(f"generated-{rows}", table, paths, workers, [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[5000, 50000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each")
    parser.add_argument("--before", type=Path, help="an older checkout to interleave with")
    args = parser.parse_args()
    CHECKOUTS["mmcli"] = checkout_env(ROOT)
    if args.before:
        CHECKOUTS["before"] = checkout_env(args.before.resolve())
    global REPEAT
    REPEAT = max(1, args.repeat)
    results = []
    found = fashion(args.workers)
    if found:
        results.append(found)
    folder = Path(tempfile.mkdtemp(prefix="mmcli-bench-gen-", dir="/tmp"))
    try:
        for rows in sorted(args.rows):
            results.append(generated(rows, folder, args.workers))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    figures = {"machine": machine(), "image_size": SIZE, "repeat": REPEAT,
               "before": str(args.before) if args.before else None, "results": results}
    print(json.dumps(figures, indent=2))
    write_result("preprocess_throughput", figures, notes=(
        "mmcli preprocess (whole command, start-up included) against a bare Pillow loop with "
        "`draft` in a pool of the same processes, run as a command measured the same way "
        "(`ratio_vs_bare_command`, like for like) and inside the harness (`ratio_vs_bare_draft`"
        ": no interpreter start for the bare side); wall seconds, and CPU seconds of every "
        "process (`cpu_ratio_*`: barely depends on how busy the machine is). Median, min and "
        "max over `repeat` interleaved runs of each, order alternating; see load_average for "
        "how busy the machine was."))


if __name__ == "__main__":
    main()
