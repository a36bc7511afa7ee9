"""A guess, from the command line alone, that ``mmcli preprocess TABLE --out DIR`` will decode
its files in a pool: then the pool's fork server starts at the very start of the process
(:func:`mmcli.io.server.warm_start`), before Typer, NumPy and the table are even imported
or read, and is ready when the first rows are planned.

Nothing here imports Typer, NumPy or pandas, reads more than the table's first 64 KB, or
raises: a command line this module does not understand, or a table it cannot peek at, is
simply no guess. A wrong guess costs one idle process that stops as soon as preprocess
knows better (:func:`mmcli.data.decoding.early_server`), or when the command ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Iterator, Sequence

SAMPLE_BYTES = 64 << 10  # how much of the table is read to guess its rows and files
# preprocess' options that take no value (tests/cli/test_warm.py checks them against the
# command's); every other option takes one
FLAGS = frozenset({"--check", "--need-label", "--allow-outside-root", "--lowercase",
                   "--no-lowercase", "--allow-missing-modality", "--force", "--quiet", "-q",
                   "--help"})
_NO_POOL = frozenset({"--check", "--help"})  # nothing decoded in a pool (or nothing at all)
# Each file kind's decoder module (what the fork server preloads) and file suffixes, as the
# kinds declare them (modalities/image.py, audio.py: tests/cli/test_warm.py checks they
# agree): written out because importing the registry costs 0.02 s before the server starts.
DECODERS = {
    "mmcli.io.images": (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff",
                        ".avif"),
    "mmcli.io.audio": (".wav", ".flac", ".ogg", ".oga", ".mp3"),
}
IMAGE_DIR_DECODER = "mmcli.io.images"  # with --image-dir, one image per row
_SEPARATORS = b"\"',;|\t\r\n "


@contextlib.contextmanager
def warm(argv: Sequence[str]) -> Iterator[None]:
    """Run the block (the ``mmcli`` command, ``argv`` the arguments after ``mmcli``) with the
    fork server started now when it looks like a preprocess that will use a pool
    (:func:`guess`); it stops when that pool ends, or by the end of the block. In a
    preprocess, a stopped server exits while the command goes on, and is reaped by the end
    of the block (:func:`mmcli.io.server.reaping_later`); OpenBLAS runs one thread (unless
    ``OPENBLAS_NUM_THREADS`` says otherwise)."""
    if not argv or argv[0] != "preprocess":
        yield
        return
    # Preprocess multiplies no matrices: OpenBLAS' threads, started when NumPy loads, would
    # spin ~0.1 CPU s in this process and as much in the fork server, taken from the workers.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from mmcli.io.server import reaping_later, warm_start

    modules = guess(argv)
    with reaping_later(), (warm_start(modules, fork=True) if modules
                                else contextlib.nullcontext()):
        yield


def guess(argv: Sequence[str]) -> tuple[str, ...]:
    """The decoder modules a coming decoding pool will import, or () when no pool is likely.

    A pool is likely for ``preprocess TABLE --out DIR`` (not ``--check``, not
    ``--workers 1``) when TABLE is a text table (CSV, TSV, JSON Lines) whose estimated number of
    file cells (its size over its first 64 KB's, times the cells there ending in an image
    or audio suffix; every row with ``--image-dir``) reaches
    :data:`mmcli.io.decode.IN_PROCESS_BELOW`. Never raises.
    """
    try:
        return _guess(list(argv))
    except Exception:  # noqa: BLE001 - a guess: the command itself reports every problem
        return ()


def _guess(argv: list[str]) -> tuple[str, ...]:
    if not argv or argv[0] != "preprocess":
        return ()
    table, values = _parse(argv[1:])
    if table is None or "--out" not in values or set(values) & _NO_POOL:
        return ()
    workers = int(values.get("--workers", "0"))
    from mmcli.io.decode import decode_workers

    info = os.stat(table)
    if not stat.S_ISREG(info.st_mode):
        return ()  # a pipe (<(zcat ...)) would lose what is read here
    size = info.st_size
    with open(table, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES).lower()
    if sample.startswith(b"par1") or values.get("--input-format") == "parquet":
        return ()  # Parquet: rows not countable from its first bytes
    scale = size / max(len(sample), 1)  # the whole file over its sample
    found = {module: len(re.findall(_ending(suffixes), sample)) * scale
             for module, suffixes in DECODERS.items()}  # estimated cells in the whole table
    if "--image-dir" in values:  # the file named after each row's id
        found[IMAGE_DIR_DECODER] = max(sample.count(b"\n") - 1, 0) * scale
    found = {module: cells for module, cells in found.items() if cells}
    if decode_workers(int(sum(found.values())), workers) <= 1:
        return ()
    return tuple(sorted(found))


def _ending(suffixes: Sequence[str]) -> bytes:
    """A pattern of a cell ending in one of ``suffixes`` (then a separator, a quote or the
    end of the line)."""
    either = b"|".join(re.escape(s.encode()) for s in suffixes)
    return b"(?:" + either + b")(?=[" + re.escape(_SEPARATORS) + b"]|$)"


def _parse(args: list[str]) -> tuple[str | None, dict[str, str]]:
    """The first positional argument (the table) and the options given, by their long name
    (``-o`` is ``--out``, ``--format`` is ``--input-format``), each with its last value."""
    alias = {"-o": "--out", "--format": "--input-format"}
    table: str | None = None
    values: dict[str, str] = {}
    items = iter(args)
    for item in items:
        if item == "--":
            table = table if table is not None else next(items, None)
            break
        if not item.startswith("-") or item == "-":
            table = item if table is None else table
            continue
        name, inline, value = item.partition("=")
        if item in FLAGS:
            values[item] = ""
            continue
        if not inline and item.startswith("-o") and not item.startswith("--") and len(item) > 2:
            name, value = "-o", item[2:]  # -oDIR
        elif not inline:
            value = next(items, "")
        values[alias.get(name, name)] = value
    return (None if table == "-" else table), values
