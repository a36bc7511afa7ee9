"""Export and engines (issue 14): mmcli.load, plain Keras loading, the raw-input SavedModel
called without mmcli, the LiteRT and ONNX engines against TensorFlow on every modality, the
bundle's hashes covering an added export, and predict without importing TensorFlow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SAMPLE

FOUR = SAMPLE.parent / "four.csv"
pytestmark = pytest.mark.tf


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def four(tmp_path_factory, runner, app) -> Path:
    """A tiny four-modality bundle (image, text, audio, tabular), with train's LiteRT export."""
    bundle = tmp_path_factory.mktemp("four") / "bundle"
    result = runner.invoke(app, ["train", str(FOUR), "--out", str(bundle), "--image-size", "32",
                                 "--epochs", "4", "--seed", "0", "--fusion", "late", "--quiet",
                                 "--engine-export"])
    assert result.exit_code == 0, result.stderr
    return bundle


@pytest.fixture(scope="module")
def head(tmp_path_factory) -> Path:
    """The first 40 rows of four.csv (labels and all) with their images and audio files."""
    lines = FOUR.read_text().splitlines()[:41]
    folder = tmp_path_factory.mktemp("head")
    target = folder / "head.csv"
    target.write_text("\n".join(lines) + "\n")
    for row in _rows(target):
        for column in ("image", "audio"):
            if row[column] and (SAMPLE.parent / row[column]).is_file():
                (folder / row[column]).parent.mkdir(exist_ok=True)
                shutil.copy(SAMPLE.parent / row[column], folder / row[column])
    return target


def predict(runner, app, bundle: Path, table: Path, engine: str) -> list[dict]:
    result = runner.invoke(app, ["predict", str(bundle), str(table), "--engine", engine,
                                 "--quiet"])
    assert result.exit_code == 0, result.stderr
    return records(result.stdout)


def assert_same(got: list[dict], expected: list[dict], tolerance: float) -> None:
    assert [r["id"] for r in got] == [r["id"] for r in expected]
    for a, b in zip(got, expected, strict=True):
        assert a["error"] == b["error"]
        if b["error"] is None:
            assert a["label"] == b["label"]
            for label, p in b["probabilities"].items():
                assert abs(a["probabilities"][label] - p) <= tolerance


def test_train_writes_a_checked_lite_export_covered_by_the_hashes(four):
    meta = json.loads((four / "bundle.json").read_text())
    assert {"engine/model.tflite", "engine/contract.json", "engine/README.md"} <= set(
        meta["files"])
    check = meta["training"]["engine_export"]
    assert check["format"] == "tflite" and check["top1_agreement"] == 1.0
    assert check["max_prob_diff"] <= 1e-3


def test_lite_engine_equals_tf_on_every_modality_without_tensorflow(runner, app, four, head):
    expected = predict(runner, app, four, head, "tf")
    assert {k for r in expected for k, v in r.items() if k.endswith("_present") and v} >= {
        "image_present", "text_present"}
    code = textwrap.dedent(f"""
        import sys
        from typer.testing import CliRunner
        from mmcli.cli.app import app
        result = CliRunner().invoke(app, ["predict", {str(four)!r}, {str(head)!r},
                                          "--engine", sys.argv[1], "--quiet"])
        assert result.exit_code == 0, result.output
        print(result.stdout, end="")
        assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "TF imported"
    """)
    for engine in ("lite", "auto"):
        done = run("-c", code, engine)
        assert done.returncode == 0, done.stderr
        assert_same(records(done.stdout), expected, 1e-3)
    rows = records(done.stdout)
    assert any(not r["text_present"] for r in rows if r["error"] is None)  # a masked text too


def test_mmcli_load_and_plain_keras(runner, app, four, head):
    expected = predict(runner, app, four, head, "tf")[:3]
    code = textwrap.dedent(f"""
        import csv, json, sys
        import mmcli
        rows = list(csv.DictReader(open({str(head)!r})))[:3]
        model = mmcli.load({str(four)!r})
        print(json.dumps(model.predict(rows, root={str(head.parent)!r})))
        assert "tensorflow" not in sys.modules
        import keras
        import mmcli.model.layers  # registers mmcli's layers
        loaded = keras.saving.load_model({str(four / "model.keras")!r})
        print(json.dumps([t.name for t in loaded.inputs]))
    """)
    done = run("-c", code)
    assert done.returncode == 0, done.stderr
    got, inputs = done.stdout.splitlines()[-2:]
    assert_same(json.loads(got), expected, 1e-3)
    assert set(json.loads(inputs)) == {"image", "text", "audio", "tabular", "present"}


