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


def _faulty_audio_table(folder: Path, table: Path, suffix: str) -> Path:
    """Six rows of ``table`` to predict; rows 4-6 (the second chunk of 3) have an empty file,
    a file that is not audio and one longer than the bundle's 600 s limit; rows 2-3 none."""
    (folder / "audio" / "empty.wav").write_bytes(b"")
    (folder / "audio" / "note.wav").write_text("not a recording\n")
    soundfile.write(folder / "audio" / "long.wav", np.zeros(1000 * 601, np.int16), 1000,
                    subtype="PCM_16")
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))[:6]
    for row, cell in zip(rows[3:], ["audio/empty.wav", "audio/note.wav", "audio/long.wav"],
                         strict=True):
        row["sound"] = cell
    rows[1]["sound"] = rows[2]["sound"] = ""
    rows = [{k: v for k, v in row.items() if k not in ("label", "split")} for row in rows]
    out = folder / f"faulty.{suffix}"
    if suffix == "jsonl":
        out.write_text("".join(json.dumps(row) + "\n" for row in rows))
    else:
        with open(out, "w", newline="") as handle:
            writer = csv.DictWriter(handle, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return out


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_predict_names_every_audio_fault_by_row_column_and_reason(trained, runner, app, suffix):
    table, bundle, _ = trained
    faulty = _faulty_audio_table(table.parent, table, suffix)
    rejects = table.parent / f"rejects-{suffix}.csv"
    result = runner.invoke(app, ["predict", str(bundle), str(faulty), "--chunk-rows", "3",
                                 "--rejects", str(rejects), "--force"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["audio_present"] for r in records] == [True] + [False] * 5
    with open(rejects, newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(x["row"], x["id"], x["column"], x["reason"], x["action"]) for x in lines] == [
        ("2", "r1", "sound", "missing", "masked"),
        ("3", "r2", "sound", "missing", "masked"),
        ("4", "r3", "sound", "unreadable", "masked"),
        ("5", "r4", "sound", "unreadable", "masked"),
        ("6", "r5", "sound", "too_long", "masked"),
    ]
    assert "empty.wav" in lines[2]["message"] and "long.wav" in lines[4]["message"]
    assert "2  masked:unreadable" in result.stderr and "1  masked:too_long" in result.stderr
    assert "row 4 (id r3) sound: unreadable (masked)" in result.stderr
    # missing in 5 of 6 rows, over --max-missing-fraction 0.5: loud
    assert "mmcli: warning: audio (sound) is missing or unusable in 5 of 6 kept rows" \
        in result.stderr


def test_evaluate_counts_what_reading_did_to_the_rows(trained, runner, app, tmp_path):
    table, bundle, _ = trained
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.stderr
    read = json.loads(result.stdout)["data_issues"]
    assert (read["rows"], read["kept"], read["rejected"]) == (96, 96, 0)
    assert read["issues"] == {"masked:missing": 1}
    with open(rejects, newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert (line["row"], line["id"], line["column"], line["reason"]) == ("6", "r5", "sound",
                                                                         "missing")
    assert "96 rows read: 96 kept (1 with a modality masked), 0 rejected" in result.stderr
