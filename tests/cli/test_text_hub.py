"""--text-encoder hub:<preset>: a tiny BERT preset built here, trained through the CLI, its
bundle predicting the same after the preset folder is gone; offline and missing-package
errors are one line with exit 2."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import time
from pathlib import Path

import pytest

HAS_HUB = importlib.util.find_spec("keras_hub") is not None
WORDS = ["red", "blue", "cat", "dog", "the", "a", "is", "big", "small", "sky", "sea"]


def _preset(folder: Path) -> Path:
    """A 1-layer BERT (hidden size 8) with its tokenizer, saved with save_to_preset."""
    import keras_hub

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocab, lowercase=True)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocab), num_layers=1, num_heads=1, hidden_dim=8,
        intermediate_dim=16, max_sequence_length=16)
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer=tokenizer, sequence_length=16)
    for part in (backbone, tokenizer, preprocessor):
        part.save_to_preset(str(folder))
    return folder


def _table(path: Path) -> Path:
    """40 rows: the label is the colour word in the text."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "label"])
        for i in range(40):
            colour = ("red", "blue")[i % 2]
            writer.writerow([f"r{i}", f"the {WORDS[2 + i % 3]} is {colour} {WORDS[7 + i % 4]}",
                             colour])
    return path


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_hub_preset_trains_and_the_bundle_predicts_without_it(tmp_path, runner, app,
                                                               monkeypatch):
    monkeypatch.setenv("MMCLI_ENGINE_EXPORT", "1")  # it has none: a warning, not a failure
    preset = _preset(tmp_path / "tiny_bert")
    table = _table(tmp_path / "t.csv")
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(out), "--text-col", "text",
                                 "--text-encoder", f"hub:{preset}", "--epochs", "2",
                                 "--quiet"])
    assert result.exit_code == 0, result.stderr
    trained = json.loads(result.stdout)
    assert trained["encoders"] == {"text": f"hub:{preset}"}
    assert "no LiteRT export" in result.stderr
    import keras_hub
    import numpy as np

    from mmcli.bundle import load_model, read_bundle

    start = keras_hub.models.Backbone.from_preset(str(preset)).get_weights()
    model = load_model(read_bundle(out))
    kept = model.get_layer("mmcli_text_features").get_layer("text_backbone").get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(start, kept, strict=True))  # frozen
    args = ["predict", str(out), str(table), "--quiet"]
    before = runner.invoke(app, args)
    assert before.exit_code == 0, before.stderr
    shutil.rmtree(preset)
    after = runner.invoke(app, args)
    assert after.exit_code == 0, after.stderr
    rows = [json.loads(line) for line in before.stdout.splitlines()]
    again = [json.loads(line) for line in after.stdout.splitlines()]
    assert len(rows) == 40
    assert [r["probabilities"] for r in rows] == [r["probabilities"] for r in again]
    explained = runner.invoke(app, ["explain", str(out), str(table), "--out",
                                    str(tmp_path / "why"), "--quiet"])
    assert explained.exit_code == 0, explained.stderr  # occluded texts through the preset
    assert json.loads(explained.stdout)["methods"] == {"text": "token_occlusion"}
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "keras_hub" else real(name, *a))
    missing = runner.invoke(app, args)
    assert missing.exit_code == 2
    assert "pip install 'mmcli[hub]'" in missing.stderr


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_unknown_preset_name_fails_fast_with_one_line(tmp_path, runner, app):
    started = time.monotonic()
    result = runner.invoke(app, ["train", str(_table(tmp_path / "t.csv")), "--out",
                                 str(tmp_path / "b"), "--text-col", "text",
                                 "--text-encoder", "hub:no_such_bert_en", "--quiet"])
    assert time.monotonic() - started < 30
    assert result.exit_code == 2, result.stderr
    assert "unknown KerasHub preset 'no_such_bert_en'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_without_keras_hub_train_says_how_to_get_it(tmp_path, runner, app, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "keras_hub" else real(name, *a))
    result = runner.invoke(app, ["train", str(_table(tmp_path / "t.csv")), "--out",
                                 str(tmp_path / "b"), "--text-col", "text",
                                 "--text-encoder", "hub:bert_tiny_en_uncased", "--quiet"])
    assert result.exit_code == 2, result.stderr
    assert "pip install 'mmcli[hub]'" in result.stderr


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_a_preset_name_is_found_in_the_kagglehub_cache_without_network(tmp_path, monkeypatch):
    import keras_hub

    from mmcli.model import hub

    handle = keras_hub.models.Backbone.presets["bert_tiny_en_uncased"]["kaggle_handle"]
    cached = tmp_path / "cache" / "models" / Path(handle.removeprefix("kaggle://"))
    _preset(cached)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hub, "_reachable", lambda *a: pytest.fail("no network look-up"))
    assert hub.resolve("hub:bert_tiny_en_uncased") == str(cached)
    assert hub.resolve(str(cached)) == str(cached)  # a preset folder without hub:


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_a_preset_name_neither_cached_nor_reachable_says_what_to_do(tmp_path, monkeypatch):
    from mmcli.errors import UsageError
    from mmcli.model import hub

    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "empty"))
    monkeypatch.setattr(hub, "_reachable", lambda *a: False)
    with pytest.raises(UsageError, match="cannot be reached. Fix: on a connected machine"):
        hub.resolve("hub:bert_tiny_en_uncased")
    with pytest.raises(UsageError, match="no such preset folder"):
        hub.resolve(f"hub:{tmp_path / 'gone'}")


