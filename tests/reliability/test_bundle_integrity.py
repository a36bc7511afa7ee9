"""A damaged, edited, foreign, unsigned (with a key set) or unsafe bundle is refused with exit
code 4, never loaded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from mmcli.bundle import write_meta
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.tf


@pytest.fixture
def bundle(trained, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(trained["bundle"], copy)
    return copy


def refused(runner, app, bundle, command="predict") -> str:
    result = runner.invoke(app, [command, str(bundle), str(SAMPLE)])
    assert result.exit_code == 4, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    return lines[0]


def rewrite_hashes(bundle):
    """Record the current files' hashes, as someone editing a bundle by hand could."""
    meta = json.loads((bundle / "bundle.json").read_text())
    meta.pop("format_version")
    meta.pop("files")
    write_meta(bundle, meta)


def test_intact_copy_predicts(runner, app, bundle):
    result = runner.invoke(app, ["predict", str(bundle), str(SAMPLE), "--quiet"])
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 480


def test_tampered_file_is_refused(runner, app, bundle):
    history = bundle / "history.csv"
    history.write_text(history.read_text().replace("1,", "9,", 1))
    assert "bundle file history.csv does not match its recorded SHA-256" in refused(
        runner, app, bundle, "evaluate")


def test_truncated_model_is_refused(runner, app, bundle):
    model = bundle / "model.keras"
    model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    assert "bundle file model.keras does not match its recorded SHA-256 (truncated" in refused(
        runner, app, bundle)
    rewrite_hashes(bundle)  # hashes that match the damage: Keras itself must refuse it
    assert "cannot load model.keras" in refused(runner, app, bundle)


def test_missing_file_is_refused(runner, app, bundle):
    (bundle / "model.keras").unlink()
    assert "bundle file model.keras is missing" in refused(runner, app, bundle)


def test_hand_edited_bad_json_is_refused(runner, app, bundle):
    meta = bundle / "bundle.json"
    meta.write_text(meta.read_text().replace('"labels": [', '"labels": [,', 1))
    assert "unreadable bundle metadata" in refused(runner, app, bundle)


def test_newer_format_is_refused_naming_both_versions(runner, app, bundle):
    meta_path = bundle / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["format_version"] = 2
    meta["mmcli_version"] = "9.0.0"
    meta_path.write_text(json.dumps(meta))
    message = refused(runner, app, bundle)
    assert "bundle format 2 cannot be read by this mmcli, which reads format 1" in message
    assert "9.0.0" in message


def test_unknown_key_in_bundle_json_is_refused(runner, app, bundle):
    meta_path = bundle / "bundle.json"  # not hashed itself: no hashes to update
    meta = json.loads(meta_path.read_text())
    meta["note"] = "added by hand"
    meta_path.write_text(json.dumps(meta))
    assert "unknown key(s) 'note' in bundle metadata" in refused(runner, app, bundle)
    assert "unknown key(s) 'note'" in refused(runner, app, bundle, "evaluate")


def test_model_with_a_lambda_layer_is_refused_by_safe_mode(runner, app, bundle, tmp_path):
    from mmcli.model.backend import import_keras

    keras = import_keras()
    marker = tmp_path / "code-ran"
    # A lambda with a side effect: building the model runs it once, loading must not.
    function = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x * 2)[1]")
    inputs = keras.Input((2,))
    outputs = keras.layers.Lambda(function)(inputs)
    keras.Model(inputs, outputs).save(bundle / "model.keras")
    assert marker.exists()
    marker.unlink()
    rewrite_hashes(bundle)  # the hashes match: only safe_mode stands in the way
    message = refused(runner, app, bundle)
    assert "cannot load model.keras" in message and "Lambda" in message
    assert not marker.exists()


def inspect_with(runner, app, bundle, key: str | None):
    env = {"MMCLI_SIGNING_KEY": key or ""}
    return runner.invoke(app, ["inspect", str(bundle)], env=env)


def test_model_is_verified_even_when_files_lists_nothing(runner, app, bundle):
    meta_path = bundle / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["files"] = {}
    meta_path.write_text(json.dumps(meta))
    with open(bundle / "model.keras", "ab") as handle:
        handle.write(b"appended")
    result = inspect_with(runner, app, bundle, None)
    assert result.exit_code == 4 and result.stdout == ""
    assert "records no SHA-256 for model.keras, which the bundle needs" in result.stderr
    assert "records no SHA-256 for model.keras" in refused(runner, app, bundle, "predict")


