"""sample_data/four.csv: the four-modality sample table keeps its promises (16 balanced
labels, each modality carrying one of the four halvings) and its audio column is detected."""

from __future__ import annotations

import csv
import json
import wave
from collections import Counter

import numpy as np
import pytest

from tests.conftest import SAMPLE

FOUR = SAMPLE.parent / "four.csv"
FOUR_EPOCHS = 20
FOUR_FLOOR = 0.3


def _pitch(path) -> float:
    with wave.open(str(path)) as handle:
        samples = np.frombuffer(handle.readframes(handle.getnframes()), "<i2").astype(float)
        rate = handle.getframerate()
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.argmax(spectrum) * rate / len(samples))


def test_each_modality_carries_one_part_of_the_label():
    rows = list(csv.DictReader(open(FOUR)))
    base = {r["id"]: r for r in csv.DictReader(open(SAMPLE))}
    counts = Counter(r["label"] for r in rows)
    assert len(counts) == 16 and set(counts.values()) == {30}
    for row in rows:
        colour, mood, pitch, size = row["label"].split("_")
        assert base[row["id"]]["label"] == f"{colour}_{mood}"  # image and text as in data.csv
        assert (row["image"], row["text"], row["split"]) == (
            base[row["id"]]["image"], base[row["id"]]["text"], base[row["id"]]["split"])
        assert (float(row["size"]) >= 50) == (size == "large")
    for row in rows[4:40]:  # the tone's pitch tells low from high
        high = row["label"].split("_")[2] == "high"
        assert (_pitch(SAMPLE.parent / row["audio"]) > 500) == high


def test_preprocess_finds_the_audio_and_reports_the_silent_row(runner, app, tmp_path):
    result = runner.invoke(app, ["check", str(FOUR), "--max-reject-fraction", "1"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["modalities"] == ["image", "text", "audio", "tabular"]
    assert report["roles"]["audio"] == "audio"
    assert report["issues"]["masked:silent"] == 1


@pytest.mark.tf
def test_the_defaults_use_every_modality_of_the_four_table(runner, app, tmp_path):
    """The demo's job (make demo) with the defaults, smaller: every modality contributes on
    the test rows (masking any one of them costs accuracy; each carries a quarter of the
    label) and has fusion weight."""
    prepared, bundle = tmp_path / "prepared", tmp_path / "bundle"
    result = runner.invoke(app, ["preprocess", str(FOUR), "--out", str(prepared),
                                 "--image-size", "32", "--quiet"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["train", str(prepared), "--out", str(bundle), "--seed", "0",
                                 "--epochs", str(FOUR_EPOCHS), "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert set(json.loads(result.stdout)["training"]["auxiliary"]) == {
        "image", "text", "audio", "tabular"}
    result = runner.invoke(app, ["evaluate", str(bundle), str(prepared), "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 120
    assert metrics["accuracy"] >= FOUR_FLOOR, metrics["accuracy"]  # chance 1/16
    for name, value in metrics["modality_contribution"].items():
        assert value > 0, (name, metrics["modality_contribution"])
    assert min(metrics["fusion_weights"].values()) >= 0.1, metrics["fusion_weights"]