def test_reachability_check_is_bounded():
    from mmcli.model import hub

    started = time.monotonic()
    hub._reachable(0.5)  # whatever the network, it answers within its timeout
    assert time.monotonic() - started < 2.5


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_a_fine_tuned_preset_changes_its_weights_and_reloads(tmp_path, runner, app):
    import numpy as np

    from mmcli.bundle import load_model, read_bundle

    preset = _preset(tmp_path / "tiny_bert")
    table = _table(tmp_path / "t.csv")
    out = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(table), "--out", str(out), "--text-col", "text",
                                 "--text-encoder", f"hub:{preset}", "--epochs", "2",
                                 "--set", "model.freeze_text_backbone=false", "--quiet"])
    assert result.exit_code == 0, result.stderr
    import keras_hub

    start = keras_hub.models.Backbone.from_preset(str(preset)).get_weights()
    model = load_model(read_bundle(out))
    tuned = model.get_layer("mmcli_text_features").get_layer("text_backbone").get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(start, tuned, strict=True))


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_hub_text_round_trips_through_its_config(tmp_path):
    import keras_hub
    import numpy as np

    from mmcli.model.layers import HubText

    preset = _preset(tmp_path / "tiny_bert")
    layer = HubText(keras_hub.models.TextClassifierPreprocessor.from_preset(str(preset)))
    again = HubText.from_config(layer.get_config())
    texts = np.array(["the red cat", "", "unknown words here"])
    for key, value in layer(texts).items():
        assert np.array_equal(np.asarray(value), np.asarray(again(texts)[key]))
    with pytest.raises(ValueError, match="Expected a non-empty `vocabulary`"):
        HubText(layer.get_config()["preprocessor"], vocabulary=[])


@pytest.mark.tf
@pytest.mark.skipif(not HAS_HUB, reason="keras-hub is not installed")
def test_a_backbone_without_pooled_output_is_a_usage_error(tmp_path, monkeypatch):
    import keras
    import keras_hub

    from mmcli.config import ModelConfig
    from mmcli.errors import UsageError
    from mmcli.model import hub, text_encoders

    preset = _preset(tmp_path / "tiny_bert")
    preprocessor = keras_hub.models.TextClassifierPreprocessor.from_preset(str(preset))
    inputs = {"token_ids": keras.Input((16,), dtype="int32", name="token_ids"),
              "segment_ids": keras.Input((16,), dtype="int32", name="segment_ids"),
              "padding_mask": keras.Input((16,), dtype="bool", name="padding_mask")}
    sequence = keras.layers.Embedding(len(WORDS) + 5, 4)(inputs["token_ids"])
    monkeypatch.setattr(hub, "load_parts",
                        lambda encoder: (preprocessor, keras.Model(inputs, sequence)))
    config = ModelConfig(text_encoder=f"hub:{preset}")
    with pytest.raises(UsageError, match="has no pooled output; use a BERT-family preset"):
        text_encoders.extractor(config, keras.Input((), dtype="string"), 1)
