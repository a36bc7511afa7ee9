"""Throughput and peak memory of ``mmcli preprocess`` on audio against a bare soundfile read +
soxr resample loop in a pool of the same processes.

Generated tables of 1,000 and 20,000 rows (``--rows``), each a 1 s mono 16-bit WAV at
22,050 Hz (a tone in noise), so every file is resampled to the default 16 kHz; written under
/tmp and deleted afterwards. For each: files/s of ``mmcli preprocess --workers N`` (the whole
command: start-up, reading, path checks, decoding, writing shards), files/s of the bare loop
(``soundfile.read`` + mono mix + ``soxr.resample``) in a "spawn" pool of N processes, their
ratio (goal >= 0.8), and the peak RSS of the preprocess process and of its process tree
(psutil, every 20 ms).

    python benchmarks/audio_preprocess.py [--rows 1000 20000] [--workers 2] [--out FILE.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
import psutil

RATE_IN, RATE_OUT = 22_050, 16_000


def _bare(path: str) -> int:
    import soundfile
    import soxr

    data, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return soxr.resample(data.mean(axis=1), rate, RATE_OUT, quality="HQ").size


def bare_loop(paths: list[str], workers: int) -> float:
    start = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for _ in pool.imap(_bare, paths, chunksize=64):
            pass
    return time.perf_counter() - start


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


def run_preprocess(table: Path, out: Path, workers: int) -> dict:
    cmd = [sys.executable, "-m", "mmcli", "preprocess", str(table), "--out", str(out),
           "--force", "--quiet", "--workers", str(workers)]
    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_main = peak_tree = 0
    while proc.poll() is None:
        try:
            main = proc.memory_info().rss
            tree = main + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            continue
        peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"mmcli preprocess failed: {stderr.decode()[-2000:]}")
    kept = json.loads(stdout)["kept"]
    return {"seconds": round(seconds, 2), "kept": kept, "peak_rss_mb": round(peak_main / 2**20),
            "peak_rss_tree_mb": round(peak_tree / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/results/audio_preprocess.md")
    args = parser.parse_args()
    results = []
    for rows in args.rows:
        folder = Path(tempfile.mkdtemp(prefix="mmcli-audio-bench-"))
        try:
            table, paths = write_table(folder, rows)
            ours = run_preprocess(table, folder / "prepared", args.workers)
            bare = bare_loop(paths, args.workers)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result = {"rows": rows, "workers": args.workers,
                  "mmcli_files_per_s": round(rows / ours["seconds"], 1),
                  "bare_files_per_s": round(rows / bare, 1),
                  "ratio_vs_bare": round(bare / ours["seconds"], 3), **ours}
        print(json.dumps(result), flush=True)
        results.append(result)
    lines = [f"| {r['rows']} | {r['mmcli_files_per_s']} | {r['bare_files_per_s']} | "
             f"{r['ratio_vs_bare']} | {r['peak_rss_mb']} | {r['peak_rss_tree_mb']} |"
             for r in results]
    Path(args.out).write_text("\n".join([
        "# Audio preprocess throughput and peak memory", "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, 2 cores shared with ~6 other agents (busy: "
        "figures are noisy and pessimistic)",
        f"- command: `python {' '.join(sys.argv)}`; 1 s 22.05 kHz WAVs resampled to 16 kHz, "
        f"{args.workers} processes for both", "",
        "| files | mmcli files/s | bare files/s | ratio | peak RSS MB | peak RSS tree MB |",
        "|---|---|---|---|---|---|", *lines, "",
        "Goal: ratio >= 0.8; peak memory nearly flat from 1,000 to 20,000 files.", "",
    ]))


if __name__ == "__main__":
    main()
