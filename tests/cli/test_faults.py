"""Malformed tables end with one line on stderr and exit code 3, never a traceback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE

HEADER = "id,text,label\n"


def _fails(result, code, *phrases):
    assert result.exit_code == code, (result.exit_code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.startswith("mmcli: error: ")]
    assert len(lines) == 1 and result.stderr.strip().endswith(lines[0]), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize(
    ("name", "content", "phrases"),
    [
        ("empty.csv", b"", ("is empty",)),
        ("blank.csv", b"\n  \n", ("is empty",)),
        ("header.csv", HEADER.encode(), ("no data rows",)),
        ("garbage.csv", bytes(range(256)) * 4, ("invalid utf-8 byte 0x80 on line 2", "--encoding")),
        ("garbage.parquet", b"PAR1" + bytes(range(200)), ("cannot read", "as Parquet")),
        ("quotes.csv", (HEADER + '1,"an unclosed quote,cat\n2,fine,dog\n').encode(),
         ("cannot parse", "as CSV")),
        ("latin1.csv", (HEADER + "1,caf\u00e9 au lait,cat\n").encode("latin-1"),
         ("invalid utf-8 byte 0xe9 on line 2",)),
        ("broken.jsonl", b'{"id": 1, "text": "a", "label": "x"}\n{"id": 2, "text\n',
         ("cannot parse", "as JSONL")),
    ],
)
@pytest.mark.parametrize("command", ["preprocess", "check"])
def test_malformed_tables(runner, app, tmp_path, name, content, phrases, command):
    table = tmp_path / name
    table.write_bytes(content)
    out = tmp_path / "out"
    args = [command, str(table)] + (["--out", str(out)] if command == "preprocess" else [])
    _fails(runner.invoke(app, args), 3, str(table), *phrases)
    assert not out.exists()


def test_encoding_flag_reads_a_latin1_table(runner, app, tmp_path):
    table = tmp_path / "latin1.csv"
    table.write_bytes((HEADER + "1,caf\u00e9 au lait,cat\n2,th\u00e9 vert,dog\n").encode("latin-1"))
    result = runner.invoke(app, ["check", str(table), "--encoding", "latin-1"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 2
    unknown = runner.invoke(app, ["check", str(table), "--encoding", "no-such-codec"])
    _fails(unknown, 2, "unknown encoding")


def test_no_label_column_is_an_error_for_training(runner, app, tmp_path):
    table = tmp_path / "unlabelled.csv"
    table.write_text("id,text\n1,a red cat\n2,a blue dog\n")
    out = tmp_path / "bundle"
    _fails(runner.invoke(app, ["train", str(table), "--out", str(out), "--no-cache"]), 3,
           "no label column", "--label-col")
    assert not out.exists()
    checked = runner.invoke(app, ["check", str(table), "--need-label"])
    _fails(checked, 3, "no label column")
    # without labels, preprocess (e.g. for predict-only data) works
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["roles"]["label"] is None


def test_named_label_column_missing(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(HEADER + "1,a,b\n")
    _fails(runner.invoke(app, ["check", str(table), "--label-col", "klass"]), 3,
           "no column 'klass' for the label")


def test_single_class_warns_in_preprocess_and_fails_training(runner, app, tmp_path):
    table = tmp_path / "one.csv"
    table.write_text(HEADER + "1,a red cat,cat\n2,a blue cat,cat\n3,a green cat,cat\n")
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["warnings"] == [
        "only one class ('cat') among the kept rows: training needs two or more"
    ]
    assert "warning: only one class" in result.stderr
    assert json.loads((out / "schema.json").read_text())["warnings"] == summary["warnings"]


@pytest.mark.tf
def test_single_class_training_fails_with_a_reason(runner, app, tmp_path):
    table = tmp_path / "one.csv"
    table.write_text(HEADER + "1,a red cat,cat\n2,a blue cat,cat\n3,a green cat,cat\n")
    result = runner.invoke(app, ["train", str(table), "--out", str(tmp_path / "b"), "--quiet"])
    _fails(result, 3, "at least two classes")


def test_every_row_rejected_exits_5(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text(HEADER + "1,a,\n2,b,  \n")
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / "p")])
    _fails(result, 5, "all 2 rows were rejected")
    check = runner.invoke(app, ["check", str(table), "--max-reject-fraction", "1"])
    assert check.exit_code == 5 and json.loads(check.stdout)["passed"] is False


def test_stdin_table_with_image_root(runner, app):
    result = runner.invoke(app, ["check", "-", "--image-root", str(SAMPLE.parent)],
                           input=SAMPLE.read_text())
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 480 and report["rejected"] == 0 and report["masked"] == 3
