"""Every modality learns (issue 16): each encoder has its own auxiliary head, scored on the
validation rows in train's JSON; gated fusion does not collapse onto one modality when the
other alone is useful too; the auxiliary heads stay out of the saved bundle."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf

CLASSES = ("north", "south", "east", "west")
# Each modality alone points to the class on 85% of the rows by construction (about 0.89
# with the random rest; chance 0.25); their errors are independent, so fusion can do better.
AGREE = 0.85
# Floors on the validation rows (held out from training; 48 rows, so 0.4 is 2.4 standard
# errors above chance), checked at 30 epochs, seed 0, early stopping on the fused loss.
AUX_FLOOR = 0.4
WEIGHT_FLOOR = 0.2  # of 1.0 shared by two modalities


def _table(path, n=400, seed=0):
    """A text and a number, each pointing to the class (3 rows in 4), independently."""
    rng = np.random.default_rng(seed)
    words = {c: [f"{c}{k}" for k in range(4)] for c in CLASSES}
    filler = ["the", "a", "item", "thing", "piece"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "reading", "label", "split"])
        for i in range(n):
            label = int(rng.integers(4))
            said = label if rng.random() < AGREE else int(rng.integers(4))
            shown = label if rng.random() < AGREE else int(rng.integers(4))
            text = " ".join([*rng.choice(filler, 2), *rng.choice(words[CLASSES[said]], 2)])
            reading = f"{10 * shown + rng.uniform(0, 8):.2f}"
            writer.writerow([f"r{i}", text, reading, CLASSES[label],
                             "test" if i % 5 == 0 else "train"])
    return path


@pytest.fixture(scope="module")
def gated(tmp_path_factory, runner, app):
    work = tmp_path_factory.mktemp("every")
    table = _table(work / "data.csv")
    bundle = work / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "30",
                                 "--fusion", "gated", "--seed", "0", "--no-cache"])
    assert result.exit_code == 0, result.stderr
    return table, bundle, json.loads(result.stdout), result.stderr


def bundle_of(gated):
    return gated[1]


def test_each_modality_head_beats_chance_on_validation_rows(gated):
    _, _, meta, stderr = gated
    assert meta["validation"]["on"] == "val"
    aux = meta["training"]["auxiliary"]
    assert set(aux) == {"text", "tabular"}
    for name, scores in aux.items():
        assert scores["accuracy"] >= AUX_FLOOR, (name, scores)
    assert "each modality's own head (val accuracy): text 0." in stderr
    history = (bundle_of(gated) / "history.csv").read_text().splitlines()[0].split(",")
    assert {"val_aux_text_accuracy", "val_aux_tabular_accuracy", "val_accuracy"} <= set(history)


def test_gated_fusion_keeps_both_useful_modalities(gated, runner, app):
    table, bundle, meta, _ = gated
    weights = meta["validation"]["fusion_weights"]
    assert min(weights.values()) >= WEIGHT_FLOOR, weights
    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert min(metrics["fusion_weights"].values()) >= WEIGHT_FLOOR, metrics["fusion_weights"]
    assert metrics["accuracy"] >= 0.5, metrics["accuracy"]  # chance 0.25
    for name in ("text", "tabular"):  # each alone is useful to the fused model
        assert metrics["modalities"][f"{name}_only"] >= 0.5, metrics["modalities"]


def test_auxiliary_heads_stay_out_of_the_bundle(gated, runner, app):
    from mmcli.bundle import load_model, read_bundle

    table, bundle, _, _ = gated
    model = load_model(read_bundle(bundle))
    assert not any(layer.name.startswith("aux_") for layer in model.layers)
    result = runner.invoke(app, ["predict", str(table.parent / "bundle"), str(table),
                                 "--quiet"])
    record = json.loads(result.stdout.splitlines()[0])
    assert not any(key.startswith("aux") for key in record)
    assert set(record["probabilities"]) == set(CLASSES)


def test_auxiliary_heads_can_be_turned_off(tmp_path, runner, app):
    table = _table(tmp_path / "data.csv", n=80)
    result = runner.invoke(app, ["train", str(table), "--out", str(tmp_path / "b"),
                                 "--epochs", "2", "--set", "model.aux_loss_weight=0",
                                 "--no-cache"])
    assert result.exit_code == 0, result.stderr
    meta = json.loads(result.stdout)
    assert "auxiliary" not in meta["training"]
    assert "own " not in result.stderr