def test_savedmodel_takes_raw_inputs_without_mmcli(runner, app, four, head, tmp_path):
    from mmcli.io.audio import AudioOptions, load_audio

    out = tmp_path / "served"
    result = runner.invoke(app, ["export", str(four), "--format", "savedmodel", "--out",
                                 str(out), "--check-data", str(head), "--quiet"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["check"]["rows"] > 30 and summary["check"]["top1_agreement"] == 1.0
    assert summary["check"]["max_prob_diff"] <= summary["check"]["tolerance"]
    expected = {r["id"]: r for r in predict(runner, app, four, head, "tf")}
    whole = [i for i, r in expected.items() if all(
        r[f"{m}_present"] for m in ("image", "text", "audio", "tabular"))]
    row = next(r for r in _rows(head) if r["id"] == whole[0])
    np.save(tmp_path / "wave.npy", load_audio(SAMPLE.parent / row["audio"], AudioOptions())[None])
    code = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load({str(out)!r}).signatures["serving_default"]
        got = serve(image=tf.constant([open({str(SAMPLE.parent / row["image"])!r}, "rb").read(),
                                       b""]),
                    text=tf.constant([{row["text"]!r}, "a red boat"]),
                    audio=tf.constant(np.concatenate([np.load({str(tmp_path / "wave.npy")!r}),
                                                      np.zeros((1, 16000), np.float32)])),
                    tabular=tf.constant([[{row["size"]!r}], [""]]))
        assert "mmcli" not in sys.modules
        print(json.dumps({{"p": got["probabilities"].numpy().tolist(),
                           "label": [v.decode() for v in got["label"].numpy()]}}))
    """)
    done = run("-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.splitlines()[-1])
    want = expected[row["id"]]
    assert got["label"][0] == want["label"]
    probabilities = dict(zip(json.loads((four / "bundle.json").read_text())["labels"],
                             got["p"][0], strict=True))
    assert max(abs(probabilities[k] - p) for k, p in want["probabilities"].items()) <= 1e-3
    assert len(got["p"][1]) == len(probabilities)  # a row with only text predicts too


def _rows(table: Path) -> list[dict]:
    import csv

    return list(csv.DictReader(open(table)))


def test_onnx_export_of_audio_takes_the_log_mel_and_equals_tf(runner, app, four, head,
                                                               tmp_path):
    """tf2onnx cannot hold the spectrogram's FFT: the ONNX file takes the log-mel features,
    which the onnx engine computes in numpy; its records equal TensorFlow's on every
    modality (audio in all but one of these rows)."""
    bundle = tmp_path / "bundle"
    shutil.copytree(four, bundle)
    result = runner.invoke(app, ["export", str(bundle), "--format", "onnx", "--check-data",
                                 str(head), "--quiet"])
    assert result.exit_code == 0, result.stderr
    check = json.loads(result.stdout)["check"]
    assert check["top1_agreement"] == 1.0 and check["max_prob_diff"] <= 1e-3
    contract = json.loads((bundle / "engine" / "contract.json").read_text())
    inputs = {i["name"]: i["shape"] for i in contract["inputs"]}
    assert "audio" not in inputs and inputs["audio__logmel"][0] == 64
    assert contract["audio"][0]["fft_length"] == 512
    assert "audio__logmel" in (bundle / "engine" / "README.md").read_text()
    expected = predict(runner, app, bundle, head, "tf")
    assert sum(r["audio_present"] for r in expected) >= 30
    assert_same(predict(runner, app, bundle, head, "onnx"), expected, 1e-3)


def test_onnx_into_an_older_bundle_hashed_and_equal_to_tf(runner, app, trained, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(trained["bundle"], bundle)
    result = runner.invoke(app, ["export", str(bundle), "--format", "onnx", "--check-data",
                                 str(SAMPLE), "--check-rows", "60", "--quiet"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["check"]["top1_agreement"] == 1.0 and summary["check"]["rows"] == 60
    meta = json.loads((bundle / "bundle.json").read_text())
    assert "engine/model.onnx" in meta["files"]
    expected = predict(runner, app, bundle, SAMPLE, "tf")
    assert_same(predict(runner, app, bundle, SAMPLE, "onnx"), expected, 1e-3)
    (bundle / "engine" / "model.onnx").write_bytes(b"tampered")
    result = runner.invoke(app, ["predict", str(bundle), str(SAMPLE), "--engine", "onnx"])
    assert result.exit_code == 4 and "engine/model.onnx" in result.stderr


def test_a_bundle_without_an_export_predicts_with_tf_and_says_what_it_lacks(runner, app,
                                                                           trained):
    bundle = trained["bundle"]  # trained with MMCLI_ENGINE_EXPORT=0 (tests/conftest.py)
    assert not (bundle / "engine").exists()
    result = runner.invoke(app, ["predict", str(bundle), str(SAMPLE), "--engine", "lite"])
    assert result.exit_code == 2
    assert "no lite export" in result.stderr and "mmcli export" in result.stderr
    assert_same(predict(runner, app, bundle, SAMPLE, "auto"),
                predict(runner, app, bundle, SAMPLE, "tf"), 0.0)


def test_serve_on_the_lite_engine_answers_predicts_records_for_every_modality(runner, app,
                                                                             four, head):
    """serve --engine lite (audio and tabular included) gives predict --engine lite's records."""
    import httpx

    from tests.serve.server import running

    expected = predict(runner, app, four, head, "lite")
    rows = _rows(head)
    as_paths = [{k: ({"path": v} if k in ("image", "audio") else v) if v else None
                 for k, v in r.items()} for r in rows]
    with running(four, "--engine", "lite", "--allow-paths", str(head.parent)) as server:
        metadata = httpx.get(server.url + "/metadata", timeout=60).json()
        answer = httpx.post(server.url + "/predict", json={"rows": as_paths}, timeout=300)
    assert answer.status_code == 200, answer.text
    assert metadata["engine"] == "lite"
    assert_same(answer.json()["records"], expected, 1e-6)
