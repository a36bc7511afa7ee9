"""The prepared-data cache: reused for the same table, images and settings, else rebuilt."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmcli.api.source import open_source
from mmcli.config import PrepConfig
from mmcli.data.cache import cache_root

CONFIG = PrepConfig(image_size=16)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MMCLI_CACHE_DIR", str(folder))
    return folder


def _open(table, config=CONFIG, work=None, **kwargs):
    messages: list[str] = []
    work = work or table.parent / "work"
    work.mkdir(exist_ok=True)
    data = open_source(table, config, work, notify=messages.append, **kwargs)
    return data, messages


def _entries(cache: Path) -> list[str]:
    folder = cache / "prepared"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_cache_dir_comes_from_the_environment(cache):
    assert cache_root() == cache


def test_second_open_reuses_the_prepared_data(cache, sample_copy):
    first, said = _open(sample_copy)
    assert said == [f"prepared data cached in {first.folder}"]
    assert first.folder.parent == cache / "prepared" and len(_entries(cache)) == 1
    second, said = _open(sample_copy, PrepConfig(image_size=16, workers=2))
    assert said[0].startswith("reusing prepared data from the cache")
    assert second.folder == first.folder
    rows = np.arange(10)
    assert np.array_equal(second.values("image", rows), first.values("image", rows))
    assert not list((cache / "prepared").glob(".*"))  # no temporary folder left behind


def test_settings_table_and_images_are_part_of_the_key(cache, sample_copy):
    base, _ = _open(sample_copy)
    _, said = _open(sample_copy, PrepConfig(image_size=16, lowercase=True))
    assert said[0].startswith("prepared data cached")
    _, said = _open(sample_copy, need_label=True)
    assert said[0].startswith("prepared data cached")
    image = sample_copy.parent / "images" / "ex0100.jpg"
    stamp = image.stat().st_mtime_ns
    os.utime(image, ns=(stamp + 10**9, stamp + 10**9))
    _, said = _open(sample_copy)
    assert said[0].startswith("prepared data cached")
    with open(sample_copy, "a", encoding="utf-8") as handle:
        handle.write("ex9999,,one more row,red_sad,train\n")
    changed, said = _open(sample_copy)
    assert said[0].startswith("prepared data cached") and changed.folder != base.folder
    assert len(changed.examples) == len(base.examples) + 1
    assert len(_entries(cache)) == 5


def test_no_cache_writes_nothing_there(cache, sample_copy, tmp_path):
    work = tmp_path / "work"
    data, said = _open(sample_copy, PrepConfig(image_size=16, cache=False), work=work)
    assert said == [] and _entries(cache) == []
    assert data.folder == work / "prepared"


def test_damaged_entry_is_rebuilt(cache, sample_copy):
    first, _ = _open(sample_copy)
    (first.folder / "examples.parquet").unlink()
    again, said = _open(sample_copy)
    assert "damaged" in said[0] and said[-1].startswith("prepared data cached")
    assert len(again.examples) == len(first.examples)


@pytest.mark.tf
def test_training_twice_says_it_reuses_the_prepared_data(runner, app, tmp_path, monkeypatch,
                                                         sample_copy):
    monkeypatch.setenv("MMCLI_CACHE_DIR", str(tmp_path / "cache"))
    small = sample_copy.with_name("small.csv")  # 80 rows: the messages, not the model, matter
    lines = sample_copy.read_text(encoding="utf-8").splitlines()[:81]
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["train", str(small), "--image-size", "16", "--epochs", "1", "--seed", "0"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.stderr
    assert "prepared data cached in" in first.stderr
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.stderr
    assert "reusing prepared data from the cache" in second.stderr
    bypass = runner.invoke(app, [*args, "--out", str(tmp_path / "c"), "--no-cache"])
    assert bypass.exit_code == 0 and "cache" not in bypass.stderr


def test_every_image_column_is_part_of_the_key(cache, sample_copy):
    """With two image columns, touching a file only the second column names rebuilds."""
    images = sample_copy.parent / "images"
    shutil.copy(images / "ex0400.jpg", images / "back.jpg")
    lines = sample_copy.read_text(encoding="utf-8").splitlines()
    rows = ["id,front,back,text,label,split"]
    for line in lines[1:]:
        row_id, image, text, label, split = line.split(",")
        rows.append(f"{row_id},{image},images/back.jpg,{text},{label},{split}")
    table = sample_copy.with_name("two.csv")
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = PrepConfig(image_size=16, image_col=("front", "back"))
    first, _ = _open(table, config)
    assert first.modalities == ["image", "image_2", "text"]
    back_only = images / "back.jpg"
    stamp = back_only.stat().st_mtime_ns
    os.utime(back_only, ns=(stamp + 10**9, stamp + 10**9))
    second, said = _open(table, config)
    assert said[0].startswith("prepared data cached") and second.folder != first.folder
