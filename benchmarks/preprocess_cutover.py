"""Where a decoding process pool starts to pay: seconds to decode N images in-process
and with a pool of all cores, for growing N. Prints JSON on stdout.

The cut-over found here is ``mmcli.io.decode.IN_PROCESS_BELOW``. The files are read once
before timing (both variants see a warm page cache), and the order of the two variants
alternates from one N and one repeat to the next (neither always goes first).

    REPEAT=3 nice -n 10 .venv/bin/python benchmarks/preprocess_cutover.py [IMAGE_FOLDER]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from mmcli.io.images import ImageOptions, decode_images

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import machine, write_result  # noqa: E402
from runs import spread  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "fashion30" / "images"


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    paths = sorted(folder.glob("*.jpg"))
    if not paths:
        print(json.dumps({"skipped": f"no JPEG files in {folder}"}))
        return
    options = ImageOptions(size=64)
    cores = os.cpu_count() or 1
    results = []
    for path in paths[:2400]:  # warm the page cache for every variant alike
        path.read_bytes()
    repeat = int(os.environ.get("REPEAT", "3"))
    for index, n in enumerate((100, 300, 600, 1200, 2400)):
        timing: dict[int, list[float]] = {1: [], cores: []}
        for r in range(repeat):
            for workers in (1, cores) if (index + r) % 2 == 0 else (cores, 1):
                start = time.perf_counter()
                for _ in decode_images(paths[:n], options, workers=workers):
                    pass
                timing[workers].append(time.perf_counter() - start)
        results.append({"images": n, "seconds_in_process": spread(timing[1]),
                        f"seconds_{cores}_processes": spread(timing[cores]),
                        "pool_over_in_process": spread(
                            [p / i for p, i in zip(timing[cores], timing[1], strict=True)])})
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    figures = {"machine": machine(), "image_size": 64, "folder": str(folder),
               "results": results}
    print(json.dumps(figures, indent=2))
    write_result("preprocess_cutover", figures, notes=(
        "Seconds to decode N images in-process and in a pool of all cores (spawn and worker "
        "imports included), warm page cache; REPEAT (3) runs of each, the order alternating "
        "from one N and one repeat to the next: median, min and max; shared machine (see "
        "load_average)."))


if __name__ == "__main__":
    main()
