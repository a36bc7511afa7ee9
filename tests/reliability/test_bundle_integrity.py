"""A damaged, edited, foreign or unsafe bundle is refused with exit code 4, never loaded."""

from __future__ import annotations

import json
import shutil

import pytest

from mmcli.bundle import write_meta
from tests.conftest import SAMPLE

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
