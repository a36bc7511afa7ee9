"""Shards written as rows come (a block at a time, with direct I/O where the file system
takes it, in the background) are the very files ``np.save`` writes, whatever the shard's
length, and every shard is fsynced."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

import mmcli.io.direct as direct
from mmcli import layout
from mmcli.data.shards import ShardWriter, Syncer
from mmcli.modalities.base import ShardSpec


def _header_length(rows: int, shape: tuple[int, ...]) -> int:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "|u1", "fortran_order": False,
                                               "shape": (rows, *shape)})
    return len(out.getvalue())


def _write(folder, monkeypatch, spec: ShardSpec, capacity: int, values: list) -> list:
    monkeypatch.setattr(layout, "SHARD_BYTES", capacity * int(np.prod(spec.shape)))
    monkeypatch.setattr(direct, "BLOCK_BYTES", direct.ALIGN)  # a shard of 1000 B rows: blocks
    synced = []
    syncer = Syncer()
    monkeypatch.setattr("mmcli.io.atomic.fsync_file", synced.append)
    writer = ShardWriter(folder / "images", spec, syncer)
    for value in values:
        writer.add(value)
    writer.close()
    syncer.wait()
    return synced


@pytest.mark.parametrize("shape", [(2, 3), (1000,)])
@pytest.mark.parametrize("rows", [1, 7, 16, 20, 35])
def test_shards_are_the_files_np_save_writes(tmp_path, monkeypatch, rows, shape):
    _same_as_np_save(tmp_path, monkeypatch, rows, shape, capacity=16)  # 16: the fewest rows


def _same_as_np_save(folder, monkeypatch, rows, shape, capacity):
    spec = ShardSpec("images", shape, "uint8")
    values = [np.full(shape, i, np.uint8) if i % 5 else None for i in range(rows)]
    values[3:4] = [np.full(shape, 3, np.int64)]  # cast as numpy assigns it
    synced = _write(folder, monkeypatch, spec, capacity, values)
    files = sorted((folder / "images").glob("shard-*.npy"))
    assert len(files) == -(-rows // capacity)
    for k, path in enumerate(files):
        want = np.stack([np.zeros(shape, np.uint8) if v is None else v.astype(np.uint8)
                         for v in values[capacity * k: capacity * k + capacity]])
        expected = io.BytesIO()
        np.save(expected, want)
        assert path.read_bytes() == expected.getvalue()
    assert sorted(synced) == files  # every file fsynced once it was written


def test_a_last_shard_longer_than_a_block_gets_its_header_rewritten(tmp_path, monkeypatch):
    _same_as_np_save(tmp_path, monkeypatch, rows=40, shape=(1000,), capacity=64)


def test_shards_on_a_file_system_without_direct_io_are_the_same_files(monkeypatch):
    shm = Path("/dev/shm")  # tmpfs: opening with O_DIRECT fails there (EINVAL)
    if not shm.is_dir() or not hasattr(os, "O_DIRECT"):
        pytest.skip("no tmpfs at /dev/shm")
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        _same_as_np_save(Path(folder), monkeypatch, rows=35, shape=(1000,), capacity=16)


def test_a_npy_header_keeps_its_length_whatever_the_row_count():
    """What rewriting a last shard's header in place relies on (numpy pads the header so
    that the first axis can grow in place)."""
    assert {_header_length(rows, (w,)) for rows in (1, 16, 99_999) for w in (1, 3, 12_288)} \
        == {_header_length(1, (1,))}
