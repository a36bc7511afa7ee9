"""``mmcli preprocess`` of a large table starts its decoding pool's fork server at the very
start of the process, on a guess from the command line and the table's first bytes
(``mmcli/cli/warm.py``); a small table starts none; a guess that turns out wrong (a usage
error after the start) leaves no process behind."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mmcli import modalities
from mmcli.cli import warm
from mmcli.io.decode import IN_PROCESS_BELOW
from tests.cli.tables import png_table

# Runs the console script's main() as `mmcli ARGS`, recording each start of the fork server
# (whether Typer was imported by then, and its pid), whether the server still ran when main()
# ended and whether each server was gone then (exited and reaped), and the shared-memory
# rings made; written as JSON to $PROBE_OUT.
PROBE = r"""
import json, os, sys
from multiprocessing import forkserver
from mmcli.io import ring

starts, rings = [], []
ensure_running = forkserver.ForkServer.ensure_running

def recording(self):
    fresh = self._forkserver_pid is None
    ensure_running(self)
    if fresh:
        starts.append({"typer": "typer" in sys.modules, "pid": self._forkserver_pid,
                       "forked": False})

forkserver.ForkServer.ensure_running = recording
forkserver.ensure_running = lambda: recording(forkserver._forkserver)
from mmcli.io import forked  # the console script's warm start forks the server instead
fork_server = forked._fork_server

def forking(server, preload):
    fork_server(server, preload)
    starts.append({"typer": "typer" in sys.modules, "pid": server._forkserver_pid,
                   "forked": True})

forked._fork_server = forking
ring_init = ring.Ring.__init__

def made(self, *args):
    ring_init(self, *args)
    rings.append(self.memory.name)

ring.Ring.__init__ = made
sys.argv = ["mmcli", *sys.argv[1:]]
code = 0
try:
    import mmcli.cli.quick_exit
    from mmcli.__main__ import main

    def ends(code):  # the process goes on to write what the test reads
        sys.exit(mmcli.cli.quick_exit.exit_status(code))

    mmcli.cli.quick_exit.quick_exit = ends
    main()
except SystemExit as exc:
    code = exc.code
with open(os.environ["PROBE_OUT"], "w") as handle:
    json.dump({"code": code, "starts": starts, "rings": rings,
               "running_at_end": forkserver._forkserver._forkserver_pid is not None,
               "gone_at_end": [not os.path.exists(f"/proc/{s['pid']}") for s in starts],
               "openblas": os.environ.get("OPENBLAS_NUM_THREADS")},
              handle)
