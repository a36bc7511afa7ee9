"""Throughput and peak memory of ``mmcli preprocess`` on audio against a bare soundfile read +
soxr resample loop in a pool of the same processes.

Generated tables of 1,000 and 20,000 rows (``--rows``), each a 1 s mono 16-bit WAV at
22,050 Hz (a tone in noise), so every file is resampled to the default 16 kHz; written under
/tmp and deleted afterwards. For each: files/s of ``mmcli preprocess --workers N`` (the whole
command: start-up, reading, path checks, decoding, writing shards), files/s of the bare loop
(``soundfile.read`` + mono mix + ``soxr.resample``, float32 and "HQ" as mmcli's,
:mod:`bare_loop`) in a "spawn" pool of N processes, run two ways: as a command measured
exactly as mmcli is (``benchmarks/bare_loop.py``: interpreter start, imports, reading the
table, the pool, the same RSS sampling; ``ratio_vs_bare_command``, like for like) and in a
pool started inside this harness (imports done: ``ratio_vs_bare``, the figure sessions 1-5
reported); the ratios (goal >= 0.8), and the peak RSS of the preprocess process and of its
process tree (psutil, every 20 ms).

    python benchmarks/audio_preprocess.py [--rows 1000 20000] [--workers 2] [--out FILE.md]
        [--before DIR]

``--before DIR`` (an older checkout) adds its ``mmcli preprocess`` to every repeat,
interleaved, and reports its ratios too; both checkouts' bytecode is compiled first, as an
installed package's is (:func:`runs.checkout_env`).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bare_loop as bare  # noqa: E402
from runs import checkout_env, ratios, run_command, run_loop, spread  # noqa: E402

RATE_IN, RATE_OUT = 22_050, 16_000
ROOT = Path(__file__).resolve().parents[1]
CHECKOUTS: dict[str, dict[str, str]] = {}  # "mmcli" (this checkout), "before": environment


def bare_loop(paths: list[str], workers: int) -> float:
    """Seconds for the bare loop over ``paths`` in a pool started in this process (imports
    done, no interpreter start)."""
    return bare.pool_loop(functools.partial(bare.decode_audio, rate=RATE_OUT), paths, workers)


def bare_command(table: Path, workers: int, count: int) -> dict:
    """The bare loop run as a command (``benchmarks/bare_loop.py``), measured as ``mmcli
    preprocess`` is: its start-up, table read and pool included."""
    run = run_command([sys.executable, bare.__file__, "audio", str(table), "--column", "audio",
                       "--workers", str(workers), "--rate", str(RATE_OUT)])
    if int(run.pop("stdout")) != count:
        raise SystemExit("the bare command decoded another number of files")
    return run


def write_table(folder: Path, rows: int) -> tuple[Path, list[str]]:
    rng = np.random.default_rng(0)
    (folder / "audio").mkdir(parents=True)
    t = np.arange(RATE_IN) / RATE_IN
    paths = []
    with open(folder / "data.csv", "w") as handle:
        handle.write("id,audio,label\n")
        for i in range(rows):
            signal = 0.3 * np.sin(2 * np.pi * rng.uniform(200, 2000) * t)
            signal += rng.normal(0, 0.05, len(t))
            path = folder / "audio" / f"a{i}.wav"
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(RATE_IN)
                out.writeframes((signal * 32767).astype("<i2").tobytes())
            paths.append(str(path))
            handle.write(f"a{i},audio/a{i}.wav,{i % 2}\n")
    return folder / "data.csv", paths


def run_preprocess(table: Path, out: Path, workers: int,
                   env: dict[str, str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "mmcli", "preprocess", str(table), "--out", str(out),
           "--force", "--quiet", "--workers", str(workers)]
    run = run_command(cmd, env=env)
    run["kept"] = json.loads(run.pop("stdout"))["kept"]
    return run


def measure(rows: int, workers: int, repeat: int) -> dict:
    """``repeat`` interleaved runs of mmcli and of the bare loop, order alternating."""
    folder = Path(tempfile.mkdtemp(prefix="mmcli-audio-bench-"))
    try:
        table, paths = write_table(folder, rows)
        ours, loops, befores, commands = [], [], [], []
        steps = ["mmcli", *(["before"] if "before" in CHECKOUTS else []), "bare", "command"]
        for i in range(repeat):
            for step in steps if i % 2 == 0 else steps[::-1]:
                if step in ("mmcli", "before"):
                    (ours if step == "mmcli" else befores).append(run_preprocess(
                        table, folder / "prepared", workers, CHECKOUTS.get(step)))
                    shutil.rmtree(folder / "prepared", ignore_errors=True)
                elif step == "command":
                    commands.append(bare_command(table, workers, len(paths)))
                else:
                    loops.append(run_loop(lambda: bare_loop(paths, workers)))
            print(json.dumps({"rows": rows, "mmcli": ours[-1], "bare": loops[-1],
                              "bare_command": commands[-1]}), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    median = statistics.median
    before = {} if not befores else {"before": {
        "ratio_vs_bare": ratios(loops, befores)[0],
        "cpu_ratio_vs_bare": ratios(loops, befores)[1],
        "ratio_vs_bare_command": ratios(commands, befores)[0],
        "mmcli_cpu_s": spread([r["cpu_s"] for r in befores]),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in befores)}}
    return {**before, "rows": rows, "workers": workers, "repeats": repeat,
            "mmcli_files_per_s": round(rows / median(r["seconds"] for r in ours), 1),
            "bare_files_per_s": round(rows / median(b["seconds"] for b in loops), 1),
            "ratio_vs_bare": ratios(loops, ours)[0],
            "cpu_ratio_vs_bare": ratios(loops, ours)[1],
            "bare_command_files_per_s": round(rows / median(c["seconds"] for c in commands), 1),
            "ratio_vs_bare_command": ratios(commands, ours)[0],
            "cpu_ratio_vs_bare_command": ratios(commands, ours)[1],
            "mmcli_cpu_s": spread([r["cpu_s"] for r in ours]),
            "bare_cpu_s": spread([b["cpu_s"] for b in loops]),
            "kept": ours[0]["kept"],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in ours),
            "peak_rss_tree_mb": max(r["peak_rss_tree_mb"] for r in ours)}


def _cell(figure: dict) -> str:
    return f"{figure['median']} ({figure['min']}-{figure['max']})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each")
    parser.add_argument("--out", default="benchmarks/results/audio_preprocess.md")
    parser.add_argument("--before", type=Path, help="an older checkout to interleave with")
    args = parser.parse_args()
    CHECKOUTS["mmcli"] = checkout_env(ROOT)
    if args.before:
        CHECKOUTS["before"] = checkout_env(args.before.resolve())
    results = []
    for rows in args.rows:
        result = measure(rows, args.workers, max(1, args.repeat))
        print(json.dumps(result), flush=True)
        results.append(result)
    lines = [f"| {r['rows']} | {r['mmcli_files_per_s']} | {r['bare_command_files_per_s']} | "
             f"{_cell(r['ratio_vs_bare_command'])} | {_cell(r['cpu_ratio_vs_bare_command'])} | "
             f"{r['bare_files_per_s']} | {_cell(r['ratio_vs_bare'])} | "
             f"{_cell(r['cpu_ratio_vs_bare'])} | {r['peak_rss_mb']} | {r['peak_rss_tree_mb']} |"
             for r in results]
    Path(args.out).write_text("\n".join([
        "# Audio preprocess throughput and peak memory", "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{[round(x, 2) for x in os.getloadavg()]} at the end (shared with other agents: "
        "wall figures are noisy and pessimistic; the CPU ratio barely depends on the load)",
        f"- command: `python {' '.join(sys.argv)}`; 1 s 22.05 kHz WAVs resampled to 16 kHz, "
        f"{args.workers} processes for both; {args.repeat} interleaved runs of each, order "
        "alternating: median (min-max) of the per-run ratios; files/s from median seconds", "",
        "Bare loop run two ways: as a command (`benchmarks/bare_loop.py`, measured as mmcli "
        "is: interpreter start, imports, table read, pool; like for like) and in a pool started "
        "inside the harness (no interpreter start for the bare side: the figure sessions 1-5 "
        "reported).", "",
        "| files | mmcli files/s | bare command files/s | ratio (wall) | ratio (CPU s) "
        "| bare in-harness files/s | ratio (wall) | ratio (CPU s) | peak RSS MB "
        "| peak RSS tree MB |",
        "|---|---|---|---|---|---|---|---|---|---|", *lines, "",
        "Goal: ratio >= 0.8; peak memory nearly flat from 1,000 to 20,000 files.", "",
        "```json", json.dumps(results, indent=2), "```", "",
    ]))


if __name__ == "__main__":
    main()
