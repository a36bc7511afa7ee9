"""Durability: every file of an output is fsynced before the rename that publishes it, and
its parent folder after, so a power cut leaves the old output or the new one, whole."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import mmcli.io.atomic as atomic
from mmcli.io.atomic import atomic_dir, atomic_file
from tests.conftest import SAMPLE


@pytest.fixture
def events(monkeypatch) -> list[tuple[str, str]]:
    """Record ("fsync", path) and ("publish", target) in the order they happen."""
    seen: list[tuple[str, str]] = []
    real_fsync, real_replace, real_publish = os.fsync, os.replace, atomic._replace

    def fsync(fd):
        seen.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst, *args, **kwargs):
        seen.append(("publish", str(dst)))
        real_replace(src, dst, *args, **kwargs)

    def publish(tmp, target):
        seen.append(("publish", str(target)))
        real_publish(tmp, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(atomic, "_replace", publish)
    return seen


pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")


def split_at_publish(seen, target: Path) -> tuple[list[str], list[str]]:
    index = seen.index(("publish", str(target)))
    before = [p for kind, p in seen[:index] if kind == "fsync"]
    after = [p for kind, p in seen[index + 1:] if kind == "fsync"]
    return before, after


def test_file_and_parent_are_fsynced_around_the_rename(tmp_path, events):
    target = tmp_path / "out.jsonl"
    with atomic_file(target) as tmp:
        tmp.write_text("{}\n")
    before, after = split_at_publish(events, target)
    assert str(tmp) in before
    assert str(tmp_path) in after


@pytest.mark.parametrize("replacing", [False, True])
def test_every_file_and_folder_is_fsynced_before_a_folder_is_published(tmp_path, events,
                                                                       replacing):
    target = tmp_path / "out"
    if replacing:
        with atomic_dir(target) as folder:
            (folder / "old.txt").write_text("old")
        events.clear()
    with atomic_dir(target, force=replacing) as folder:
        (folder / "sub").mkdir()
        (folder / "a.txt").write_text("a")
        (folder / "sub" / "b.npy").write_bytes(b"b" * 10)
    before, after = split_at_publish(events, target)
    assert {str(folder / "a.txt"), str(folder / "sub" / "b.npy"), str(folder / "sub"),
            str(folder)} <= set(before)
    assert str(tmp_path) in after
    assert (target / "sub" / "b.npy").read_bytes() == b"b" * 10


def test_preprocess_fsyncs_each_file_it_publishes(runner, app, tmp_path, events):
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(out),
                                 "--image-size", "8", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["kept"] > 0
    before, after = split_at_publish(events, out)
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    tmp = atomic.temp_sibling(out)
    synced = {Path(p).relative_to(tmp).as_posix() for p in before if p.startswith(f"{tmp}/")}
    assert written and written <= synced
    assert str(tmp_path) in after


def test_each_checkpoint_is_fsynced_around_its_rename(tmp_path, events):
    """The README's "checkpoints too": every epoch's checkpoint.npz is fsynced before the
    rename that replaces the last one, and its folder after."""
    import numpy as np

    from mmcli.io.checkpoint import Checkpoints, Saved

    with Checkpoints(tmp_path / "bundle") as checkpoints:
        for epoch in (1, 2):
            events.clear()
            checkpoints.save(Saved({"epoch": epoch}, {"variables": [np.arange(3)]}))
            target = checkpoints.folder / "checkpoint.npz"
            before, after = split_at_publish(events, target)
            assert any(Path(p).name.startswith(".checkpoint.npz") for p in before), events
            assert str(checkpoints.folder) in after
        assert checkpoints.load().epoch == 2
