"""The numpy steps of the LiteRT/ONNX engines follow Keras' rules (no TensorFlow here; the
equality with the Keras layers is tests/test_export.py's), and an export outside the limits
is refused with both figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mmcli.engines.contract import Contract, InputSpec, TabularStep, TextStep
from mmcli.engines.numeric import numeric_inputs, tabular_cells, tokens, vectorize

ROOT = Path(__file__).resolve().parents[2]


def test_tokens_lowercase_ascii_strip_keras_punctuation_and_add_ngrams():
    assert tokens("A red, RED cup!", 2) == ["a", "red", "red", "cup", "a red", "red red",
                                            "red cup"]
    assert tokens("Ünïcode stays\tÜ; it's") == ["Ünïcode", "stays", "Ü", "its"]


def test_tf_idf_and_int_vectors():
    step = TextStep("text", "tf_idf", ("[UNK]", "red", "cup"), (0.5, 1.0, 2.0), 1)
    np.testing.assert_allclose(vectorize(["red red cup mug", ""], step),
                               [[0.5, 2.0, 2.0], [0.0, 0.0, 0.0]])
    ids = TextStep("text", "int", ("", "[UNK]", "red", "cup"), None, None, 3)
    assert vectorize(["cup mug red red", "red"], ids).tolist() == [[3, 1, 2], [2, 0, 0]]


def test_tabular_cells_impute_flag_and_look_up():
    step = TabularStep("tabular", (2.5,), (("[UNK]", "red", "[missing]"),))
    out = tabular_cells(np.array([[" 1e1 ", "red"], ["n/a", ""], ["", "blue"]], object), step)
    assert out["tabular__numbers"].tolist() == [[10.0], [2.5], [2.5]]
    assert out["tabular__missing"].tolist() == [[0.0], [1.0], [1.0]]
    assert out["tabular__category_0"].tolist() == [[1], [2], [0]]


def test_tabular_cells_of_categories_only_give_no_number_inputs():
    # avdigits' lone `speaker` column: the export has no __numbers/__missing inputs then,
    # and train's engine check raised KeyError on the ones the numpy side made
    step = TabularStep("tabular", (), (("[UNK]", "george", "lucas"),))
    out = tabular_cells(np.array([["lucas"], ["nobody"]], object), step)
    assert sorted(out) == ["tabular__category_0"]
    assert out["tabular__category_0"].tolist() == [[2], [0]]


def test_numeric_inputs_stack_present_in_model_order_and_cast():
    contract = Contract(labels=("a", "b"), modalities=("image", "text"), inputs=(
        InputSpec("image", (2, 2, 3), "uint8"), InputSpec("text__vector", (2,), "float32"),
        InputSpec("present", (2,), "float32")),
        text=(TextStep("text", "tf_idf", ("[UNK]", "red"), (1.0, 1.0)),))
    got = numeric_inputs(contract, {"image": np.zeros((1, 2, 2, 3), np.uint8),
                                    "text": np.array(["red"], object)},
                         {"image": np.array([0.0]), "text": np.array([1.0])})
    assert got["present"].tolist() == [[0.0, 1.0]] and got["text__vector"].dtype == np.float32


def test_the_engines_numpy_steps_never_import_tensorflow():
    """In a fresh process: another test in this session may have imported TensorFlow."""
    code = ("import sys, mmcli.engines.contract, mmcli.engines.numeric, mmcli.engines.runtimes; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_export_outside_the_limits_is_refused_with_both_figures():
    from mmcli.errors import DataError
    from mmcli.model.export.check import MAX_DISAGREEMENT, compare, require

    same = np.array([[0.9, 0.1]] * 199 + [[0.4, 0.6]])
    assert require(compare([(same, same)], 1e-3), "x").top1_agreement == 1.0
    flipped = same.copy()
    flipped[-1] = [0.6, 0.4]
    with pytest.raises(DataError, match=r"top-1 agreement 0\.9950 .* largest probability "
                                        r"difference 0\.2"):
        require(compare([(same, flipped)], 1e-3), "the tflite export")
    assert MAX_DISAGREEMENT == 0.005


def test_a_tie_broken_the_other_way_is_not_a_disagreement():
    from mmcli.model.export.check import compare, require

    tied = np.full((50, 4), 0.25)  # an untrained model: every label equally likely
    other = tied + np.array([0, 0, 0, 2e-7])  # float32 noise puts the last label first
    agreement = require(compare([(tied, other)], 1e-3), "the tflite export")
    assert agreement.top1_agreement == 1.0


def test_an_export_giving_nan_is_refused_as_the_worst_difference():
    from mmcli.errors import DataError
    from mmcli.model.export.check import compare, require

    expected = np.array([[0.7, 0.3]] * 10)
    with pytest.raises(DataError, match="largest probability difference inf"):
        require(compare([(expected, np.full((10, 2), np.nan))], 1e-3), "the tflite export")


@pytest.mark.tf
def test_a_lite_export_keeps_an_embedding_table(tmp_path):
    """A categorical column's embedding: LiteRT gave NaN when its table stayed a variable."""
    from mmcli.engines.contract import Contract, InputSpec
    from mmcli.engines.runtimes import SESSIONS
    from mmcli.model.backend import import_keras
    from mmcli.model.export.convert import to_lite

    keras = import_keras()
    cell = keras.Input((1,), dtype="int64", name="cat")
    hidden = keras.layers.Flatten()(keras.layers.Embedding(3, 4)(cell))
    model = keras.Model({"cat": cell}, keras.layers.Dense(3, activation="softmax")(hidden))
    contract = Contract(labels=("a", "b", "c"), modalities=("tabular",),
                        inputs=(InputSpec("cat", (1,), "int64"),))
    path = tmp_path / "m.tflite"
    path.write_bytes(to_lite(model, contract))
    feed = {"cat": np.array([[0], [2]], np.int64)}
    got = SESSIONS["lite"](path)(feed)
    assert np.allclose(got, model.predict_on_batch(feed), atol=1e-5)
