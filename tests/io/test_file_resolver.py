"""FileResolver (the path check every file cell of a table goes through): the answer of
resolve_file for every cell, each folder resolved once, nothing outside the root looked at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mmcli.errors import CellError
from mmcli.io.paths import FileResolver, resolve_file


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """data/ with imgs/ (a.jpg ... e.jpg, a folder, links in and out), a linked folder,
    and outside.jpg beside it."""
    root = tmp_path / "data"
    (root / "imgs" / "sub").mkdir(parents=True)
    for name in "abcde":
        (root / "imgs" / f"{name}.jpg").write_bytes(b"x")
    (root / "imgs" / "sub" / "s.jpg").write_bytes(b"x")
    (root / "imgs" / "dir.jpg").mkdir()
    (tmp_path / "outside.jpg").write_bytes(b"x")
    (tmp_path / "away").mkdir()
    (tmp_path / "away" / "o.jpg").write_bytes(b"x")
    (root / "imgs" / "in.jpg").symlink_to(root / "imgs" / "a.jpg")
    (root / "imgs" / "out.jpg").symlink_to(tmp_path / "outside.jpg")
    (root / "linked").symlink_to(root / "imgs")
    (root / "away").symlink_to(tmp_path / "away")
    return root


def _answer(resolve, value: str):
    try:
        return resolve(value)
    except CellError as exc:
        return (type(exc), exc.reason, str(exc))


VALUES = [
    "imgs/a.jpg", "imgs/b.jpg", "imgs/none.jpg", "imgs/dir.jpg", "imgs/in.jpg", "imgs/out.jpg",
    "imgs/.", "imgs/", "imgs/..", "imgs//c.jpg", "imgs/./d.jpg", "imgs/sub/../e.jpg",
    "linked/a.jpg", "linked/b.jpg", "away/o.jpg", "away/o.jpg", "../outside.jpg",
    "imgs/../../outside.jpg", "imgs\\c.jpg", "imgs\\none.jpg", "imgs/sub/s.jpg",
    "imgs/sub/none.jpg", "imgs/a\x00.jpg", "", "  ", "a.jpg",
]


@pytest.mark.parametrize("outside", [False, True])
def test_every_cell_gets_resolve_files_answer(tree, outside):
    values = [*VALUES, str(tree / "imgs" / "a.jpg"), str(tree / "imgs" / "b.jpg"),
              str(tree.parent / "outside.jpg"), str(tree.parent / "away" / "o.jpg")]
    resolver = FileResolver(tree, what="image", allow_outside_root=outside)
    for value in values * 2:  # the second time every folder is known
        expected = _answer(lambda v: resolve_file(v, tree, what="image",
                                                  allow_outside_root=outside), value)
        assert _answer(resolver.resolve, value) == expected, value


def test_a_known_folder_costs_one_lstat_a_file(tree, monkeypatch):
    resolver = FileResolver(tree, what="image")
    resolver.resolve("imgs/a.jpg")  # learns imgs/
    expected = [str((tree / "imgs" / f"{name}.jpg").resolve()) for name in "bcde"]
    calls = []

    def counting(name, real):  # os.stat counted too: one lstat means no other stat either
        def count(path, *args, **kwargs):
            calls.append((name, os.fspath(path)))
            return real(path, *args, **kwargs)
        return count

    monkeypatch.setattr(os, "lstat", counting("lstat", os.lstat))
    monkeypatch.setattr(os, "stat", counting("stat", os.stat))
    assert [resolver.resolve(f"imgs/{name}.jpg") for name in "bcde"] == expected
    assert calls == [("lstat", path) for path in expected]


def test_a_file_made_a_link_out_of_a_known_folder_is_refused(tree):
    resolver = FileResolver(tree, what="image")
    resolver.resolve("imgs/a.jpg")
    (tree / "imgs" / "b.jpg").unlink()
    (tree / "imgs" / "b.jpg").symlink_to(tree.parent / "outside.jpg")
    with pytest.raises(CellError) as info:
        resolver.resolve("imgs/b.jpg")
    assert info.value.reason == "outside_root"


def test_nothing_outside_is_looked_at_once_folders_are_known(tree, monkeypatch):
    resolver = FileResolver(tree, what="image")
    for value in ("imgs/a.jpg", "imgs/sub/s.jpg", str(tree / "imgs" / "b.jpg")):
        resolver.resolve(value)
    looked_at = []

    def guard(real):
        def check(path, *args, **kwargs):
            if not os.fspath(path).startswith(str(tree.resolve())):
                looked_at.append(os.fspath(path))
            return real(path, *args, **kwargs)
        return check

    monkeypatch.setattr(os, "stat", guard(os.stat))
    monkeypatch.setattr(os, "lstat", guard(os.lstat))
    for value in ("../outside.jpg", "imgs/../../outside.jpg", "imgs/sub/../../../outside.jpg",
                  str(tree.parent / "outside.jpg")):
        with pytest.raises(CellError) as info:
            resolver.resolve(value)
        assert info.value.reason == "outside_root"
    assert looked_at == []
