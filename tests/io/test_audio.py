"""The audio fault corpus: every fault made by a fixture, and the outcome the policy gives it,
both from the decoder (its reason) and through ``mmcli preprocess`` (rejects.csv, masking)."""

from __future__ import annotations

import csv
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from mmcli.errors import CellError
from mmcli.io.audio import AudioOptions, load_audio
from mmcli.io.paths import resolve_path

soundfile = pytest.importorskip("soundfile")

RATE = 8000
OPTIONS = AudioOptions(rate=16_000, seconds=0.5, max_seconds=3.0)


def _tone(seconds: float = 0.5, freq: float = 440.0, rate: int = RATE, channels: int = 1):
    t = np.arange(int(seconds * rate)) / rate
    wave = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([wave] * channels, axis=1) if channels > 1 else wave


def _wav_with_codec(tag: int) -> bytes:
    """A RIFF/WAVE file whose fmt chunk names codec ``tag`` (with 800 bytes of data)."""
    fmt = struct.pack("<HHIIHH", tag, 1, RATE, RATE * 2, 2, 16)
    data = b"\x00\x01" * 400
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data"
            + struct.pack("<I", len(data)) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    """One file per case under ``tmp_path/data``; ``outside`` lies beside that folder."""
    root = tmp_path / "data"
    root.mkdir()
    files = {name: root / f"{name}.{ext}" for name, ext in [
        ("good_wav", "wav"), ("good_flac", "flac"), ("good_ogg", "ogg"), ("good_mp3", "mp3"),
        ("stereo_44k", "wav"), ("long", "wav"), ("zero_byte", "wav"), ("not_audio", "wav"),
        ("truncated_wav", "wav"), ("truncated_mp3", "mp3"), ("unsupported", "wav"),
        ("silent", "wav"), ("too_long", "wav"),
    ]}
    for fmt in ("wav", "flac", "ogg", "mp3"):
        soundfile.write(files[f"good_{fmt}"], _tone(), RATE, format=fmt.upper())
    soundfile.write(files["stereo_44k"], _tone(0.3, rate=44_100, channels=2), 44_100)
    soundfile.write(files["long"], _tone(2.0), RATE)
    files["zero_byte"].write_bytes(b"")
    files["not_audio"].write_text("<html>this is not a sound</html>\n" * 20)
    whole = files["good_wav"].read_bytes()
    files["truncated_wav"].write_bytes(whole[: len(whole) // 2])
    soundfile.write(root / "full.mp3", _tone(1.0), RATE, format="MP3")
    mp3 = (root / "full.mp3").read_bytes()
    files["truncated_mp3"].write_bytes(mp3[: len(mp3) // 2])
    files["unsupported"].write_bytes(_wav_with_codec(0x0161))  # WMA in a WAV
    soundfile.write(files["silent"], np.zeros(4000, np.float32), RATE)
    soundfile.write(files["too_long"], np.zeros(RATE * 4, np.float32), RATE)  # 4 s > 3 s
    (root / "folder.wav").mkdir()
    files["folder"] = root / "folder.wav"
    soundfile.write(tmp_path / "outside.wav", _tone(), RATE)
    files["outside"] = tmp_path / "outside.wav"
    return files


@pytest.mark.parametrize("case", ["good_wav", "good_flac", "good_ogg", "good_mp3"])
def test_each_format_decodes_to_a_fixed_length_waveform(corpus, case):
    wave = load_audio(corpus[case], OPTIONS)
    assert wave.shape == (8000,) and wave.dtype == np.float32 and wave.flags.c_contiguous
    assert 0.3 < np.abs(wave).max() <= 1.0
    spectrum = np.abs(np.fft.rfft(wave[:8000]))
    assert abs(np.argmax(spectrum) * 16_000 / 8000 - 440) < 10  # 440 Hz after resampling


def test_stereo_is_mixed_down_resampled_and_padded(corpus):
    wave = load_audio(corpus["stereo_44k"], OPTIONS)  # 0.3 s at 44.1 kHz -> 0.5 s at 16 kHz
    assert wave.shape == (8000,)
    assert np.abs(wave[:4700]).max() > 0.3 and np.all(wave[4900:] == 0)


def test_a_long_clip_is_cut(corpus):
    assert load_audio(corpus["long"], OPTIONS).shape == (8000,)


@pytest.mark.parametrize("case, reason", [
    ("zero_byte", "unreadable"),
    ("not_audio", "unreadable"),
    ("truncated_wav", "truncated"),
    ("truncated_mp3", "truncated"),
    ("unsupported", "unsupported"),
    ("silent", "silent"),
    ("too_long", "too_long"),
    ("folder", "not_a_file"),
])
def test_each_fault_has_its_reason(corpus, case, reason):
    with pytest.raises(CellError) as caught:
        load_audio(corpus[case], OPTIONS)
    assert caught.value.reason == reason
    assert "\n" not in str(caught.value) and "audio" in str(caught.value)


def test_outside_the_root_is_refused_before_opening(corpus):
    root = corpus["good_wav"].parent
    for value in ("../outside.wav", str(corpus["outside"])):
        with pytest.raises(CellError) as caught:
            resolve_path(value, root, what="audio")
        assert caught.value.reason == "outside_root"
    with pytest.raises(CellError) as caught:
        resolve_path("nowhere.wav", root, what="audio")
    assert caught.value.reason == "missing"


def test_too_long_is_decided_from_the_header(corpus, monkeypatch):
    def no_reading(*args, **kwargs):
        raise AssertionError("samples were read")

    monkeypatch.setattr(soundfile.SoundFile, "read", no_reading)
    with pytest.raises(CellError) as caught:
        load_audio(corpus["too_long"], OPTIONS)
    assert caught.value.reason == "too_long"


def test_preprocess_reports_every_fault_and_masks_the_audio(corpus, runner, app, tmp_path):
    root = corpus["good_wav"].parent
    cells = {
        "good": "good_wav.wav", "flac": "good_flac.flac", "ogg": "good_ogg.ogg",
        "mp3": "good_mp3.mp3", "zero": "zero_byte.wav", "text": "not_audio.wav",
        "cut": "truncated_wav.wav", "cut_mp3": "truncated_mp3.mp3",
        "codec": "unsupported.wav", "quiet": "silent.wav", "long": "too_long.wav",
        "dir": "folder.wav", "outside": "../outside.wav", "gone": "nowhere.wav", "empty": "",
    }
    table = root / "data.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "recording", "text", "label"])
        for i, (row_id, cell) in enumerate(cells.items()):
            writer.writerow([row_id, cell, f"some words {i}", "a" if i % 2 else "b"])
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                 "--max-audio-seconds", "3", "--audio-seconds", "0.5"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["modalities"] == ["text", "audio"]
    assert summary["roles"]["audio"] == "recording"
    assert summary["kept"] == len(cells) and summary["masked"] == 11
    rejects = {r["id"]: r for r in csv.DictReader(open(out / "rejects.csv"))}
    expected = {
        "zero": "unreadable", "text": "unreadable", "cut": "truncated", "cut_mp3": "truncated",
        "codec": "unsupported", "quiet": "silent", "long": "too_long", "dir": "not_a_file",
        "outside": "outside_root", "gone": "missing", "empty": "missing",
    }
    assert {k: r["reason"] for k, r in rejects.items()} == expected
    assert {r["column"] for r in rejects.values()} == {"recording"}
    assert {r["action"] for r in rejects.values()} == {"masked"}
    shard = np.load(out / "audio" / "shard-00000.npy")
    assert shard.shape[1:] == (8000,) and shard.dtype == np.float32
    assert np.abs(shard[0]).max() > 0.3 and not shard[4].any()  # good kept, zero-byte zeroed


def test_a_changed_audio_file_or_setting_prepares_again(corpus, tmp_path, monkeypatch):
    from mmcli.api.source import open_source
    from mmcli.config import PrepConfig

    monkeypatch.setenv("MMCLI_CACHE_DIR", str(tmp_path / "cache"))
    root = corpus["good_wav"].parent
    table = root / "table.csv"
    table.write_text("id,audio,label\na,good_wav.wav,x\nb,good_flac.flac,y\n")
    work = tmp_path / "work"
    work.mkdir()

    def entry(config=None):
        config = config or PrepConfig(audio_seconds=0.5)
        said: list[str] = []
        data = open_source(table, config, work, notify=said.append)
        return data.folder, said[0].split()[0]

    first, how = entry()
    assert how == "prepared"
    assert entry() == (first, "reusing")
    soundfile.write(corpus["good_wav"], _tone(freq=880.0), RATE)  # same name, new sound
    changed, how = entry()
    assert changed != first and how == "prepared"
    assert entry(PrepConfig(audio_seconds=0.5, audio_rate=8000))[0] not in (first, changed)