def test_a_files_entry_outside_the_bundle_is_refused(runner, app, bundle):
    meta_path = bundle / "bundle.json"
    meta = json.loads(meta_path.read_text())
    meta["files"]["../elsewhere"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    assert "bad entry '../elsewhere'" in refused(runner, app, bundle, "evaluate")


def sign_again(bundle, key: bytes | None) -> None:
    """Rewrite bundle.json's hashes and signature as train does (``key`` None: unsigned)."""
    meta = json.loads((bundle / "bundle.json").read_text())
    meta.pop("format_version")
    meta.pop("files")
    (bundle / "bundle.sig").unlink(missing_ok=True)
    write_meta(bundle, meta, key=key)


def test_signature_decides_with_and_without_the_key(runner, app, bundle):
    assert inspect_with(runner, app, bundle, None).exit_code == 0  # unsigned, no key: hashes
    unsigned = inspect_with(runner, app, bundle, "s3cret")
    assert unsigned.exit_code == 4
    assert "not signed (bundle.sig is missing) but MMCLI_SIGNING_KEY is set" in unsigned.stderr

    sign_again(bundle, b"s3cret")
    assert (bundle / "bundle.sig").read_text().startswith("hmac-sha256:")
    good = inspect_with(runner, app, bundle, "s3cret")
    assert good.exit_code == 0, good.stderr
    assert json.loads(good.stdout)["labels"]
    wrong = inspect_with(runner, app, bundle, "guess")
    assert wrong.exit_code == 4 and "signature does not match" in wrong.stderr
    no_key = inspect_with(runner, app, bundle, None)
    assert no_key.exit_code == 4 and "signed (bundle.sig) but MMCLI_SIGNING_KEY is not set" in (
        no_key.stderr)
    skipped = runner.invoke(app, ["inspect", str(bundle), "--no-verify"],
                            env={"MMCLI_SIGNING_KEY": ""})
    assert skipped.exit_code == 0


def test_rewritten_hashes_do_not_pass_a_signature(runner, app, bundle):
    """What SHA-256 alone cannot catch (file and hash both rewritten), the HMAC does."""
    sign_again(bundle, b"s3cret")
    signature = (bundle / "bundle.sig").read_text()
    with open(bundle / "history.csv", "a") as handle:
        handle.write("99,0,0,0,0\n")
    rewrite_hashes(bundle)  # no key: the signature is left as it was
    assert (bundle / "bundle.sig").read_text() == signature
    assert inspect_with(runner, app, bundle, None).exit_code == 4
    result = runner.invoke(app, ["predict", str(bundle), str(SAMPLE)],
                           env={"MMCLI_SIGNING_KEY": "s3cret"})
    assert result.exit_code == 4 and "signature does not match" in result.stderr


def test_signature_is_checked_before_tensorflow_is_imported(bundle, tmp_path):
    code = (
        "import sys\n"
        "from mmcli.bundle import read_bundle\n"
        "from mmcli.errors import BundleError\n"
        f"try:\n    read_bundle({str(bundle)!r})\nexcept BundleError as exc:\n"
        "    print(exc)\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    sign_again(bundle, b"s3cret")
    env = {**os.environ, "MMCLI_SIGNING_KEY": "guess"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=True)
    message, loaded = done.stdout.strip().splitlines()
    assert "signature does not match" in message and loaded == "False False"


@pytest.mark.parametrize("command", [
    ["evaluate", "{bundle}", "{data}"], ["predict", "{bundle}", "{data}", "--engine", "tf"],
    ["explain", "{bundle}", "{data}", "--out", "{tmp}/why"],
    ["export", "{bundle}", "--format", "onnx"], ["serve", "{bundle}", "--port", "0"],
])
def test_commands_refuse_a_bad_signature_before_tensorflow(bundle, tmp_path, command):
    """Every command that reads a bundle refuses a bad signature (exit 4) without having
    imported TensorFlow or Keras first (evaluate imported them before reading the bundle)."""
    sign_again(bundle, b"s3cret")
    argv = [a.format(bundle=bundle, data=SAMPLE, tmp=tmp_path) for a in command]
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from mmcli.cli.app import app\n"
        f"r = CliRunner().invoke(app, {argv!r})\n"
        "print(r.exit_code, 'signature does not match' in r.stderr, "
        "'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    env = {**os.environ, "MMCLI_SIGNING_KEY": "guess"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=True)
    assert done.stdout.split() == ["4", "True", "False", "False"], done.stdout + done.stderr


def test_train_signs_when_the_key_is_set(runner, app, tmp_path):
    out = tmp_path / "signed"
    env = {"MMCLI_SIGNING_KEY": "s3cret"}
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(out), "--image-size", "8",
                                 "--epochs", "1", "--quiet"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "bundle.sig" not in json.loads((out / "bundle.json").read_text())["files"]
    assert inspect_with(runner, app, out, "s3cret").exit_code == 0
    assert inspect_with(runner, app, out, "other").exit_code == 4
    predicted = runner.invoke(app, ["predict", str(out), str(SAMPLE), "--quiet"], env=env)
    assert predicted.exit_code == 0, predicted.stderr
    assert len(predicted.stdout.splitlines()) == 480
