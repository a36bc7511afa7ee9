"""``mmcli explain`` over any modality kind: a kind without an explainer still gets its
Shapley value; registering one in ``mmcli.model.explain.EXPLAINERS`` adds its inside view.
Also a multi-label bundle (per-label attributions, and the per-class global view), and a
frozen backbone whose features were cached during training."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmcli import modalities
from mmcli.model.explain.base import Inside
from tests.conftest import SAMPLE
from tests.test_modality_plugin import WIDTH, VectorModality, _table

pytestmark = pytest.mark.tf


class VectorColumns:
    """A test explainer for the ``vector`` kind: each component reset to the missing value
    (0.0), scored by the drop of the target probability: what a tabular kind will do."""

    method = "column_reset"

    def __call__(self, context, name, inputs, target):
        forward = context.forward
        full = forward.proba(forward.prepare(inputs))[np.arange(len(target)), target]
        scores = []
        for j in range(WIDTH):
            changed = {**inputs, name: np.array(inputs[name], copy=True)}
            changed[name][:, j] = 0.0
            p = forward.proba(forward.prepare(changed))[np.arange(len(target)), target]
            scores.append(full - p)
        return [Inside(columns={f"v{j}": float(scores[j][r]) for j in range(WIDTH)})
                for r in range(len(target))]


def _records(out):
    return [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]


def _efficient(record, shapley=None, p=None, empty=None):
    shapley = shapley or record["shapley"]
    p = record["target_probability"] if p is None else p
    empty = record["empty_probability"] if empty is None else empty
    return abs(sum(shapley.values()) - (p - empty)) < 1e-5


def test_a_kind_without_explainer_gets_shapley_and_one_with_gets_its_view(
        runner, app, tmp_path, monkeypatch):
    from mmcli.model import explain

    modalities.register(VectorModality())
    try:
        table, bundle = _table(tmp_path / "data.csv"), tmp_path / "bundle"
        result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs",
                                     "30", "--fusion", "late", "--seed", "0", "--quiet"])
        assert result.exit_code == 0, result.stderr
        args = ["explain", str(bundle), str(table), "--rows", "12", "-q", "--out"]
        result = runner.invoke(app, [*args, str(tmp_path / "plain")])
        assert result.exit_code == 0, result.stderr
        plain = _records(tmp_path / "plain")
        assert all(_efficient(r) for r in plain)
        assert plain[0]["methods"] == {"text": "token_occlusion", "vector": None}
        assert all(r["columns"] == {} and "vector" not in r["notes"] for r in plain)
        vector = np.mean([abs(r["shapley"]["vector"]) for r in plain])
        text = np.mean([abs(r["shapley"]["text"]) for r in plain])
        assert vector > text  # the vector decides the label, the text is noise

        monkeypatch.setitem(explain.EXPLAINERS, "vector", (__name__, "VectorColumns"))
        result = runner.invoke(app, [*args, str(tmp_path / "view")])
        assert result.exit_code == 0, result.stderr
        view = _records(tmp_path / "view")
        assert view[0]["methods"]["vector"] == "column_reset"
        assert [r["shapley"] for r in view] == [r["shapley"] for r in plain]
        decisive = [set(sorted(r["columns"], key=lambda c: -abs(r["columns"][c]))[:2])
                    == {"v0", "v1"} for r in view if r["columns"]]
        assert np.mean(decisive) >= 0.75  # the label is v0 > v1
    finally:
        modalities.unregister("vector")


def test_multi_label_explains_each_label_and_the_global_view_splits_colour_and_mood(
        runner, app, tmp_path, multi):
    """sample_data's labels as sets ("red|happy", the multi-label bundle of tests/conftest.py):
    {red, blue} from the image, {happy, sad} from the text."""
    bundle, sets = multi["bundle"], multi["table"]
    out = tmp_path / "why"
    result = runner.invoke(app, ["explain", str(bundle), str(sets), "--out", str(out),
                                 "--rows", "8", "-q"])
    assert result.exit_code == 0, result.stderr
    for r in _records(out):
        assert r["target"] in r["per_label"]
        assert _efficient(r)
        for part in r["per_label"].values():
            assert _efficient(r, part["shapley"], part["probability"], part["empty_probability"])
    result = runner.invoke(app, ["evaluate", str(bundle), str(sets), "--report",
                                 str(tmp_path / "report"), "-q"])
    assert result.exit_code == 0, result.stderr
    table = json.loads(result.stdout)["modality_attribution"]
    for colour in ("red", "blue"):
        assert table[colour]["image"] > table[colour]["text"]
    for mood in ("happy", "sad"):
        assert table[mood]["text"] > table[mood]["image"]


def test_a_frozen_backbone_with_cached_features_is_explained(runner, app, tmp_path):
    """The saved model nests mmcli_features and mmcli_head: gradients go through both."""
    bundle = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(bundle), "--image-size",
                                 "32", "--epochs", "1", "--seed", "0", "--quiet",
                                 "--image-encoder", "mobilenet", "--image-weights", "none",
                                 "--freeze-backbone"])
    assert result.exit_code == 0, result.stderr
    assert json.loads((bundle / "bundle.json").read_text())["config"]["model"][
        "freeze_backbone"] is True
    out = tmp_path / "why"
    result = runner.invoke(app, ["explain", str(bundle), str(SAMPLE), "--out", str(out),
                                 "--rows", "5", "--steps", "8", "-q"])
    assert result.exit_code == 0, result.stderr
    records = _records(out)
    assert all(_efficient(r) for r in records)
    with_image = [r for r in records if r["shapley"]["image"] != 0.0]
    assert with_image and all(len(r["files"]) == 2 for r in with_image)
    assert all(r["notes"]["image"]["method"] == "integrated_gradients" for r in with_image)


def test_the_float_twin_computes_what_the_model_computes(trained):
    """Integrated Gradients run on a float-input twin sharing the model's layers."""
    from mmcli.bundle import load_model, read_bundle
    from mmcli.model.explain.image import float_twin

    bundle = read_bundle(trained["bundle"])
    model = load_model(bundle)
    rng = np.random.default_rng(0)
    inputs = {"image": rng.integers(0, 255, (4, 32, 32, 3)).astype("uint8"),
              "text": np.array(["a happy red kite", "sad", "", "gloomy blue"], object),
              "present": np.array([[1, 1], [1, 0], [0, 1], [1, 1]], "float32")}
    twin = float_twin(model)
    expected = np.asarray(model.predict_on_batch(inputs))
    got = np.asarray(twin({**inputs, "image": inputs["image"].astype("float32")},
                          training=False))
    assert np.allclose(got, expected, atol=1e-6)
