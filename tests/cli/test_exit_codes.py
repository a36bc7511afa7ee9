"""Each exit code of the table in mmcli.errors, reached the way a user would reach it."""

import json

import pytest

import mmcli.api.prepare
from tests.conftest import SAMPLE


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_usage_error_is_2(runner, app, tmp_path):
    result = runner.invoke(
        app, ["preprocess", str(SAMPLE), "--out", str(tmp_path / "p"), "--on-missing", "sometimes"]
    )
    assert result.exit_code == 2
    assert "on missing" in one_line_error(result)


def test_unknown_flag_is_2(runner, app):
    assert runner.invoke(app, ["train", "x", "--no-such-flag"]).exit_code == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["preprocess", "nope.csv", "--out", "{tmp}/p"], "table not found: nope.csv"),
        (["preprocess", str(SAMPLE), "--out", "{tmp}/p", "--text-col", "desc"], "no column 'desc'"),
    ],
)
def test_bad_input_data_is_3(runner, app, tmp_path, args, message):
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 3
    assert message in one_line_error(result)


def test_unreadable_table_is_3(runner, app, tmp_path):
    table = tmp_path / "bad.csv"
    table.write_bytes(b"id,text\n1,caf\xe9\n")
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / "p")])
    assert result.exit_code == 3
    assert "line 2" in one_line_error(result)


def test_bad_bundle_is_4(runner, app, tmp_path):
    (tmp_path / "bundle").mkdir()
    result = runner.invoke(app, ["predict", str(tmp_path / "bundle"), str(SAMPLE)])
    assert result.exit_code == 4
    assert "not an mmcli bundle" in one_line_error(result)
    (tmp_path / "bundle" / "bundle.json").write_text(json.dumps({"format_version": 99}))
    result = runner.invoke(app, ["evaluate", str(tmp_path / "bundle"), str(SAMPLE)])
    assert result.exit_code == 4
    assert "format 99" in one_line_error(result)


def write_bundle_json(folder, **changes) -> dict:
    """A bundle.json with every key train writes, and a stand-in model.keras (its hash is
    checked, its content never loaded by these tests)."""
    import hashlib

    from mmcli.config import RunConfig

    folder.mkdir(exist_ok=True)
    (folder / "model.keras").write_bytes(b"not a model")
    digest = hashlib.sha256(b"not a model").hexdigest()
    meta = {
        "format_version": 1, "mmcli_version": "0.0.0", "created": "2024-01-01T00:00:00Z",
        "labels": ["a", "b"], "modalities": ["text"], "roles": {"text": "text"},
        "config": RunConfig().to_dict(), "data": {}, "training": {}, "validation": {},
        "head": {}, "versions": {}, "manifest": {}, "files": {"model.keras": digest},
        **changes,
    }
    (folder / "bundle.json").write_text(json.dumps(meta))
    return meta


def test_inspect_prints_bundle_json_as_it_is(runner, app, tmp_path):
    meta = write_bundle_json(tmp_path / "bundle")
    result = runner.invoke(app, ["inspect", str(tmp_path / "bundle")])
    assert result.exit_code == 0, result.stderr
    files = {"model.keras": {"sha256": meta["files"]["model.keras"], "bytes": 11}}
    assert json.loads(result.stdout) == {"bundle": str(tmp_path / "bundle"), **meta,
                                         "files": files}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"surprise": 1}, "unknown key(s) 'surprise' in bundle metadata"),
        ({"head": None}, "'head' must be an object"),
        ({"config": {"prep": {"colour": "red"}, "model": {}, "train": {}}},
         "Unknown setting(s) colour for PrepConfig"),
        ({"config": {"prep": {"image_size": 0}, "model": {}, "train": {}}}, "image_size"),
        ({"config": {"prep": {}, "model": {}, "train": {"multi_label": True}}},
         "lacks 'multi_label'"),
    ],
)
@pytest.mark.parametrize("command", ["inspect", "evaluate"])
def test_bundle_json_with_an_unknown_key_or_bad_config_is_4(runner, app, tmp_path, change,
                                                           message, command):
    write_bundle_json(tmp_path / "bundle", **change)
    args = [command, str(tmp_path / "bundle")] + ([str(SAMPLE)] if command == "evaluate" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 4, result.stderr
    assert message in one_line_error(result)
    assert result.stdout == ""


def test_bundle_json_without_a_key_is_4(runner, app, tmp_path):
    meta = write_bundle_json(tmp_path / "bundle")
    del meta["validation"]
    (tmp_path / "bundle" / "bundle.json").write_text(json.dumps(meta))
    result = runner.invoke(app, ["predict", str(tmp_path / "bundle"), str(SAMPLE)])
    assert result.exit_code == 4
    assert "bundle metadata lacks 'validation'" in one_line_error(result)


def test_no_usable_rows_is_5(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,hello,\n2,,b\n")
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / "p")])
    assert result.exit_code == 5
    assert "all 2 rows were rejected" in one_line_error(result)
    assert not (tmp_path / "p").exists()


def test_internal_error_is_1_without_traceback(runner, app, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(mmcli.api.prepare, "write_rows", broken)
    result = runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(tmp_path / "p")])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: boom" in one_line_error(result)
    assert not (tmp_path / "p").exists()
    assert not list(tmp_path.iterdir())
