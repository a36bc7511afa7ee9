"""The defaults table (issue 16): candidate model settings on tables of different sizes,
chosen on a VALIDATION split of the training rows (train's own report), the test split
reported after. Every run goes through the CLI; train seconds and the train process's peak
memory (max RSS) are recorded.

Tables: sample_data/four.csv (image, text, audio tone, number; 16 labels needing all four),
a ~500-row stratified subset of ../shared/data/fashion30 (image + text), ../shared/data/
avdigits (image + spoken digit), and fashion30 whole. Tables whose data is absent are
skipped.

Usage: python benchmarks/defaults_table.py [--tables four,fashion500,avdigits]
       [--candidates late_aux,late,gated_aux] [--epochs 20] [--out ROWS.jsonl]
       python benchmarks/defaults_table.py --markdown ROWS.jsonl [ROWS.jsonl ...]
(the rows, one JSON object per run, are appended to ROWS.jsonl; --markdown prints them as
the table of benchmarks/results/defaults.md)
"""

from __future__ import annotations

import argparse
import csv
import datetime
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
SHARED = ROOT / ".." / "shared"
WEIGHTS = SHARED / "weights" / "mobilenet_2_5_224_tf_no_top.h5"

# name -> (what it is, --set / flags)
CANDIDATES = {
    "late_aux": ("late fusion, auxiliary heads 0.5",
                 ["--fusion", "late", "--set", "model.aux_loss_weight=0.5"]),
    "late": ("late fusion, no auxiliary heads", ["--fusion", "late",
                                                  "--set", "model.aux_loss_weight=0"]),
    "gated_aux": ("gated fusion, auxiliary heads 0.5",
                  ["--fusion", "gated", "--set", "model.aux_loss_weight=0.5"]),
    "gated": ("gated fusion, no auxiliary heads",
              ["--fusion", "gated", "--set", "model.aux_loss_weight=0"]),
    "late_aux_drop0": ("late fusion, auxiliary heads 0.5, head dropout 0",
                       ["--fusion", "late", "--set", "model.aux_loss_weight=0.5",
                        "--set", "model.dropout=0"]),
    "late_aux_224": ("late fusion, auxiliary heads 0.5, 224 px (frozen backbone's size)",
                     ["--fusion", "late", "--set", "model.aux_loss_weight=0.5"]),
}
PREP = {"late_aux_224": ["--image-size", "224"]}  # preparation flags of a candidate


def _fashion_subset(tmp: Path, n: int = 500) -> tuple[Path, list[str]]:
    source = SHARED / "data" / "fashion30"
    rows = list(csv.DictReader(open(source / "data.csv")))
    rng = random.Random(0)
    rng.shuffle(rows)
    by_label: dict[str, list] = {}
    for row in rows:
        by_label.setdefault(row["label"], []).append(row)
    share = n / len(rows)
    picked = [r for group in by_label.values() for r in group[:max(2, round(len(group) * share))]]
    table = tmp / "fashion500.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(picked)
    return table, ["--image-root", str(source.resolve())]


def tables(tmp: Path) -> dict[str, tuple[Path, list[str]]]:
    out: dict[str, tuple[Path, list[str]]] = {}
    out["four"] = (ROOT / "sample_data" / "four.csv", [])
    if (SHARED / "data" / "fashion30" / "data.csv").is_file():
        out["fashion500"] = _fashion_subset(tmp)
        out["fashion30"] = (SHARED / "data" / "fashion30" / "data.csv", [])
    avdigits = SHARED / "data" / "avdigits"
    if (avdigits / "data.csv").is_file():
        out["avdigits"] = (avdigits / "data.csv", [
            "--image-root", str(avdigits.resolve()), "--audio-rate", "8000",
            "--audio-seconds", "1.0", "--image-size", "32"])
    return out


def run(argv: list[str]) -> tuple[dict, float, float]:
    """(JSON on stdout, wall seconds, the process's peak RSS in MB)."""
    started = time.time()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, "-m", "mmcli", *argv], stdout=out,
                                   stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.time() - started
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise RuntimeError(f"mmcli {' '.join(argv[:3])} failed: {err.read()[-1500:]}")
        return json.loads(out.read()), seconds, usage.ru_maxrss / 1024


