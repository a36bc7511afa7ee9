"""Audio saliency on clips whose label is a tone's pitch (low or high) and whose tone fills
one half of the clip, noise the other: the saliency falls in the tone's half and in its
frequency band, the trained weights put it there (model randomisation), and the Shapley
values still add up with an audio modality, through ``mmcli explain``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf
soundfile = pytest.importorskip("soundfile")

RATE, SECONDS = 8000, 0.5
FLAGS = ["--audio-rate", str(RATE), "--audio-seconds", str(SECONDS)]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]


def write_half_tone_table(folder: Path, n: int = 96, seed: int = 0) -> tuple[Path, list]:
    """``folder/data.csv`` (id, sound, text, label, split) and its wav files. Each clip is
    noise with a tone in its first or second half: label ``high`` (1.5-2.5 kHz) or ``low``
    (200-400 Hz); the text is noise; row 5 has no audio. Returns the table and, per row,
    ``(tone in the first half, high)``."""
    rng = np.random.default_rng(seed)
    (folder / "audio").mkdir(parents=True)
    table, facts = folder / "data.csv", []
    samples = int(RATE * SECONDS)
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "sound", "text", "label", "split"])
        for i in range(n):
            high, first = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
            freq = rng.uniform(1500, 2500) if high else rng.uniform(200, 400)
            t = np.arange(samples // 2) / RATE
            tone = np.zeros(samples)
            at = 0 if first else samples // 2
            tone[at:at + samples // 2] = 0.3 * np.sin(2 * np.pi * freq * t)
            wave = tone + 0.02 * rng.standard_normal(samples)
            soundfile.write(folder / "audio" / f"r{i}.wav", wave.astype(np.float32), RATE,
                            subtype="PCM_16")
            writer.writerow([f"r{i}", "" if i == 5 else f"audio/r{i}.wav",
                             " ".join(rng.choice(WORDS, 3)), "high" if high else "low",
                             "test" if i % 4 == 0 else "train"])
            facts.append((first, high))
    return table, facts


@pytest.fixture(scope="module")
def tones(tmp_path_factory, runner, app):
    folder = tmp_path_factory.mktemp("half_tones")
    table, facts = write_half_tone_table(folder)
    bundle = folder / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "12",
                                 "--fusion", "late", "--seed", "0", "--quiet", *FLAGS])
    assert result.exit_code == 0, result.stderr
    return {"table": table, "bundle": bundle, "facts": facts, "folder": folder}


@pytest.fixture(scope="module")
def held_out(tones, tmp_path_factory):
    from mmcli.api.source import open_source
    from mmcli.bundle import load_model, read_bundle
    from mmcli.model.feed import dataset_inputs

    bundle = read_bundle(tones["bundle"])
    data = open_source(tones["table"], bundle.config.prep, tmp_path_factory.mktemp("prep"))
    frame = data.examples
    chosen = np.flatnonzero((frame["split"] == "test").to_numpy()
                            & data.present("audio", np.arange(len(frame))).astype(bool))
    names = list(bundle.modalities)
    rows = [int(str(i)[1:]) for i in frame["id"].to_numpy()[chosen]]
    return {"bundle": bundle, "model": load_model(bundle), "names": names,
            "inputs": dataset_inputs(data, chosen, names, bundle.config.prep),
            "truth": np.array([bundle.labels.index(v)
                               for v in frame["label"].to_numpy()[chosen]]),
            "facts": [tones["facts"][r] for r in rows]}


def saliency(model, names, inputs, target):
    from mmcli.model.explain.audio import AudioExplainer
    from mmcli.model.explain.base import Context, Settings
    from mmcli.model.explain.forward import Forward

    context = Context(model, Forward(model, names), names, Settings(steps=16))
    found = AudioExplainer()(context, "audio", inputs, target)
    return np.stack([i.saliency for i in found]), found


def shares(maps, facts):
    """Per row: the saliency's share in the tone's half of the clip, and in the tone's half
    of the mel bins (a 1.5 kHz tone sits above the middle bin at 8 kHz, 400 Hz below)."""
    mels, frames = maps.shape[1:]
    time, band = [], []
    for m, (first, high) in zip(maps, facts, strict=True):
        total = m.sum()
        half = m[:, :frames // 2] if first else m[:, frames - frames // 2:]
        part = m[mels // 2:] if high else m[:mels // 2]
        time.append(half.sum() / total)
        band.append(part.sum() / total)
    return np.array(time), np.array(band)


def test_saliency_falls_on_the_tone_in_time_and_frequency(held_out):
    model, inputs = held_out["model"], held_out["inputs"]
    predicted = np.asarray(model.predict_on_batch(inputs)).argmax(axis=1)
    right = predicted == held_out["truth"]
    assert right.mean() >= 0.8
    maps, found = saliency(model, held_out["names"], inputs, predicted)
    assert maps.shape[1:] == (64, 51)  # 64 mel bins x 51 frames of 10 ms (0.5 s)
    time, band = shares(maps, held_out["facts"])
    # each half is half the map; measured medians 0.76 (time) and 0.85 (band), every right
    # row above 0.5 (12 epochs, seed 0)
    assert np.median(time[right]) >= 0.65 and (time[right] > 0.5).mean() >= 0.9
    assert np.median(band[right]) >= 0.7 and (band[right] > 0.5).mean() >= 0.9
    gaps = np.array([i.notes["completeness_gap"] for i in found])
    assert np.median(np.abs(gaps)) < 0.02  # 16 steps; measured 0.002


def test_reinitialised_weights_give_different_saliency(held_out):
    from mmcli.bundle import load_model

    inputs, target = held_out["inputs"], held_out["truth"]
    trained_maps, _ = saliency(held_out["model"], held_out["names"], inputs, target)
    random = load_model(held_out["bundle"])
    rng = np.random.default_rng(0)
    for variable in random.trainable_weights:
        shape = tuple(variable.shape)
        if len(shape) >= 2:  # kernels: Glorot-normal draws, as at initialisation
            fan = shape[-2] * int(np.prod(shape[:-2])) + shape[-1]
            variable.assign(rng.normal(0, np.sqrt(2 / fan), shape).astype("float32"))
    random_maps, _ = saliency(random, held_out["names"], inputs, target)
    ranks = [np.corrcoef(*(np.argsort(np.argsort(x.ravel())) for x in (a, b)))[0, 1]
             for a, b in zip(trained_maps, random_maps, strict=True)]
    assert np.mean(ranks) < 0.5
    _, band_trained = shares(trained_maps, held_out["facts"])
    _, band_random = shares(random_maps, held_out["facts"])
    assert np.median(band_random) < np.median(band_trained)


def test_explain_cli_writes_spectrogram_pngs_and_efficient_shapley(tones, runner, app):
    out = tones["folder"] / "why"
    result = runner.invoke(app, ["explain", str(tones["bundle"]), str(tones["table"]),
                                 "--out", str(out), "--rows", "8", "--steps", "8", "-q"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]
    assert len(records) == 8
    page = (out / "index.html").read_text()
    for r in records:
        assert abs(sum(r["shapley"].values())
                   - (r["target_probability"] - r["empty_probability"])) < 1e-5
        assert r["methods"]["audio"] == "spectrogram_integrated_gradients"
        if r["id"] == "r5":  # no audio: exactly 0, no pictures
            assert r["shapley"]["audio"] == 0.0 and r["files"] == []
            continue
        assert sorted(Path(f).stem.rsplit("_", 1)[-1] for f in r["files"]) == [
            "saliency", "spectrogram"]
        for file in r["files"]:
            assert (out / file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert Path(file).name in page
        assert r["notes"]["audio"]["baseline"] == "mean level of the clip"
    assert np.mean([abs(r["shapley"]["audio"]) for r in records]) > np.mean(
        [abs(r["shapley"]["text"]) for r in records])


def test_the_spectrogram_twin_computes_what_the_model_computes(held_out):
    """Integrated Gradients run on a twin that takes the model's own log-mel map."""
    from mmcli.model.explain.audio import log_mel, spectrogram_twin

    model, inputs = held_out["model"], held_out["inputs"]
    spectrograms = log_mel(model, "audio", inputs["audio"])
    assert spectrograms.shape[1:] == (64, 51, 1)
    assert 0.0 <= spectrograms.min() and spectrograms.max() == pytest.approx(1.0)
    twin = spectrogram_twin(model, "audio", (None, *spectrograms.shape[1:]))
    got = np.asarray(twin({**inputs, "audio": spectrograms}, training=False))
    assert np.allclose(got, np.asarray(model.predict_on_batch(inputs)), atol=1e-5)
