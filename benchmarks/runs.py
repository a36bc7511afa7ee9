"""Measuring a command and a bare loop alike on a shared machine: wall seconds, CPU seconds
(the process and every process it waited for), peak RSS; median and spread of repeats.

CPU seconds barely depend on how busy the machine is, wall seconds do: the benchmarks report
both, and the ratio of each.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil


def run_command(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` (with ``env``, default this process's); sample the RSS of it and its
    children every 20 ms.

    Returns:
        ``seconds`` (wall), ``cpu_s`` (user + system of the process and of the children it
        reaped, from ``wait4``), ``peak_rss_mb`` (the process), ``peak_rss_tree_mb`` (with
        its children), ``stdout``.

    Raises:
        SystemExit: the command failed (its stderr's end in the message).
    """
    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    peak_main = peak_tree = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            main = proc.memory_info().rss
            tree = main + sum(c.memory_info().rss for c in proc.children(recursive=True))
        except psutil.Error:
            continue
        peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    stdout, stderr = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:4]} failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    return {"seconds": round(seconds, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": round(peak_main / 2**20),
            "peak_rss_tree_mb": round(peak_tree / 2**20), "stdout": stdout}


def run_loop(loop: Callable[[], object]) -> dict:
    """Run ``loop()`` (a bare loop that starts and joins its own process pool) and return its
    wall ``seconds`` and ``cpu_s`` (this process plus the pool's reaped workers)."""
    before = _cpu()
    start = time.perf_counter()
    loop()
    return {"seconds": round(time.perf_counter() - start, 2), "cpu_s": round(_cpu() - before, 2)}


def _cpu() -> float:
    own, children = (resource.getrusage(who) for who in
                     (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def spread(values: list[float]) -> dict:
    """``{"median", "min", "max"}`` of repeated figures (rounded to 3 places)."""
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def ratios(bare: list[dict], ours: list[dict]) -> tuple[dict, dict]:
    """The spread of the per-repeat ratios bare over ours: wall seconds (throughput ratio)
    and CPU seconds, the i-th run of each paired (runs interleaved)."""
    pairs = list(zip(ours, bare, strict=True))
    return (spread([b["seconds"] / r["seconds"] for r, b in pairs]),
            spread([b["cpu_s"] / r["cpu_s"] for r, b in pairs]))


def checkout_env(root: Path | str) -> dict[str, str]:
    """This process's environment with ``PYTHONPATH`` set to ``root`` (a checkout holding
    ``mmcli/``), after compiling its modules' bytecode into ``__pycache__``.

    An installed package has its bytecode compiled at install time, but this machine sets
    PYTHONDONTWRITEBYTECODE, so an uncompiled checkout would compile ~60 modules from source
    in every run (0.15-0.3 s of CPU a process) and be measured slower than any user's.

    ``PYTHONSAFEPATH`` is set: ``python -m mmcli`` otherwise puts the current folder first on
    ``sys.path``, so a harness started from a checkout's root (as documented) imported that
    checkout's mmcli whatever ``PYTHONPATH`` said: its ``--before`` runs measured this
    checkout again (found 2026-11-30 20:20; before/after pairs measured so were one code twice).
    """
    import compileall

    compileall.compile_dir(str(Path(root) / "mmcli"), quiet=1)
    return {**os.environ, "PYTHONPATH": str(root), "PYTHONSAFEPATH": "1"}
