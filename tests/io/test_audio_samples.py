"""The samples audio decoding gives: bit for bit those of the plain recipe (soundfile's first
``ceil(seconds * rate) + 1`` frames as float32, mean over channels, NaN/inf zeroed, soxr "HQ"
in float32, the first ``samples`` kept, clipped to [-1, 1], zero-padded), on generated files
of every rate, channel count and sample code, on ../shared/data/avdigits' 8 kHz recordings
(when present), and through ``mmcli preprocess`` into its shards."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mmcli.io.audio import AudioOptions, load_audio

soundfile = pytest.importorskip("soundfile")
soxr = pytest.importorskip("soxr")

AVDIGITS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "avdigits" / "audio"


def reference(path: Path, options: AudioOptions) -> np.ndarray:
    """The plain recipe, written out step by step."""
    total = soundfile.info(str(path)).frames
    rate = soundfile.info(str(path)).samplerate
    wanted = min(total, math.ceil(options.seconds * rate) + 1)
    data, rate = soundfile.read(str(path), frames=wanted, dtype="float32", always_2d=True)
    wave = np.nan_to_num(data.mean(axis=1), nan=0.0, posinf=0.0, neginf=0.0)
    if rate != options.rate:
        wave = soxr.resample(wave, rate, options.rate, quality="HQ")
    out = np.zeros(options.samples, np.float32)
    out[: min(len(wave), options.samples)] = np.clip(wave[: options.samples], -1.0, 1.0)
    return out


def _signal(seconds: float, rate: int, channels: int = 1, amplitude: float = 0.4, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * rng.uniform(200, 2000) * t) + rng.normal(0, 0.05, len(t))
    return np.stack([wave, -0.7 * wave][:channels], axis=1) if channels > 1 else wave


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Generated files: (rate, channels, sample code, format) varied one at a time."""
    folder = tmp_path_factory.mktemp("samples")
    loud = np.sign(_signal(0.8, 22_050)) * 0.99  # a square wave: resampling overshoots 1.0
    with_nan = _signal(0.9, 22_050).astype(np.float32)
    with_nan[[50, 900, 4000]] = [np.nan, np.inf, -np.inf]
    cases = {
        "bench.wav": (_signal(1.0, 22_050), 22_050, "PCM_16"),  # the benchmark's files
        "stereo_44k.wav": (_signal(1.3, 44_100, channels=2), 44_100, "FLOAT"),
        "short_8k.wav": (_signal(0.6, 8_000), 8_000, "PCM_16"),
        "long_16k.wav": (_signal(2.5, 16_000), 16_000, "PCM_16"),  # no resampling, cut
        "pcm24_48k.flac": (_signal(0.7, 48_000, channels=2), 48_000, "PCM_24"),
        "u8_11k.wav": (_signal(0.7, 11_025), 11_025, "PCM_U8"),
        "ulaw_8k.wav": (_signal(0.7, 8_000), 8_000, "ULAW"),
        "loud.wav": (loud, 22_050, "PCM_16"),
        "with_nan.wav": (with_nan, 22_050, "FLOAT"),
        "double_loud.wav": (_signal(0.5, 32_000, amplitude=1.4), 32_000, "DOUBLE"),
        "tone.ogg": (_signal(1.2, 44_100), 44_100, "VORBIS"),
    }
    paths = {}
    for name, (wave, rate, subtype) in cases.items():
        paths[name] = folder / name
        soundfile.write(paths[name], wave, rate, subtype=subtype)
    return paths


OPTIONS = [AudioOptions(), AudioOptions(rate=8_000, seconds=0.5),
           AudioOptions(rate=22_050, seconds=2.0)]


@pytest.mark.parametrize("options", OPTIONS, ids=["16k_1s", "8k_0.5s", "22k_2s"])
def test_generated_files_decode_bit_for_bit_to_the_plain_recipe(files, options):
    for name, path in files.items():
        wave = load_audio(path, options)
        assert wave.dtype == np.float32 and wave.shape == (options.samples,), name
        assert wave.flags.c_contiguous, name
        assert wave.tobytes() == reference(path, options).tobytes(), name
    clipped = load_audio(files["loud.wav"], AudioOptions())
    assert clipped.max() == 1.0 and clipped.min() == -1.0  # the overshoot was clipped
    assert np.isfinite(load_audio(files["with_nan.wav"], AudioOptions())).all()


def test_avdigits_recordings_decode_bit_for_bit_to_the_plain_recipe():
    paths = sorted(AVDIGITS.glob("*.wav"))[::25]  # 60 of the 1,500, every speaker and digit
    if not paths:
        pytest.skip("../shared/data/avdigits not present")
    for options in (AudioOptions(), AudioOptions(rate=8_000, seconds=1.5)):
        for path in paths:
            assert load_audio(path, options).tobytes() == reference(path, options).tobytes()


def test_preprocess_shards_hold_the_plain_recipes_samples(files, runner, app, tmp_path):
    names = [n for n in files if n != "with_nan.wav"] * 2
    table = tmp_path / "data.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "audio", "label"])
        for i, name in enumerate(names):
            writer.writerow([f"r{i}", str(files[name]), i % 2])
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                 "--allow-outside-root", "--audio-seconds", "0.75"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["kept"] == len(names)
    shard = np.load(out / "audio" / "shard-00000.npy")
    options = AudioOptions(seconds=0.75)
    for i, name in enumerate(names):
        assert shard[i].tobytes() == reference(files[name], options).tobytes(), name


def test_a_decoding_pool_gives_the_same_samples(files):
    """Through worker processes (which keep their freed heap: mmcli.io.heap), bit for bit."""
    from mmcli.io.audio import AudioDecoder
    from mmcli.io.decode import decode_jobs

    options = AudioOptions(seconds=0.75)
    names = [n for n in files if n != "with_nan.wav"] * 7  # more than one chunk of 64
    decoder = AudioDecoder(options)
    results = dict(decode_jobs(((decoder, files[n]) for n in names), workers=2, chunk_size=16))
    assert len(results) == len(names)
    for i, name in enumerate(names):
        assert results[i].tobytes() == reference(files[name], options).tobytes(), name


@pytest.mark.skipif(__import__("platform").libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_a_worker_keeps_its_freed_heap_on_glibc():
    import subprocess
    import sys

    code = "from mmcli.io.heap import keep_freed_memory as k; print(k(), k())"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["True", "True"]
