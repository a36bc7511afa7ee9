"""Keras applications image backbones: frozen features cached, reload equality, weights."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmcli.api.prepare import prepare
from mmcli.config import ModelConfig, PrepConfig, RunConfig, TrainConfig
from mmcli.data.dataset import open_dataset
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.tf

WEIGHTS = ROOT.parent / "shared" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("backbones") / "prepared"
    prepare(SAMPLE, PrepConfig(image_size=32), out)
    return open_dataset(out)


@pytest.fixture(scope="module")
def prepared_small(tmp_path_factory):
    """The first 64 rows of sample_data: enough steps for every backbone weight to move."""
    folder = tmp_path_factory.mktemp("backbones_small")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:65]
    (folder / "data.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    prepare(folder / "data.csv", PrepConfig(image_size=32, image_root=str(SAMPLE.parent)),
            folder / "prepared")
    return open_dataset(folder / "prepared")


def fit_backbone(prepared, epochs=3, **model):
    from mmcli.api.train import fit

    config = RunConfig(
        prep=PrepConfig(image_size=32),
        model=ModelConfig(image_encoder="mobilenet", image_alpha=0.25, **model),
        train=TrainConfig(epochs=epochs, seed=0),
    )
    return fit(prepared, config)


def assert_reload_equal(prepared, model, meta, history, folder: Path):
    from mmcli.api.train import save_bundle
    from mmcli.bundle import load_model, read_bundle
    from mmcli.model.feed import dataset_inputs

    inputs = dataset_inputs(prepared, np.arange(48), meta["modalities"])
    before = np.asarray(model.predict_on_batch(inputs))
    save_bundle(model, meta, history, folder)
    after = np.asarray(load_model(read_bundle(folder)).predict_on_batch(inputs))
    assert np.array_equal(before, after)
    return before


def test_frozen_backbone_trains_on_cached_features_and_reloads_equal(prepared, tmp_path):
    model, meta, history = fit_backbone(prepared, image_weights="none")
    assert meta["config"]["model"]["image_encoder"] == "mobilenet"
    assert meta["training"]["feature_seconds"] > 0
    backbone = model.get_layer("mmcli_features").get_layer("image_backbone")
    assert not backbone.trainable
    frozen = [w.copy() for w in backbone.get_weights()]
    proba = assert_reload_equal(prepared, model, meta, history, tmp_path / "bundle")
    assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, backbone.get_weights(), strict=True))
    assert set(meta["validation"]["fusion_weights"]) == {"image", "text"}


def test_trainable_backbone_trains_end_to_end(prepared_small, tmp_path, monkeypatch):
    import mmcli.model.build as build_module

    initial = {}
    real_build = build_module.build

    def build(*args, **kwargs):  # record the backbone's weights as built, before training
        built = real_build(*args, **kwargs)
        backbone = built.model.get_layer("image_backbone")
        initial.update({w.path: np.array(w.numpy()) for w in backbone.trainable_weights})
        return built

    monkeypatch.setattr(build_module, "build", build)
    import mmcli.model.cached as cached_module

    caches = []  # a trainable backbone sees the images: no frozen features are computed

    class RecordedCache(cached_module.FeatureCache):
        def __init__(self, *args, **kwargs):
            caches.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(cached_module, "FeatureCache", RecordedCache)
    prepared = prepared_small  # one epoch of a trainable backbone: 64 rows suffice
    model, meta, history = fit_backbone(
        prepared, epochs=1, image_weights="none", freeze_backbone=False
    )
    names = {layer.name for layer in model.layers}
    assert "image_backbone" in names and "mmcli_head" not in names  # one flat model
    trained = {w.path: w.numpy() for w in model.get_layer("image_backbone").trainable_weights}
    assert initial and set(trained) == set(initial)
    changed = [k for k in initial if not np.array_equal(initial[k], trained[k])]
    assert len(changed) > 0.9 * len(initial), f"only {len(changed)} of {len(initial)} changed"
    assert caches == []
    assert_reload_equal(prepared, model, meta, history, tmp_path / "bundle")


@pytest.mark.skipif(not WEIGHTS.is_file(), reason="shared MobileNet weights not present")
def test_pretrained_weights_by_path_are_used_and_saved(prepared, tmp_path):
    from mmcli.model.backend import import_keras

    keras = import_keras()
    model, meta, history = fit_backbone(prepared, image_weights=str(WEIGHTS))
    reference = keras.applications.MobileNet(
        input_shape=(32, 32, 3), alpha=0.25, include_top=False, weights=str(WEIGHTS)
    )
    backbone = model.get_layer("mmcli_features").get_layer("image_backbone")
    assert np.array_equal(backbone.get_weights()[0], reference.get_weights()[0])
    assert_reload_equal(prepared, model, meta, history, tmp_path / "bundle")


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0"])
def test_other_backbones_take_raw_uint8_images(name):
    from mmcli.model.build import build

    config = ModelConfig(image_encoder=name, image_weights="none")
    built = build(["image", "text"], config, PrepConfig(image_size=16), num_classes=3,
                  fit={"text": ["a red cat", "a blue dog"]}, seed=0)
    inputs = {
        "image": np.random.default_rng(0).integers(0, 255, (2, 16, 16, 3)).astype(np.uint8),
        "text": np.array(["a red cat", "a dog"], dtype=object),
        "present": np.ones((2, 2), np.float32),
    }
    proba = np.asarray(built.model.predict_on_batch(inputs))
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


@pytest.fixture(scope="module")
def small_table(tmp_path_factory) -> Path:
    """The first 64 rows of sample_data (its images read from sample_data/): what the
    weights-resolution tests below train on for one epoch."""
    table = tmp_path_factory.mktemp("backbones_table") / "data.csv"
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()[:65]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def run_cli(tmp_path: Path, table: Path, *args: str, size: str = "16"
            ) -> subprocess.CompletedProcess:
    """The CLI in a fresh process whose Keras cache is empty (KERAS_HOME is read at import)
    and whose downloads fail at once (a proxy on a closed local port): no weights to be had."""
    closed = "http://127.0.0.1:9"
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras-home"), "HTTP_PROXY": closed,
           "HTTPS_PROXY": closed, "http_proxy": closed, "https_proxy": closed,
           "NO_PROXY": "", "no_proxy": ""}
    return subprocess.run(
        [sys.executable, "-m", "mmcli", "train", str(table), "--image-root", str(SAMPLE.parent),
         "--image-size", size, "--epochs", "1", "--image-encoder", "mobilenet", *args],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )


def test_imagenet_without_cache_or_network_names_the_fix(tmp_path, small_table):
    result = run_cli(tmp_path, small_table, "--out", str(tmp_path / "b1"), "--image-weights",
                     "imagenet", "--quiet")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("mmcli: error: ImageNet weights for mobilenet")
    assert "mobilenet_2_5_224_tf_no_top.h5" in message and "--image-weights PATH" in message
    assert "Traceback" not in result.stderr


def test_auto_weights_fall_back_to_small_cnn_and_say_so(tmp_path, small_table):
    """At 64 px `auto` wants ImageNet weights (below it falls back for size): with an empty
    cache and no network it must fall back for the missing weights, and say so."""
    out = tmp_path / "b2"
    result = run_cli(tmp_path, small_table, "--out", str(out), "--image-weights", "auto",
                     size="64")
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["config"]["model"]["image_encoder"] == "small_cnn"
    assert meta["config"]["prep"]["image_size"] == 64
    text = " ".join(result.stderr.split())  # the console wraps long lines
    assert text.count("note: ") == 1, result.stderr
    assert ("note: ImageNet weights for mobilenet (alpha 0.25) are not in the Keras cache and "
            "cannot be downloaded") in text
    assert "too small" not in text
    assert "Falling back to image encoder small_cnn (trained from scratch)." in text
    json.loads(result.stdout)  # stdout is still only the JSON summary


def test_frozen_backbone_bundle_through_the_cli(runner, app, tmp_path):
    """train -> evaluate -> predict with a frozen backbone: fusion weights are reported by
    evaluate too (the head is a nested model), and predict takes the raw table."""
    bundle = tmp_path / "bundle"
    args = ["train", str(SAMPLE), "--out", str(bundle), "--image-size", "32", "--epochs", "2",
            "--image-encoder", "mobilenet", "--image-weights", "none", "--fusion", "late",
            "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert set(json.loads(result.stdout)["validation"]["fusion_weights"]) == {"image", "text"}
    result = runner.invoke(app, ["evaluate", str(bundle), str(SAMPLE)])
    assert result.exit_code == 0, result.stderr
    weights = json.loads(result.stdout)["fusion_weights"]
    assert set(weights) == {"image", "text"} and abs(sum(weights.values()) - 1) < 1e-3
    result = runner.invoke(app, ["predict", str(bundle), str(SAMPLE), "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 480 and all(abs(sum(r["probabilities"].values()) - 1) < 1e-3
                                       for r in records if r["label"] is not None)


@pytest.mark.skipif(not WEIGHTS.is_file(), reason="shared MobileNet weights not present")
def test_auto_weights_use_the_keras_cache(tmp_path, small_table):
    """With the file in $KERAS_HOME/models (as after a first download), the default trains the
    pretrained backbone offline, and stdout stays only the JSON summary."""
    import shutil

    (tmp_path / "keras-home" / "models").mkdir(parents=True)
    shutil.copy(WEIGHTS, tmp_path / "keras-home" / "models" / WEIGHTS.name)
    result = run_cli(tmp_path, small_table, "--out", str(tmp_path / "b3"), "--image-size", "64")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    meta = json.loads((tmp_path / "b3" / "bundle.json").read_text())
    assert meta["config"]["model"]["image_encoder"] == "mobilenet"
    assert meta["config"]["model"]["image_weights"] == "auto"
    assert set(summary["validation"]["fusion_weights"]) == {"image", "text"}
