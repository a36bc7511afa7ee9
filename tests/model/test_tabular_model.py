"""Tabular columns through the CLI: only they decide the label, the bundle takes raw cells and
reloads to the same predictions, values unseen in training are counted."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mmcli.bundle import read_bundle

pytestmark = pytest.mark.tf

COLOURS = ("red", "blue", "green")


def _table(path, n=200, seed=0):
    """The label is (price > 5) XOR (colour == red); the text is noise. Some prices are
    blank or n/a, a constant column rides along, the test rows bring an unseen colour."""
    rng = np.random.default_rng(seed)
    words = ["alpha", "beta", "gamma", "delta", "omega"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "price", "colour", "const", "label", "split"])
        for i in range(n):
            price, colour = rng.uniform(0, 10), COLOURS[rng.integers(3)]
            label = "hi" if (price > 5) != (colour == "red") else "lo"
            test = i % 4 == 0
            cell = f"{price:.3f}" if i % 23 else ("n/a" if i % 2 else "")
            if test and i % 20 == 0:
                colour = "purple"  # never seen in training: the out-of-vocabulary bucket
                label = "hi" if price > 5 else "lo"
            writer.writerow([f"r{i}", " ".join(rng.choice(words, 3)), cell, colour, "7",
                             label, "test" if test else "train"])
    return path


def test_tabular_columns_decide_the_label_through_the_cli(runner, app, tmp_path):
    table = _table(tmp_path / "data.csv")
    bundle = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "40",
                                 "--fusion", "late", "--seed", "0", "--no-cache"])
    assert result.exit_code == 0, result.stderr
    meta = json.loads(result.stdout)
    assert meta["modalities"] == ["text", "tabular"]
    assert meta["roles"]["numeric"] == ["price", "const"]
    assert meta["roles"]["categorical"] == ["colour"]
    assert read_bundle(bundle).config.prep.numeric_col == ("price", "const")  # settled
    assert meta["training"]["inputs"]["tabular"]["numeric"]["const"]["constant"] is True
    assert "const is constant" in result.stderr

    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["n"] == 50
    assert metrics["accuracy"] >= 0.8  # chance is about 0.5: only price and colour tell
    assert metrics["modalities"]["tabular_only"] >= 0.8
    assert metrics["modalities"]["text_only"] <= 0.7
    assert metrics["unseen_categories"] == {"colour": 10}  # test rows 0, 20, ..., 180

    for engine in ("auto", "tf"):  # the bundle's LiteRT export, then the Keras model
        result = runner.invoke(app, ["predict", str(bundle), str(table), "--chunk-rows", "70",
                                     "--engine", engine])
        assert result.exit_code == 0, result.stderr
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(records) == 200 and all(r["tabular_present"] for r in records)
        # the unseen colour is counted in predict too, over every chunk
        assert "categories never seen in training (read as unknown): colour 10 cells" \
            in result.stderr, (engine, result.stderr)


def test_reloaded_bundle_takes_raw_cells_and_predicts_identically(tmp_path):
    from mmcli.api.prepare import prepare
    from mmcli.api.train import fit, save_bundle
    from mmcli.bundle import load_model, read_bundle
    from mmcli.config import RunConfig, TrainConfig
    from mmcli.data.dataset import open_dataset
    from mmcli.model.feed import dataset_inputs

    config = RunConfig(train=TrainConfig(epochs=2, seed=0))
    prepare(_table(tmp_path / "data.csv", n=60), config.prep, tmp_path / "prepared")
    data = open_dataset(tmp_path / "prepared")
    config = RunConfig(prep=data.schema.prep, train=config.train)
    model, meta, history = fit(data, config)
    inputs = dataset_inputs(data, np.arange(40), meta["modalities"])
    assert inputs["tabular"].shape == (40, 3)  # raw cells: price, const, colour
    before = np.asarray(model.predict_on_batch(inputs))
    save_bundle(model, meta, history, tmp_path / "bundle")
    loaded = load_model(read_bundle(tmp_path / "bundle"))
    assert np.array_equal(before, np.asarray(loaded.predict_on_batch(inputs)))
    raw = dict(inputs, tabular=np.array([["n/a", "7", "mauve"]] * 40, dtype=object))
    assert np.array_equal(np.asarray(model.predict_on_batch(raw)),
                          np.asarray(loaded.predict_on_batch(raw)))


def test_tabular_cells_layer_parses_imputes_and_round_trips():
    from mmcli.model.backend import import_keras
    from mmcli.model.layers import TabularCells

    keras = import_keras()
    layer = TabularCells([2.5], name="cells")
    numbers, missing, colour = layer(np.array([["n/a", "red"], [" 4 ", ""], ["1e1", "x"]]))
    assert np.allclose(np.asarray(numbers)[:, 0], [2.5, 4.0, 10.0])
    assert np.array_equal(np.asarray(missing)[:, 0], [1.0, 0.0, 0.0])
    assert [v[0] for v in np.asarray(colour).tolist()] == [b"red", b"[missing]", b"x"]
    again = keras.layers.deserialize(keras.layers.serialize(layer))
    assert again.get_config() == layer.get_config()


def test_a_named_column_empty_in_every_training_row_is_refused(runner, app, tmp_path):
    table = tmp_path / "data.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "size", "label"])
        writer.writerows([f"r{i}", f"w{i} x y", "", "ab"[i % 2]] for i in range(20))
    args = ["train", str(table), "--out", str(tmp_path / "b"), "--numeric-col", "size",
            "--epochs", "1", "--no-cache"]
    result = runner.invoke(app, args)  # a modality lost in every row: refused before the model
    assert result.exit_code == 3
    assert "tabular (size)" in result.stderr and "--allow-missing-modality" in result.stderr
    result = runner.invoke(app, [*args, "--allow-missing-modality"])  # the kind refuses too
    assert result.exit_code == 3
    assert "size" in result.stderr and "--ignore-col" in result.stderr
