"""sample_data/four.csv: the four-modality sample table keeps its promises (16 balanced
labels, each modality carrying one of the four halvings) and its audio column is detected."""

from __future__ import annotations

import csv
import json
import wave
from collections import Counter

import numpy as np

from tests.conftest import SAMPLE

FOUR = SAMPLE.parent / "four.csv"


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
