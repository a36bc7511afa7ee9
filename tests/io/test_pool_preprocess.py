"""preprocess through the decoding pool (fork server started early, arrays back through the
shared-memory ring) writes what decoding in this process writes, and a run that fails
mid-way leaves neither shared memory nor processes behind."""

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from PIL import Image

from mmcli.data.dataset import open_dataset

SHM = Path("/dev/shm")
ROWS = 400  # > 2 workers x 2 chunks of 64 in flight: most chunks come through the ring


@pytest.fixture
def pooled(monkeypatch, made):
    """Force the pool for any table; returns the names of the rings this process makes."""
    monkeypatch.setattr("mmcli.io.decode.IN_PROCESS_BELOW", 0)
    return made


def _table(folder: Path, broken_at: int | None = None) -> Path:
    """ROWS rows over a few files: JPEGs and PNGs of two colours, a text file named .jpg and
    a missing file every 50 rows; with ``broken_at``, only that row's file is broken."""
    Image.new("RGB", (20, 12), (200, 30, 30)).save(folder / "red.jpg", quality=95)
    Image.new("RGB", (9, 30), (20, 20, 220)).save(folder / "blue.png")
    (folder / "text.jpg").write_text("not an image")
    table = folder / "data.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "label"])
        for i in range(ROWS):
            image = "red.jpg" if i % 2 else "blue.png"
            if broken_at is None and i % 50 == 7:
                image = "text.jpg"
            if (broken_at is None and i % 50 == 9) or i == broken_at:
                image = "gone.jpg"
            writer.writerow([f"r{i}", image, "red" if image == "red.jpg" else "blue"])
    return table


def _no_children() -> list[str]:
    return [" ".join(p.cmdline()) for p in psutil.Process().children(recursive=True)
            if p.status() != "zombie" and "resource_tracker" not in " ".join(p.cmdline())]


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")
def test_the_pool_writes_what_one_process_writes(runner, app, tmp_path, pooled):
    table = _table(tmp_path)
    outputs = {}
    for workers in ("2", "1"):
        out = tmp_path / f"w{workers}"
        result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                     "--image-size", "16", "--workers", workers])
        assert result.exit_code == 0, result.stderr
        data = open_dataset(out)
        rejects = (out / "rejects.csv").read_text()
        outputs[workers] = (data.examples, data.values("image", range(len(data.examples))),
                            rejects, json.loads(result.stdout)["issues"])
    (e2, i2, r2, s2), (e1, i1, r1, s1) = outputs["2"], outputs["1"]
    pd.testing.assert_frame_equal(e2, e1)
    assert np.array_equal(i2, i1) and r2 == r1 and s2 == s1
    assert s2 == {"rejected:missing": 8, "rejected:unreadable": 8, "rejected:no_modality": 16}
    red = e2.index[e2["label"] == "red"]  # the arrays are the right rows' pictures
    assert i2[red, :, :, 0].min() > 150 and i2[red, :, :, 2].max() < 100
    assert len(pooled) == 1 and not (SHM / pooled[0].lstrip("/")).exists()
    assert _no_children() == []


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")
def test_a_run_failing_mid_way_leaves_no_shared_memory_or_process(runner, app, tmp_path,
                                                                   pooled):
    table = _table(tmp_path, broken_at=300)
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "--image-size",
                                 "16", "--workers", "2", "--on-missing", "error"])
    assert result.exit_code == 3, result.stderr
    assert "row 301 (id r300)" in result.stderr and "--on-missing error" in result.stderr
    assert not out.exists()
    assert len(pooled) == 1 and not (SHM / pooled[0].lstrip("/")).exists()
    assert _no_children() == []


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")
def test_a_library_caller_holding_the_error_holds_no_shared_memory(tmp_path, pooled):
    """The failing call's frames live on in the traceback the caller keeps: its decoding pool
    must end before the error leaves, not when the traceback is dropped."""
    from mmcli.api.prepare import prepare
    from mmcli.config import PrepConfig
    from mmcli.errors import DataError

    table = _table(tmp_path, broken_at=300)
    config = PrepConfig(image_size=16, workers=2, on_missing="error")
    with pytest.raises(DataError, match="row 301") as caught:
        prepare(table, config, tmp_path / "prepared")
    assert caught.value is not None  # the traceback is still held here
    assert len(pooled) == 1 and not (SHM / pooled[0].lstrip("/")).exists()
    assert _no_children() == []


@pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")
def test_each_row_keeps_its_own_arrays_when_rows_span_chunks(runner, app, tmp_path, pooled):
    """Preprocess borrows the pool's arrays straight from the shared-memory ring (no copy):
    a slot must not be reused while a row built from it is still being written. Rows of an
    image and a sound (two jobs, one missing now and then, so rows straddle the chunks),
    every file different: each row's arrays must be its own files', as in one process."""
    import soundfile

    rows, rate = 300, 8000
    with open(tmp_path / "data.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "audio", "label"])
        for i in range(rows):
            Image.new("RGB", (8, 8), (i % 256, i // 256, 7)).save(tmp_path / f"i{i}.png")
            sound = ""
            if i % 7 != 3:
                sound = f"a{i}.wav"
                soundfile.write(tmp_path / sound, np.full(800, (i + 1) / 1000, np.float32),
                                rate, subtype="FLOAT")
            writer.writerow([f"r{i}", f"i{i}.png", sound, "odd" if i % 2 else "even"])
    outputs = {}
    for workers in ("2", "1"):
        out = tmp_path / f"w{workers}"
        result = runner.invoke(app, ["preprocess", str(tmp_path / "data.csv"), "--out",
                                     str(out), "--image-size", "8", "--audio-rate", "8000",
                                     "--audio-seconds", "0.1", "--workers", workers])
        assert result.exit_code == 0, result.stderr
        data = open_dataset(out)
        every = range(len(data.examples))
        outputs[workers] = (data.examples, data.values("image", every),
                            data.values("audio", every))
    (e2, i2, a2), (e1, i1, a1) = outputs["2"], outputs["1"]
    pd.testing.assert_frame_equal(e2, e1)
    assert np.array_equal(i2, i1) and np.array_equal(a2, a1)
    assert len(e2) == rows
    ids = e2["id"].str[1:].astype(int).to_numpy()
    assert np.array_equal(i2[:, 0, 0, 0].astype(int) + 256 * i2[:, 0, 0, 1].astype(int), ids)
    heard = e2["audio_present"].to_numpy()
    assert np.array_equal(heard, ids % 7 != 3)
    assert np.allclose(a2[heard, 0], (ids[heard] + 1) / 1000, atol=1e-4)
    assert len(pooled) == 1 and not (SHM / pooled[0].lstrip("/")).exists()
