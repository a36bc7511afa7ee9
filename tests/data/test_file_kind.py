"""A file kind built on ``FileModality`` declares only its decoder, shape, suffixes and shard
folder, and gets the path checks, fault verdicts, shards and cache references of image and
audio. The throwaway kind ``blob`` reads ``.npy`` files of 3 numbers (detected by suffix)."""

from __future__ import annotations

import csv
import json
from typing import ClassVar

import numpy as np
import pytest

from mmcli import modalities
from mmcli.errors import CellError
from mmcli.modalities.files import FileModality


def load_blob(path: str) -> np.ndarray:
    """Module level, so that decoding workers could import it."""
    values = np.load(path)
    if values.shape != (3,):
        raise CellError("unreadable", f"cannot decode blob '{path}': shape {values.shape}")
    return values.astype(np.float32)


class BlobModality(FileModality):
    kind: ClassVar[str] = "blob"
    encoders: ClassVar[str] = __name__
    suffixes: ClassVar[tuple[str, ...]] = (".npy",)
    shard_folder: ClassVar[str] = "blobs"

    def decoder(self, config):
        return load_blob

    def input_spec(self, config):
        return (3,), "float32"

    def absent(self, config):
        return 0.0


@pytest.fixture
def blob_kind():
    modalities.register(BlobModality())
    yield
    modalities.unregister("blob")


@pytest.mark.parametrize("workers", ["1", "2"])  # "2": the pool forced, its fork server
def test_a_file_kind_gets_path_checks_faults_and_shards(blob_kind, runner, app, tmp_path,
                                                        workers, monkeypatch):
    if workers == "2":  # started early, preloading the module of a decoder the kind made
        monkeypatch.setattr("mmcli.io.decode.IN_PROCESS_BELOW", 0)
    data = tmp_path / "data"
    (data / "b").mkdir(parents=True)
    np.save(data / "b" / "good.npy", np.array([1.0, 2.0, 3.0]))
    np.save(data / "b" / "bad.npy", np.zeros(5))
    (data / "b" / "dir.npy").mkdir()
    outside = tmp_path / "secret.npy"
    np.save(outside, np.array([9.0, 9.0, 9.0]))
    rows = [("g", "b/good.npy"), ("m", "b/missing.npy"), ("o", str(outside)),
            ("d", "b/dir.npy"), ("x", "b/bad.npy"), ("e", "")]
    with open(data / "t.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "blob", "text", "label"])
        writer.writerows([i, path, f"words {i}", "a" if k % 2 else "b"]
                         for k, (i, path) in enumerate(rows))
    out = tmp_path / "prepared"

    result = runner.invoke(app, ["preprocess", str(data / "t.csv"), "--out", str(out),
                                 "--workers", workers])

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["roles"]["blob"] == "blob"  # detected by its suffix
    with open(out / "rejects.csv", newline="") as handle:
        reasons = {r["id"]: (r["reason"], r["action"]) for r in csv.DictReader(handle)}
    assert reasons == {"m": ("missing", "masked"), "o": ("outside_root", "masked"),
                       "d": ("not_a_file", "masked"), "x": ("unreadable", "masked"),
                       "e": ("missing", "masked")}
    shard = np.load(out / "blobs" / "shard-00000.npy")
    assert shard.shape == (6, 3)
    np.testing.assert_array_equal(shard[0], [1.0, 2.0, 3.0])  # the one good file
    assert not shard[1:].any()  # absent rows are zeros: nothing read from the outside file
