"""A modality kind defined and registered from this file alone runs through every command.

The throwaway kind ``vector`` reads a column of space-separated numbers (detected by its name
``vec``), stores them as float32 shards and encodes them with one dense layer. The label is
decided by the vector (first number above the second), the text is noise: a model that
reaches high accuracy has used the new modality, end to end through the CLI.
"""

from __future__ import annotations

import csv
import json
from typing import ClassVar

import numpy as np
import pytest

from mmcli import modalities
from mmcli.modalities.base import Fault, Modality, Ready, ShardSpec

pytestmark = pytest.mark.tf

WIDTH = 4


class VectorModality(Modality):
    """A fixed-width vector of numbers, written ``"0.1 0.7 0.3 0.2"`` in its cell."""

    kind: ClassVar[str] = "vector"
    column_names: ClassVar[tuple[str, ...]] = ("vec",)
    encoders: ClassVar[str] = __name__  # its model side: encode() below

    def preparer(self, context):
        def prepare(cells, row_id, rejected):
            text = cells[0]
            if not isinstance(text, str) or not text.strip():
                return Ready(None)
            try:
                values = np.array([float(v) for v in text.split()], np.float32)
            except ValueError:
                return Fault("unreadable", f"not numbers: {text!r}")
            if values.shape != (WIDTH,):
                return Fault("unreadable", f"expected {WIDTH} numbers, got {len(values)}")
            return Ready(values)

        return prepare

    def shard_spec(self, name, config):
        return ShardSpec("vectors" + name[len(self.kind):], (WIDTH,), "float32")

    def input_spec(self, config):
        return (WIDTH,), "float32"

    def absent(self, config):
        return 0.0


def encode(x, config, seed, name, fit):
    """The vector kind's model side: one dense layer to ``embed_dim``."""
    from mmcli.model.backend import import_keras

    keras = import_keras()
    return keras.layers.Dense(config.embed_dim, activation="relu", name=f"{name}_embed")(x)


@pytest.fixture
def vector_kind():
    modalities.register(VectorModality())
    yield
    modalities.unregister("vector")


def _table(path, n=240, seed=0):
    rng = np.random.default_rng(seed)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "vec", "text", "label", "split"])
        for i in range(n):
            vec = rng.random(WIDTH)
            label = "up" if vec[0] > vec[1] else "down"
            cell = " ".join(f"{v:.4f}" for v in vec)
            if i == 3:
                cell = "not numbers"  # one broken cell: masked, reported
            text = " ".join(rng.choice(words, 3))
            writer.writerow([f"r{i}", cell, text, label, "test" if i % 4 == 0 else "train"])
    return path


def test_a_registered_kind_runs_through_every_command(vector_kind, runner, app, tmp_path):
    table = _table(tmp_path / "data.csv")
    prepared, bundle = tmp_path / "prepared", tmp_path / "bundle"

    result = runner.invoke(app, ["preprocess", str(table), "--out", str(prepared)])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["modalities"] == ["text", "vector"]
    assert summary["roles"]["vector"] == "vec"
    assert summary["issues"] == {"masked:unreadable": 1}
    assert (prepared / "vectors" / "shard-00000.npy").is_file()

    result = runner.invoke(app, ["train", str(prepared), "--out", str(bundle), "--epochs", "30",
                                 "--fusion", "late", "--seed", "0", "--quiet"])
    assert result.exit_code == 0, result.stderr
    meta = json.loads(result.stdout)
    assert meta["modalities"] == ["text", "vector"]

    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 60
    assert metrics["accuracy"] >= 0.85  # the vector decides the label
    assert metrics["modalities"]["vector_only"] >= 0.85
    assert metrics["modalities"]["text_only"] <= 0.75  # the text is noise

    result = runner.invoke(app, ["predict", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 240
    assert records[3]["vector_present"] is False and records[3]["error"] is None
    assert all(r["vector_present"] for i, r in enumerate(records) if i != 3)
    truth = {f"r{i}": row for i, row in enumerate(csv.DictReader(open(table)))}
    right = [r["label"] == truth[r["id"]]["label"] for r in records
             if truth[r["id"]]["split"] == "test"]  # held-out rows only
    assert len(right) == 60 and np.mean(right) >= 0.85
