"""Audio through the CLI on a tiny table where only the audio decides the label (a tone's
pitch: low or high); the text is noise. A model beats chance only by hearing the tone."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf
soundfile = pytest.importorskip("soundfile")

RATE = 8000
FLAGS = ["--audio-rate", "8000", "--audio-seconds", "0.25"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]


def write_tone_table(folder: Path, n: int = 96, seed: int = 0) -> Path:
    """``folder/data.csv`` (id, sound, text, label, split) and ``folder/audio/*.wav``: label
    ``high`` for a 1.5-2.5 kHz tone, ``low`` for 200-400 Hz, in noise; row 5 has no audio."""
    rng = np.random.default_rng(seed)
    (folder / "audio").mkdir(parents=True)
    table = folder / "data.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "sound", "text", "label", "split"])
        for i in range(n):
            high = rng.random() < 0.5
            freq = rng.uniform(1500, 2500) if high else rng.uniform(200, 400)
            t = np.arange(int(RATE * rng.uniform(0.15, 0.3))) / RATE
            wave = 0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(len(t))
            soundfile.write(folder / "audio" / f"r{i}.wav", wave.astype(np.float32), RATE,
                            subtype="PCM_16")
            cell = "" if i == 5 else f"audio/r{i}.wav"
            writer.writerow([f"r{i}", cell, " ".join(rng.choice(WORDS, 3)),
                             "high" if high else "low", "test" if i % 4 == 0 else "train"])
    return table


@pytest.fixture(scope="module")
def trained(tmp_path_factory, runner, app):
    folder = tmp_path_factory.mktemp("tones")
    table = write_tone_table(folder)
    bundle = folder / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "12",
                                 "--fusion", "late", "--seed", "0", "--quiet", *FLAGS])
    assert result.exit_code == 0, result.stderr
    return table, bundle, json.loads(result.stdout)


def test_only_the_audio_decides_and_the_model_hears_it(trained, runner, app):
    table, bundle, meta = trained
    assert meta["modalities"] == ["text", "audio"]
    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 24
    assert metrics["accuracy"] >= 0.9
    assert metrics["modalities"]["audio_only"] >= 0.9
    assert metrics["modalities"]["text_only"] <= 0.75
    assert metrics["modality_contribution"]["audio"] > 0.15
    assert set(metrics["fusion_weights"]) == {"text", "audio"}


def test_predict_reports_audio_present_and_evaluate_errors(trained, runner, app, tmp_path):
    table, bundle, _ = trained
    result = runner.invoke(app, ["predict", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 96
    assert records[5]["audio_present"] is False and records[5]["error"] is None
    assert all(r["audio_present"] for i, r in enumerate(records) if i != 5)
    errors = tmp_path / "errors.csv"
    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--quiet",
                                 "--errors", str(errors)])
    assert result.exit_code == 0, result.stderr
    assert errors.is_file()
    assert len(list(csv.DictReader(open(errors)))) <= 3  # at most the odd miss


def test_the_bundle_takes_raw_waveforms_and_reloads_identically(trained, tmp_path):
    from mmcli.api.prepare import prepare
    from mmcli.api.train import fit, save_bundle
    from mmcli.bundle import load_model, read_bundle
    from mmcli.config import PrepConfig, RunConfig, TrainConfig
    from mmcli.data.dataset import open_dataset
    from mmcli.model.feed import dataset_inputs

    table, bundle, _ = trained
    loaded = load_model(read_bundle(bundle))
    spec = {t.name: (tuple(t.shape), t.dtype) for t in loaded.inputs}
    assert spec["audio"] == ((None, 2000), "float32")  # the waveform, 0.25 s at 8 kHz

    prep = PrepConfig(audio_rate=RATE, audio_seconds=0.25)
    prepare(table, prep, tmp_path / "prepared")
    dataset = open_dataset(tmp_path / "prepared")
    model, meta, history = fit(dataset, RunConfig(prep=prep, train=TrainConfig(epochs=2)))
    inputs = dataset_inputs(dataset, np.arange(32), meta["modalities"])
    before = np.asarray(model.predict_on_batch(inputs))
    save_bundle(model, meta, history, tmp_path / "bundle")
    after = np.asarray(load_model(read_bundle(tmp_path / "bundle")).predict_on_batch(inputs))
    assert np.array_equal(before, after)

    # a row's prediction does not depend on its batch neighbours (per-example dB scaling)
    alone = {k: v[:1] for k, v in inputs.items()}
    loud = {k: v[:2].copy() for k, v in inputs.items()}
    loud["audio"][1] = np.clip(loud["audio"][1] * 1000, -1, 1)
    np.testing.assert_allclose(np.asarray(model.predict_on_batch(alone))[0],
                               np.asarray(model.predict_on_batch(loud))[0], rtol=1e-4,
                               atol=1e-6)
