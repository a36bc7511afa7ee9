"""The decoding pool's processes: workers forked from a fork server that imported the
decoders' modules (mmcli.io.decode._pool_context); nothing left running after a pool, however
it ended; a dead worker is an error, not a hang; a later pool with other decoders works."""

import concurrent.futures.process
import os
import subprocess
import sys

import psutil
import pytest

from mmcli.io.decode import decode_jobs
from mmcli.io.images import ImageDecoder, ImageOptions


def _echo(payload):
    return {"payload": payload, "pid": os.getpid()}


def _die(payload):
    if payload == 5:
        os._exit(3)  # a worker killed mid-chunk (as by the OOM killer)
    return payload


def _no_children():
    """This process' children but multiprocessing's resource tracker (started once, kept)."""
    return [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)
            if p.status() != "zombie" and "resource_tracker" not in " ".join(p.cmdline())]


def test_a_pool_leaves_no_process_behind(tmp_path):
    decoder = ImageDecoder(ImageOptions(size=8))
    paths = [str(tmp_path / f"{i}.jpg") for i in range(10)]
    results = list(decode_jobs(((decoder, p) for p in paths), workers=2, chunk_size=2))
    assert [r.reason for _, r in results] == ["missing"] * 10
    assert _no_children() == []


def test_pools_in_a_row_with_other_decoders_give_every_result_in_order(tmp_path):
    decoder = ImageDecoder(ImageOptions(size=8))
    first = list(decode_jobs(((decoder, str(tmp_path / "x.png")) for _ in range(4)), workers=2,
                             chunk_size=1))
    assert [r.reason for _, r in first] == ["missing"] * 4
    second = list(decode_jobs(((_echo, i) for i in range(7)), workers=2, chunk_size=2))
    assert [(i, value["payload"]) for i, value in second] == [(i, i) for i in range(7)]
    assert os.getpid() not in {value["pid"] for _, value in second}  # in worker processes
    assert _no_children() == []


def test_a_dead_worker_raises_broken_pool_and_leaves_nothing_running():
    with pytest.raises(concurrent.futures.process.BrokenProcessPool):
        list(decode_jobs(((_die, i) for i in range(40)), workers=2, chunk_size=2))
    assert _no_children() == []


def test_the_console_scripts_module_imports_no_cli():
    """A worker re-runs the ``mmcli`` console script (``mmcli.__main__:main``) under another
    name: importing it must not import the CLI (Typer, rich, the commands)."""
    code = ("import sys, mmcli.__main__\n"
            "print(','.join(m for m in ('typer', 'rich', 'mmcli.cli.app', 'numpy')"
            " if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == ""


def test_a_pool_ending_while_another_threads_pool_runs_leaves_that_one_working():
    """Two threads' pools share the fork server: the first to end must not stop it under
    the other (stopping it waited on the other pool: a hang, then broken workers)."""
    import threading

    long_started, short_done = threading.Event(), threading.Event()
    results: dict[str, list] = {}

    def long_run():
        got = []
        for _, value in decode_jobs(((_echo, i) for i in range(60)), workers=2, chunk_size=2):
            got.append(value["payload"])
            if len(got) == 1:
                long_started.set()
                results["short_in_time"] = short_done.wait(20)
        results["long"] = got

    def short_run():
        long_started.wait(60)
        results["short"] = [v["payload"] for _, v in
                            decode_jobs(((_echo, i) for i in range(6)), workers=2, chunk_size=2)]
        short_done.set()

    threads = [threading.Thread(target=long_run), threading.Thread(target=short_run)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == {"long": list(range(60)), "short": list(range(6)), "short_in_time": True}
    assert _no_children() == []