sys.exit(code)
"""


def _probe(tmp_path: Path, *args: str, **env: str) -> tuple[dict, subprocess.CompletedProcess]:
    out = tmp_path / "probe.json"
    base = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          env={**base, **env, "PROBE_OUT": str(out)}, timeout=300)
    return json.loads(out.read_text()), done


pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")


def test_a_large_table_starts_the_fork_server_before_the_cli_is_imported(tmp_path):
    table = png_table(tmp_path, IN_PROCESS_BELOW + 200)
    out = tmp_path / "prepared"
    probe, done = _probe(tmp_path, "preprocess", str(table), "--out", str(out),
                         "--image-size", "8", "--workers", "2", "--quiet")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kept"] == IN_PROCESS_BELOW + 200
    assert [start["typer"] for start in probe["starts"]] == [False]  # once, before Typer
    assert [start["forked"] for start in probe["starts"]] == [True]  # no new interpreter
    assert not probe["running_at_end"] and probe["gone_at_end"] == [True]  # reaped
    assert probe["rings"] and not any(Path("/dev/shm", n.lstrip("/")).exists()
                                      for n in probe["rings"])
    assert probe["openblas"] == "1"  # no BLAS threads spinning beside the workers


def test_a_users_openblas_setting_is_kept(tmp_path):
    table = png_table(tmp_path, 20)
    probe, done = _probe(tmp_path, "preprocess", str(table), "--out", str(tmp_path / "p"),
                         "--image-size", "8", "--quiet", OPENBLAS_NUM_THREADS="2")
    assert done.returncode == 0, done.stderr
    assert probe["openblas"] == "2"


def test_a_small_table_starts_no_process(tmp_path):
    table = png_table(tmp_path, 20)
    probe, done = _probe(tmp_path, "preprocess", str(table), "--out", str(tmp_path / "p"),
                         "--image-size", "8", "--quiet")
    assert done.returncode == 0, done.stderr
    assert probe["starts"] == [] and probe["rings"] == []


def test_a_usage_error_after_the_early_start_leaves_no_process(tmp_path):
    table = png_table(tmp_path, IN_PROCESS_BELOW + 200)
    out = tmp_path / "prepared"
    probe, done = _probe(tmp_path, "preprocess", str(table), "--out", str(out),
                         "--image-size", "3", "--workers", "2")
    assert done.returncode == 2 and probe["code"] == 2
    assert done.stderr.startswith("mmcli: error:") and "--image-size" in done.stderr
    assert len(probe["starts"]) == 1 and not probe["running_at_end"]
    assert probe["gone_at_end"] == [True]
    assert not out.exists()


def test_a_run_failing_mid_way_after_the_early_start_leaves_no_process(tmp_path):
    table = png_table(tmp_path, IN_PROCESS_BELOW + 200, missing_at=IN_PROCESS_BELOW)
    out = tmp_path / "prepared"
    probe, done = _probe(tmp_path, "preprocess", str(table), "--out", str(out), "--image-size",
                         "8", "--workers", "2", "--on-missing", "error")
    assert done.returncode == 3 and f"row {IN_PROCESS_BELOW + 1} " in done.stderr
    assert [start["typer"] for start in probe["starts"]] == [False]
    assert not probe["running_at_end"] and probe["gone_at_end"] == [True]
    assert not any(Path("/dev/shm", n.lstrip("/")).exists() for n in probe["rings"])
    assert not out.exists()


@pytest.mark.parametrize(("extra", "expected"), [
    ([], ("mmcli.io.images",)),
    (["--workers", "1"], ()),
    (["--workers=1"], ()),
    (["--check"], ()),
    (["--help"], ()),
])
def test_the_guess_reads_the_command_line(tmp_path, extra, expected):
    table = png_table(tmp_path, IN_PROCESS_BELOW + 10)
    args = ["preprocess", "--quiet", str(table), "-o", str(tmp_path / "p"), *extra]
    if "--check" in extra:
        args.remove("-o"), args.remove(str(tmp_path / "p"))
    assert warm.guess(args) == expected


def test_no_guess_without_out_for_small_tables_text_or_other_commands(tmp_path):
    large = png_table(tmp_path, IN_PROCESS_BELOW + 10)
    small = png_table(tmp_path / "small" if (tmp_path / "small").mkdir() is None else tmp_path, 30)
    text = tmp_path / "text.csv"
    text.write_text("id,text,label\n" + "".join(f"{i},word {i},a\n" for i in range(3000)))
    assert warm.guess(["preprocess", str(large)]) == ()  # no --out: an error to come
    assert warm.guess(["preprocess", str(small), "--out", "p"]) == ()
    assert warm.guess(["preprocess", str(text), "--out", "p"]) == ()
    assert warm.guess(["check", str(large)]) == ()
    assert warm.guess(["preprocess", str(tmp_path / "absent.csv"), "--out", "p"]) == ()
    assert warm.guess(["preprocess", "-", "--out", "p"]) == ()


def test_a_pipe_named_as_the_table_is_not_read_by_the_guess(tmp_path):
    fifo = tmp_path / "table.csv"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer: opening it cannot block
    try:
        os.write(writer, b"id,image\n" + b"".join(b"%d,a.jpg\n" % i for i in range(2000)))
        guessed: list = []
        thread = threading.Thread(target=lambda: guessed.append(
            warm.guess(["preprocess", str(fifo), "--out", "p"])), daemon=True)
        thread.start()
        thread.join(10)  # reading the pipe to 64 KB would wait for more forever
        assert guessed == [()]
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            assert os.read(reader, 9) == b"id,image\n"  # still all there for mmcli to read
        finally:
            os.close(reader)
    finally:
        os.close(writer)


def test_the_flags_are_the_preprocess_options_without_a_value():
    import typer.main

    from mmcli.cli.app import app

    command = typer.main.get_command(app).commands["preprocess"]
    flags = {name for p in command.params if getattr(p, "is_flag", False)
             for name in (*p.opts, *p.secondary_opts)}
    assert warm.FLAGS == flags | {"--help"}


def test_the_decoders_are_the_file_kinds_modules_and_suffixes():
    kinds = [k for k in modalities.REGISTRY.values()  # mmcli's own (not a test's plugin)
             if k.decodes and type(k).__module__.startswith("mmcli.")]
    assert warm.DECODERS == {k.decoder_module: k.suffixes for k in kinds}
    assert warm.IMAGE_DIR_DECODER == modalities.modality_of("image").decoder_module