def markdown(paths: list[str]) -> str:
    """The rows of one or more ROWS.jsonl files as a markdown table."""
    rows = [json.loads(line) for p in paths for line in open(p) if line.strip()]
    out = ["| table | candidate | epochs (run) | val acc | test acc | each alone (test) | "
           "contribution (test) | fusion weights | own heads (val) | train s | peak MB |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]

    def short(d):
        if not d:
            return "-"
        values = {k.removesuffix("_only"): v["accuracy"] if isinstance(v, dict) else v
                  for k, v in d.items()}
        return " ".join(f"{k} {v:.2f}" for k, v in values.items())
    for r in rows:
        out.append(f"| {r['table']} | {r['candidate']} | {r['epochs']} ({r['epochs_run']}) | "
                   f"{r['val_accuracy']:.3f} | {r['test_accuracy']:.3f} | "
                   f"{short(r['test_alone'])} | {short(r['test_contribution'])} | "
                   f"{short(r['fusion_weights'])} | {short(r['auxiliary_val'])} | "
                   f"{r['train_seconds']:.0f} | {r['peak_mb']} |")
    return "\n".join(out)


def main() -> None:
    if sys.argv[1:2] == ["--markdown"]:
        print(markdown(sys.argv[2:]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", default="four,fashion500,avdigits")
    parser.add_argument("--candidates", default="late_aux,late,gated_aux")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default="benchmarks/results/defaults_rows.jsonl")
    args = parser.parse_args()
    weights = ["--image-weights", str(WEIGHTS.resolve())] if WEIGHTS.is_file() else []
    with tempfile.TemporaryDirectory() as tmp:
        known = tables(Path(tmp))
        for table_name in args.tables.split(","):
            if table_name not in known:
                print(f"skipped {table_name}: no data", file=sys.stderr)
                continue
            table, flags = known[table_name]
            # the weights file stands in for Keras' cache (offline here); avdigits' 32 px
            # images take the defaults' own fallback (small_cnn under 64 px)
            given = weights if table_name != "avdigits" else []
            prepared: dict[tuple, Path] = {}
            for name in args.candidates.split(","):
                what, extra = CANDIDATES[name]
                bundle = Path(tmp) / f"{table_name}-{name}"
                sized = [*flags, *PREP.get(name, [])]
                try:
                    key = tuple(sized)
                    if key not in prepared:  # preprocessing is not part of training's cost
                        prepared[key] = Path(tmp) / f"{table_name}-prep{len(prepared)}"
                        run(["preprocess", str(table), "--out", str(prepared[key]),
                             "--quiet", *sized])
                    data = str(prepared[key])
                    meta, seconds, peak = run([
                        "train", data, "--out", str(bundle), "--epochs",
                        str(args.epochs), "--seed", "0", "--quiet", *given, *extra])
                    test, _, _ = run(["evaluate", str(bundle), data, "--split", "test",
                                      "--quiet"])
                except RuntimeError as exc:
                    print(f"{table_name} {name}: {exc}", file=sys.stderr)
                    continue
                val = meta["validation"]
                row = {
                    "table": table_name, "candidate": name, "what": what,
                    "val_accuracy": round(val["accuracy"], 4),
                    "test_accuracy": round(test["accuracy"], 4),
                    "test_alone": test.get("modalities"),
                    "test_contribution": test.get("modality_contribution"),
                    "fusion_weights": test.get("fusion_weights"),
                    "auxiliary_val": meta["training"].get("auxiliary"),
                    "epochs_run": meta["training"]["epochs_run"],
                    "train_seconds": round(seconds, 1), "peak_mb": round(peak),
                    "date": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
                    "machine": f"{platform.machine()}, 2 cores shared with ~8 agents (busy)",
                    "epochs": args.epochs,
                }
                with open(args.out, "a") as handle:
                    handle.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
