"""Shards written as rows come (a block at a time, fsynced in the background) are the very
files ``np.save`` writes, whatever the shard's length, and every block is fsynced."""

from __future__ import annotations

import io

import numpy as np
import pytest

import mmcli.data.shards as shards_module
from mmcli import layout
from mmcli.data.shards import ShardWriter, Syncer
from mmcli.modalities.base import ShardSpec


def _header_length(rows: int, shape: tuple[int, ...]) -> int:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": "|u1", "fortran_order": False,
                                               "shape": (rows, *shape)})
    return len(out.getvalue())


def _write(tmp_path, monkeypatch, spec: ShardSpec, capacity: int, values: list) -> list:
    monkeypatch.setattr(layout, "SHARD_BYTES", capacity * int(np.prod(spec.shape)))
    monkeypatch.setattr(shards_module, "_BLOCK_BYTES", 3 * int(np.prod(spec.shape)))  # 3 rows
    synced = []
    syncer = Syncer()
    monkeypatch.setattr("mmcli.io.atomic.fsync_file", synced.append)
    writer = ShardWriter(tmp_path / "images", spec, syncer)
    for value in values:
        writer.add(value)
    writer.close()
    syncer.wait()
    return synced


@pytest.mark.parametrize("rows", [1, 7, 16, 20, 35])
def test_shards_are_the_files_np_save_writes(tmp_path, monkeypatch, rows):
    spec = ShardSpec("images", (2, 3), "uint8")
    values = [np.full((2, 3), i, np.uint8) if i % 5 else None for i in range(rows)]
    synced = _write(tmp_path, monkeypatch, spec, 16, values)  # 16: the fewest rows a shard
    files = sorted((tmp_path / "images").glob("shard-*.npy"))
    assert len(files) == -(-rows // 16)
    for k, path in enumerate(files):
        want = np.stack([np.zeros((2, 3), np.uint8) if v is None else v
                         for v in values[16 * k: 16 * k + 16]])
        expected = io.BytesIO()
        np.save(expected, want)
        assert path.read_bytes() == expected.getvalue()
    assert set(synced) == set(files)  # every file fsynced (each block as it was written)


def test_a_npy_header_keeps_its_length_whatever_the_row_count():
    """What rewriting a last shard's header in place relies on (numpy pads the header so
    that the first axis can grow in place)."""
    assert {_header_length(rows, (w,)) for rows in (1, 16, 99_999) for w in (1, 3, 12_288)} \
        == {_header_length(1, (1,))}
