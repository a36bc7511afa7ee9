"""CPU per file of mmcli's audio decoding (``mmcli.io.audio.load_audio``: header checks,
duration guard, read, mono mix, NaN guard, soxr "HQ", cut/pad, clip, silence check) against
the bare loop's ``soundfile.read`` + mono mix + ``soxr.resample`` of
``benchmarks/audio_preprocess.py``, in this one process: no pool, no start-up, no shards.

The files are audio_preprocess.py's (1 s mono 16-bit WAVs at 22,050 Hz, resampled to 16 kHz).
Each repeat decodes every file with each contender, blocks of 50 files in turn (order
rotating: the machine is shared); CPU seconds (``time.process_time``) per file, median
(min-max) over repeats, and the per-repeat ratio bare / mmcli (above 1: mmcli's decoding
costs less than the bare loop's).

    python benchmarks/audio_decode_cost.py [--files 1000] [--repeat 8] [--before DIR]
        [--out FILE.md]

``--before DIR`` (an older checkout) adds its ``mmcli/io/audio.py``, loaded from that file.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_preprocess import write_table  # noqa: E402
from bare_loop import decode_audio  # noqa: E402
from runs import spread  # noqa: E402


def _load_audio_of(checkout: Path):
    """``load_audio`` and ``AudioOptions`` of ``checkout/mmcli/io/audio.py``."""
    spec = importlib.util.spec_from_file_location(
        f"audio_before_{abs(hash(checkout))}", checkout / "mmcli" / "io" / "audio.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.load_audio, module.AudioOptions


def measure(paths: list[str], contenders: dict, repeat: int, block: int = 50) -> dict:
    """Per-file CPU microseconds of each contender. Interleaved finely, as the machine is
    shared: each block of ``block`` files is decoded by every contender in turn (order
    rotating), so a change of load between blocks touches all of them alike. A block's
    results are held until it ends, as a worker holds its chunk's (what a decoder returns
    decides what stays allocated: a view of a library's buffer keeps that buffer)."""
    for decode in contenders.values():  # warm: imports, the page cache
        for path in paths[:50]:
            decode(path)
    names = list(contenders)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(repeat):
        spent = dict.fromkeys(names, 0.0)
        for b, at in enumerate(range(0, len(paths), block)):
            chunk = paths[at:at + block]
            turn = (i + b) % len(names)
            for name in names[turn:] + names[:turn]:
                decode, start = contenders[name], time.process_time()
                kept = [decode(path) for path in chunk]  # held as a pool's chunk holds them
                del kept
                spent[name] += time.process_time() - start
        for name in names:
            times[name].append(spent[name] / len(paths) * 1e6)
    return {name: {"us_per_file": spread(values),
                   "bare_over_this": spread([b / v for b, v in zip(times["bare"], values,
                                                                    strict=True)])}
            for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=8)
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    parser.add_argument("--out", default="benchmarks/results/audio_decode_cost.md")
    args = parser.parse_args()
    from mmcli.io.audio import AudioOptions, load_audio

    options = AudioOptions()
    contenders = {"mmcli": lambda path: load_audio(path, options), "bare": decode_audio}
    if args.before:
        before, before_options = _load_audio_of(args.before.resolve())
        old = before_options()
        contenders["before"] = lambda path: before(path, old)
    folder = Path(tempfile.mkdtemp(prefix="mmcli-audio-decode-"))
    try:
        _, paths = write_table(folder, args.files)
        result = measure(paths, contenders, max(1, args.repeat))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result), flush=True)
    rows = [f"| {name} | {r['us_per_file']['median']} ({r['us_per_file']['min']}-"
            f"{r['us_per_file']['max']}) | {r['bare_over_this']['median']} "
            f"({r['bare_over_this']['min']}-{r['bare_over_this']['max']}) |"
            for name, r in result.items()]
    Path(args.out).write_text("\n".join([
        "# Audio decoding's CPU per file: mmcli against the bare loop, in one process", "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, load average "
        f"{[round(x, 2) for x in os.getloadavg()]} at the end",
        f"- command: `python {' '.join(sys.argv)}`; {args.files} 1 s 22.05 kHz WAVs to 16 kHz; "
        f"{args.repeat} repeats, contenders interleaved every 50 files", "",
        "| decoder | CPU us/file | bare / this |", "|---|---|---|", *rows, "",
        "```json", json.dumps(result, indent=2), "```", "",
    ]))


if __name__ == "__main__":
    main()
