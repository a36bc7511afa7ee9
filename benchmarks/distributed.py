"""Distributed training and sharded preprocessing, timed through the CLI.

Training (sample_data prepared at 32 px, small_cnn + bow, the same global batch and seed):
wall time of the whole command and the bundle's samples/s (training rows x epochs / seconds
in the epochs) for 1 process, MirroredStrategy over 2 logical CPU devices, and 2 workers on
loopback (MultiWorkerMirroredStrategy). With ``--gpus N`` (a GPU machine): 1 GPU
(``--strategy one``) against ``--strategy mirrored`` on N GPUs, and the scaling efficiency
(samples/s on N / (N x samples/s on 1)).

Preprocessing: a generated table of ``--rows`` text rows prepared as 1 part, then as 2 parts
(``--shard 1/2``, ``--shard 2/2``) run in parallel.

Usage: python benchmarks/distributed.py [--epochs 3] [--rows 50000] [--gpus N]
           [--out benchmarks/results/distributed.md]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from launch_local_workers import launch, wait_all  # noqa: E402


def mmcli(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mmcli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(proc.args)} failed: {err[-2000:]}")
    return out


def timed_train(name: str, argv: list[str], env=None, workers: int = 0, work: Path = None):
    out = work / name
    started = time.perf_counter()
    if workers:
        status = wait_all(launch([sys.executable, "-m", "mmcli", *argv, "--out", str(out)],
                                 workers, work / f"{name}-logs", env), timeout=3600)
        if status:
            raise SystemExit(f"{name}: workers failed ({status}); see {work / (name + '-logs')}")
    else:
        finish(mmcli([*argv, "--out", str(out)], env))
    wall = time.perf_counter() - started
    meta = json.loads((out / "bundle.json").read_text())
    return {"setup": name, "wall_s": round(wall, 1),
            "samples_per_s": meta["training"]["samples_per_second"],
            "epochs_s": meta["training"]["seconds"],
            "replicas": meta["training"]["distribution"]["replicas"],
            "val_accuracy": meta["validation"].get("accuracy")}


def generated_table(path: Path, rows: int) -> None:
    words = "red blue green sun rain wind cold warm hill boat star tea".split()
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "text", "label"])
        for i in range(rows):
            out.writerow([f"r{i}", " ".join(words[(i * k) % 12] for k in (1, 3, 7, 11)),
                          "ab"[i % 2]])


def preprocess_parts(table: Path, work: Path) -> list[dict]:
    started = time.perf_counter()
    finish(mmcli(["preprocess", str(table), "--out", str(work / "whole"), "--quiet"]))
    one = time.perf_counter() - started
    started = time.perf_counter()
    procs = [mmcli(["preprocess", str(table), "--out", str(work / f"part-{i}"), "--shard",
                    f"{i}/2", "--quiet"]) for i in (1, 2)]
    for proc in procs:
        finish(proc)
    two = time.perf_counter() - started
    return [{"setup": "1 part", "wall_s": round(one, 1)},
            {"setup": "2 parts in parallel", "wall_s": round(two, 1)}]


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k)) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--gpus", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/distributed.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mmcli-bench-") as tmp:
        work = Path(tmp)
        finish(mmcli(["preprocess", str(ROOT / "sample_data" / "data.csv"), "--out",
                      str(work / "prep"), "--image-size", "32", "--quiet"]))
        common = ["train", str(work / "prep"), "--image-encoder", "small_cnn", "--epochs",
                  str(args.epochs), "--seed", "1", "--batch-size", "32", "--quiet"]
        cpu = {"CUDA_VISIBLE_DEVICES": ""}
        if args.gpus:
            runs = [timed_train("1 GPU", [*common, "--strategy", "one"], work=work),
                    timed_train(f"{args.gpus} GPUs", [*common, "--strategy", "mirrored"],
                                work=work)]
            runs[1]["efficiency"] = round(
                runs[1]["samples_per_s"] / (args.gpus * runs[0]["samples_per_s"]), 3)
        else:
            runs = [timed_train("1 process", [*common, "--strategy", "one"], cpu, work=work),
                    timed_train("2 logical CPUs (mirrored)", [*common, "--strategy",
                                "mirrored"], {**cpu, "MMCLI_LOGICAL_CPUS": "2"}, work=work),
                    timed_train("2 workers (loopback)", common[:1] + common[1:], cpu,
                                workers=2, work=work)]
        generated_table(work / "big.csv", args.rows)
        prep = preprocess_parts(work / "big.csv", work)
    load = os.getloadavg()
    text = (f"# Distributed training and sharded preprocessing\n\n"
            f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
            f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the end "
            f"(the machine is shared). `python benchmarks/distributed.py --epochs "
            f"{args.epochs} --rows {args.rows}`\n\n## Training (sample_data, 32 px, "
            f"global batch 32, {args.epochs} epochs)\n\n{table(runs)}\n\n"
            f"## Preprocess of {args.rows} generated text rows\n\n{table(prep)}\n")
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
