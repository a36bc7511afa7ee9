"""The bare loops mmcli's preprocess is measured against, as functions and as a command.

Each decodes a file the way mmcli's decoder does and nothing else (no checks, no shards):

- ``image``: Pillow ``open`` + ``draft`` + ``convert("RGB")`` + bilinear ``resize`` to
  ``--size`` px (:func:`decode_image`);
- ``audio``: ``soundfile.read`` (float32) + mono mix + ``soxr.resample`` "HQ" to ``--rate`` Hz
  (:func:`decode_audio`).

The benchmarks call these functions in a "spawn" pool started inside the harness (imports
done, no interpreter start: the figure earlier sessions reported), and run this file as a
command, measured exactly as ``mmcli preprocess`` is (:func:`runs.run_command`: a new process
that starts Python, imports its libraries, reads the table and decodes in a pool of the same
processes, with the same RSS sampling). The command is the like-for-like figure: both sides
pay their start-up.

    python benchmarks/bare_loop.py {image,audio} TABLE --column COL [--workers N]

Reads a CSV table, takes ``COL`` of every row as a path (relative to the table's folder, as
mmcli reads it) and prints the number of files decoded.
"""

from __future__ import annotations

import argparse
import csv
import functools
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

SIZE = 64  # px, the benchmarks' --image-size
RATE = 16_000  # Hz, mmcli's default --audio-rate


def decode_image(path: str, size: int = SIZE) -> int:
    """What mmcli's image decoder does to a JPEG, and nothing else; returns the array's size."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        img.draft("RGB", (size, size))
        return np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)).size


def decode_image_full(path: str, size: int = SIZE) -> int:
    """:func:`decode_image` without ``draft`` (a full-size decode; reference only)."""
    import numpy as np
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR)).size


def decode_audio(path: str, rate: int = RATE) -> int:
    """Decode one file as mmcli does, with nothing else: float32 samples, mono mix (one
    channel as it is: ``mean(axis=1)`` of one column gives the same samples at 35-50 us more
    a file, found 2026-11-30), soxr "HQ" (tests/io/test_audio_samples.py: the same samples)."""
    import soundfile
    import soxr

    data, found = soundfile.read(path, dtype="float32", always_2d=True)
    wave = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    return soxr.resample(wave, found, rate, quality="HQ").size


def pool_loop(func: Callable[[str], int], paths: list[str], workers: int) -> float:
    """Seconds to run ``func`` over ``paths`` in a "spawn" pool of ``workers`` processes
    (in this process when ``workers`` <= 1), 64 paths a task."""
    start = time.perf_counter()
    if workers <= 1:
        for path in paths:
            func(path)
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap(func, paths, chunksize=64):
                pass
    return time.perf_counter() - start


def table_paths(table: Path, column: str) -> list[str]:
    """The ``column`` cells of a CSV table as paths (relative ones from the table's folder)."""
    with open(table, newline="") as handle:
        return [os.path.join(table.parent, row[column]) for row in csv.DictReader(handle)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["image", "audio"])
    parser.add_argument("table", type=Path)
    parser.add_argument("--column", required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--size", type=int, default=SIZE)
    parser.add_argument("--rate", type=int, default=RATE)
    args = parser.parse_args()
    paths = table_paths(args.table, args.column)
    func = (functools.partial(decode_image, size=args.size) if args.kind == "image"
            else functools.partial(decode_audio, rate=args.rate))
    pool_loop(func, paths, args.workers)
    print(len(paths))


if __name__ == "__main__":
    sys.exit(main())
