"""Atomic outputs: whole or absent, never overwritten without --force, stale siblings cleaned."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import pytest

import mmcli.data.dataset
import mmcli.io.direct
from mmcli.io.atomic import atomic_dir, atomic_file, clean_stale
from tests.conftest import SAMPLE
from tests.reliability.conftest import siblings, tree


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout)


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_failed_write_leaves_the_old_output(tmp_path):
    target = tmp_path / "out"
    with atomic_dir(target) as folder:
        (folder / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target, force=True) as folder:
        (folder / "a.txt").write_text("new, half")
        raise RuntimeError("write failed")
    assert tree(target) == {"a.txt": b"old"}
    assert siblings(target) == []
    with atomic_dir(target, force=True) as folder:
        (folder / "b.txt").write_text("new")
    assert tree(target) == {"b.txt": b"new"}
    assert siblings(target) == []


def test_stale_temp_siblings_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "out"
    dead = dead_pid()
    stale = tmp_path / f".out.tmp-{dead}"
    (stale / "images").mkdir(parents=True)
    (stale / "schema.json").write_text("{half")
    live = tmp_path / ".out.tmp-1"  # pid 1 is alive: never touched
    live.mkdir()
    other = tmp_path / f".outer.tmp-{dead}"  # another output's sibling: not ours
    other.mkdir()
    with atomic_dir(target) as folder:
        (folder / "x").write_text("x")
    assert not stale.exists()
    assert live.exists() and other.exists()
    assert tree(target) == {"x": b"x"}


def test_an_output_moved_aside_by_a_killed_run_is_put_back(tmp_path):
    target = tmp_path / "out"
    aside = tmp_path / f".out.old-{dead_pid()}"  # killed between its two renames
    aside.mkdir()
    (aside / "schema.json").write_text("old")
    assert clean_stale(target) == [aside]
    assert tree(target) == {"schema.json": b"old"}
    # ...so that a later run without --force still refuses to overwrite it
    with pytest.raises(FileExistsError), atomic_dir(target):
        pass
    assert tree(target) == {"schema.json": b"old"}


def test_atomic_file_replaces_whole(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_text("old\n")
    with pytest.raises(OSError), atomic_file(target, force=True) as tmp:
        tmp.write_text("half")
        raise OSError(errno.EIO, "I/O error")
    assert target.read_text() == "old\n"
    assert siblings(target) == []


def test_preprocess_refuses_to_overwrite_without_force(runner, app, tmp_path):
    out = tmp_path / "prep"
    args = ["preprocess", str(SAMPLE), "--out", str(out), "--image-size", "16", "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    before = tree(out)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "already exists; pass --force" in one_line(result)
    assert tree(out) == before
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert siblings(out) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_disk_full_during_preprocess_is_exit_7_and_leaves_the_old_output(
    runner, app, tmp_path, monkeypatch, code
):
    out = tmp_path / "prep"
    args = ["preprocess", str(SAMPLE), "--out", str(out), "--image-size", "16", "--quiet"]
    assert runner.invoke(app, args).exit_code == 0
    before = tree(out)

    def full_disk(writer, index, length, offset):  # the file system refuses the shard's
        raise OSError(code, os.strerror(code))  # bytes (in the writing thread, no file name)

    monkeypatch.setattr(mmcli.io.direct.DirectWriter, "_pwrite", full_disk)
    result = runner.invoke(app, [*args, "--force"])
    assert result.exit_code == 7
    message = one_line(result)
    assert message.startswith("mmcli: error: no space left on the device writing ")
    assert "shard-00000.npy" in message
    assert tree(out) == before
    assert siblings(out) == []
    fresh = tmp_path / "fresh"
    result = runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(fresh), "--quiet"])
    assert result.exit_code == 7
    assert not fresh.exists() and siblings(fresh) == []


def test_out_of_memory_is_exit_7_with_one_line(runner, app, tmp_path, monkeypatch):
    def no_memory(*a, **k):
        raise MemoryError()

    monkeypatch.setattr("numpy.zeros", no_memory)  # the shard writer's first buffer
    out = tmp_path / "prep"
    result = runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(out)])
    assert result.exit_code == 7
    assert "out of memory; try a smaller --batch-size" in one_line(result)
    assert not out.exists() and siblings(out) == []


def test_long_text_is_cut_to_max_text_chars(runner, app, tmp_path):
    import pandas as pd

    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n" + "".join(
        f"{i},{'word ' * 200_000},{'ab'[i % 2]}\n" for i in range(4)))
    out = tmp_path / "prep"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                 "--max-text-chars", "50", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["kept"] == 4
    texts = pd.read_parquet(out / "examples.parquet")["text"]
    assert texts.str.len().max() <= 50 and texts.str.startswith("word word").all()


@pytest.mark.parametrize("exchange", [True, False])
def test_replacing_a_folder_with_and_without_renameat2(tmp_path, monkeypatch, exchange):
    import mmcli.io.atomic as atomic

    if not exchange:
        monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "out"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_dir(target, force=True) as folder:
        (folder / "new.txt").write_text("new")
    assert tree(target) == {"new.txt": b"new"}
    assert siblings(target) == []
