"""Several image columns and separate text inputs: each column is its own modality.

The tables are built from sample_data so the answer is known: in ``two_images.csv`` the label
is the colour of the front image's shape and of the back image's (another row's image), so
each image alone reaches about half and only both together reach 100%; ``two_texts.csv`` does
the same with the mood words of two texts, which a bag of words over the joined text cannot
tell apart (whose mood is whose) but separate inputs can.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("multi")
    shutil.copytree(SAMPLE.parent / "images", folder / "images")
    rows = list(csv.DictReader(SAMPLE.open(encoding="utf-8")))
    order = list(range(len(rows)))
    random.Random(0).shuffle(order)
    other = {r["id"]: rows[j] for r, j in zip(rows, order, strict=True)}
    def write(name: str, header: list[str], cells) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(["id", *header, "label", "split"])
            for r in rows:
                first, second, label = cells(r, other[r["id"]])
                out.writerow([r["id"], first, second, label, r["split"]])

    def part(r: dict, i: int) -> str:
        return r["label"].split("_")[i]

    # colours come from the images, moods from the texts
    write("two_images.csv", ["front", "back"],
          lambda r, o: (r["image"], o["image"], f"{part(r, 0)}_{part(o, 0)}"))
    write("two_texts.csv", ["title", "body"],
          lambda r, o: (r["text"], o["text"], f"{part(r, 1)}_{part(o, 1)}"))
    return {"folder": folder, "rows": rows, "other": other}


IMAGES = ["--image-col", "front", "--image-col", "back"]
SMALL = ["--image-size", "32", "--seed", "0", "--quiet"]


def test_preprocess_writes_one_modality_per_image_column(runner, app, tables, tmp_path):
    out = tmp_path / "prepared"
    table = tables["folder"] / "two_images.csv"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), *IMAGES,
                                 "--image-size", "32", "--quiet"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["modalities"] == ["image", "image_2"]
    assert summary["roles"]["image_columns"] == ["front", "back"]
    assert summary["kept"] == 480 and summary["rejected"] == 0
    for folder in ("images", "images_2"):
        shards = sorted((out / folder).glob("shard-*.npy"))
        assert sum(len(np.load(p)) for p in shards) == 480

    import pandas as pd

    examples = pd.read_parquet(out / "examples.parquet")
    # ex0001's image is missing and ex0002's is corrupt (sample_data's broken rows): masked
    # in the column that names them, front for their own row, back for the rows borrowing them.
    borrowers = {r_id for r_id, o in tables["other"].items() if o["id"] in ("ex0001", "ex0002")}
    expected = {(1, "ex0001", "front", "missing"), (2, "ex0002", "front", "unreadable")}
    for r_id in borrowers:
        row = int(r_id[2:])
        reason = "missing" if tables["other"][r_id]["id"] == "ex0001" else "unreadable"
        expected.add((row, r_id, "back", reason))
    with (out / "rejects.csv").open(encoding="utf-8") as handle:
        lines = list(csv.DictReader(handle))
    assert {(int(x["row"]), x["id"], x["column"], x["reason"]) for x in lines} == expected
    assert all(x["action"] == "masked" for x in lines)
    by_id = examples.set_index("id")
    assert not by_id.loc["ex0001", "image_present"] and by_id.loc["ex0001", "image_2_present"]
    for r_id in borrowers:
        assert by_id.loc[r_id, "image_present"] and not by_id.loc[r_id, "image_2_present"]


def test_two_image_columns_train_evaluate_and_predict(runner, app, tables, tmp_path):
    table = tables["folder"] / "two_images.csv"
    bundle = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), *IMAGES, *SMALL,
                                 "--image-encoder", "small_cnn", "--epochs", "25"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["modalities"] == ["image", "image_2"]

    result = runner.invoke(app, ["evaluate", str(bundle), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["accuracy"] >= 0.9  # needs both images
    assert set(metrics["modalities"]) == {"image_only", "image_2_only"}
    assert all(v <= 0.75 for v in metrics["modalities"].values())  # one alone cannot
    assert set(metrics["fusion_weights"]) == {"image", "image_2"}

    result = runner.invoke(app, ["predict", str(bundle), str(table), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert len(records) == 480
    assert records["ex0001"]["image_present"] is False
    assert records["ex0001"]["image_2_present"] is True
    borrower = next(r for r, o in tables["other"].items() if o["id"] == "ex0001")
    assert records[borrower]["image_present"] is True
    assert records[borrower]["image_2_present"] is False
    truth = {r["id"]: r for r in csv.DictReader(table.open(encoding="utf-8"))}
    held_out = [i for i in records if truth[i]["split"] == "test"]  # never trained on
    right = sum(records[i]["label"] == truth[i]["label"] for i in held_out)
    assert len(held_out) == 120 and right / len(held_out) >= 0.9


def _train_texts(runner, app, table: Path, out: Path, *extra: str) -> dict:
    result = runner.invoke(app, ["train", str(table), "--out", str(out), "--text-col", "title",
                                 "--text-col", "body", "--fusion", "concat", "--epochs", "25",
                                 *SMALL, *extra])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_separate_text_inputs_beat_joined_text(runner, app, tables, tmp_path):
    table = tables["folder"] / "two_texts.csv"
    separate = _train_texts(runner, app, table, tmp_path / "separate", "--text-inputs",
                            "separate")
    assert separate["modalities"] == ["text", "text_2"]
    joined = _train_texts(runner, app, table, tmp_path / "joined")
    assert joined["modalities"] == ["text"]

    result = runner.invoke(app, ["evaluate", str(tmp_path / "separate"), str(table),
                                 "--quiet"])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert set(metrics["modalities"]) == {"text_only", "text_2_only"}
    assert metrics["accuracy"] >= 0.85
    assert metrics["split"] == "test"
    result = runner.invoke(app, ["evaluate", str(tmp_path / "joined"), str(table), "--quiet"])
    # a bag of words over "title | body" cannot tell whose mood is whose
    assert json.loads(result.stdout)["accuracy"] < metrics["accuracy"] - 0.15


def test_settings_with_several_columns_read_back_from_toml(runner, app, tmp_path):
    first = runner.invoke(app, ["train", "--print-config", *IMAGES, "--text-col", "title",
                                "--text-col", "body", "--text-inputs", "separate"])
    assert first.exit_code == 0, first.stderr
    prep = tomllib.loads(first.stdout)["prep"]
    assert prep["image_col"] == ["front", "back"] and prep["text_col"] == ["title", "body"]
    assert prep["text_inputs"] == "separate"
    saved = tmp_path / "run.toml"
    saved.write_text(first.stdout, encoding="utf-8")
    second = runner.invoke(app, ["train", "--print-config", "--config", str(saved)])
    assert second.stdout == first.stdout
    third = runner.invoke(app, ["train", "--print-config", "--set",
                                'prep.image_col=["front", "back"]'])
    assert tomllib.loads(third.stdout)["prep"]["image_col"] == ["front", "back"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--image-col", "front", "--image-col", "front"], "front"),
        (["--image-col", "front", "--image-col", "nope"], "nope"),
        (["--text-inputs", "apart"], "Unknown text inputs 'apart'"),
    ],
)
def test_bad_column_settings_are_one_line_errors(runner, app, tables, args, message):
    table = tables["folder"] / "two_images.csv"
    result = runner.invoke(app, ["check", str(table), *args])
    assert result.exit_code in (2, 3), result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("mmcli: error:") and message in line
    assert "Traceback" not in result.stderr


def test_frozen_backbone_is_shared_by_image_columns_and_reloads_equal(tables, tmp_path):
    from mmcli.api.prepare import prepare
    from mmcli.api.train import fit, save_bundle
    from mmcli.bundle import load_model, read_bundle
    from mmcli.config import ModelConfig, PrepConfig, RunConfig, TrainConfig
    from mmcli.data.dataset import open_dataset
    from mmcli.model.feed import dataset_inputs

    prep = PrepConfig(image_size=32, image_col=("front", "back"))
    prepare(tables["folder"] / "two_images.csv", prep, tmp_path / "prepared")
    data = open_dataset(tmp_path / "prepared")
    config = RunConfig(prep=prep, model=ModelConfig(image_encoder="mobilenet",
                                                    image_weights="none"),
                       train=TrainConfig(epochs=2, seed=0))
    model, meta, history = fit(data, config)
    assert meta["modalities"] == ["image", "image_2"]
    features = model.get_layer("mmcli_features")
    assert [layer.name for layer in features.layers].count("image_backbone") == 1
    inputs = dataset_inputs(data, np.arange(40), meta["modalities"])
    before = np.asarray(model.predict_on_batch(inputs))
    save_bundle(model, meta, history, tmp_path / "bundle")
    after = np.asarray(load_model(read_bundle(tmp_path / "bundle")).predict_on_batch(inputs))
    assert np.array_equal(before, after)
    hidden = dict(inputs, present=inputs["present"] * np.array([1, 0], np.float32))
    assert not np.allclose(np.asarray(model.predict_on_batch(hidden)), before)
