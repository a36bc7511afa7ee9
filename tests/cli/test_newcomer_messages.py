"""A newcomer's messages: a JSON Lines line that does not parse is named by the file's line and the
column in it (json's own "line 2 column 1" never shows); evaluate without labels says so."""

from __future__ import annotations

import json

import pytest


def test_check_names_the_file_line_and_the_column(tmp_path, runner, app):
    table = tmp_path / "t.jsonl"
    table.write_text('{"id": "a", "text": "ok", "label": "x"}\n'
                     '  {"id": "b", "text": "ok", "label": \n', encoding="utf-8")
    result = runner.invoke(app, ["check", str(table)])
    assert result.exit_code == 3 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.endswith("line 2: not a JSON object (Expecting value at column 37)"), line


@pytest.mark.tf
def test_predict_records_the_same_words_as_the_rows_error(tmp_path, runner, app, trained):
    table = tmp_path / "new.jsonl"
    table.write_text('{"id": "a", "text": "a happy word"}\n{"id": "b", "text": "sad" "x"}\n',
                     encoding="utf-8")
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table), "--quiet"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert records[0]["error"] is None
    assert records[1]["error"] == ("line 2: not a JSON object "
                                   "(Expecting ',' delimiter at column 27)")


@pytest.mark.tf
def test_evaluate_on_a_table_without_labels_says_so(tmp_path, runner, app, trained):
    table = tmp_path / "new.csv"
    table.write_text("id,text\na,a happy word\nb,a sad word\n", encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(table), "--quiet"])
    assert result.exit_code == 3 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "no label column" in line and "--label-col" in line and "mmcli predict" in line


@pytest.mark.tf
def test_a_one_row_table_is_one_row_not_one_rows(tmp_path, runner, app, trained):
    table = tmp_path / "one.csv"
    table.write_text("id,text\na,a happy word\n", encoding="utf-8")
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table)])
    assert result.exit_code == 0, result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("mmcli: warning:")]
    assert "it is masked in every row (1 row). Name the column with --image-col" in line


@pytest.mark.tf
def test_a_blank_or_spaced_id_is_visible_in_stderr_lines(tmp_path, runner, app, trained):
    table = tmp_path / "ids.csv"
    table.write_text("id,text,image\n,a happy word,\n sp ,,\n", encoding="utf-8")
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table)])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert ("  row 1 (no id) id: missing_id (noted): no id (the row is kept; its id is "
            "reported blank)") in lines
    assert any(x.startswith("  row 2 (id ' sp ') image: missing (rejected)") for x in lines)
    assert "first error: row 2 (id ' sp '): " in result.stderr


@pytest.mark.parametrize("args", [["check", "data"], ["preprocess", "data", "--out", "p"]])
def test_a_missing_table_without_extension_is_not_found(tmp_path, runner, app, monkeypatch,
                                                        args):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args)
    assert result.exit_code == 3 and result.stdout == ""
    assert result.stderr.strip() == "mmcli: error: table not found: data"


def test_a_prepared_folder_where_a_table_is_read_says_so(tmp_path, runner, app):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\na,a happy word,x\nb,a sad word,y\n", encoding="utf-8")
    assert runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / "p"),
                               "--quiet"]).exit_code == 0
    result = runner.invoke(app, ["check", str(tmp_path / "p")])
    assert result.exit_code == 3
    assert "got a folder" in result.stderr and "a prepared folder" in result.stderr


def test_columns_left_out_because_others_were_named_say_so(tmp_path, runner, app):
    lines = ["id,text,label,weight,price,brand"]
    for i in range(8):
        lines.append(f"r{i},word {i},{'ab'[i % 2]},{i * 1.5},{10 + i},{'xy'[i % 2]}")
    table = tmp_path / "t.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(table), "--numeric-col", "weight", "--quiet"])
    assert result.exit_code == 0, result.stderr
    unused = json.loads(result.stdout)["roles"]["unused"]
    assert set(unused) == {"price", "brand"}
    assert "named like an id" not in unused["price"] and "--numeric-col" in unused["price"]
    assert "distinct values" not in unused["brand"] and "--category-col" in unused["brand"]
    assert all("detection is off" in reason for reason in unused.values())


@pytest.mark.tf
def test_predict_out_writes_the_format_its_extension_names(tmp_path, runner, app, trained):
    table = tmp_path / "new.csv"
    table.write_text("id,text\na,a happy word\nb,a sad word\n", encoding="utf-8")
    base = ["predict", str(trained["bundle"]), str(table), "--quiet"]
    out = tmp_path / "preds.csv"
    assert runner.invoke(app, [*base, "--out", str(out)]).exit_code == 0
    import csv

    with open(out, newline="", encoding="utf-8") as handle:
        assert [r["id"] for r in csv.DictReader(handle)] == ["a", "b"]
    parquet = tmp_path / "preds.parquet"
    assert runner.invoke(app, [*base, "--out", str(parquet)]).exit_code == 0
    assert parquet.read_bytes()[:4] == b"PAR1"
    plain = tmp_path / "preds.txt"  # no record format by its name: JSON Lines, as to stdout
    assert runner.invoke(app, [*base, "--out", str(plain)]).exit_code == 0
    assert json.loads(plain.read_text().splitlines()[0])["id"] == "a"
    clash = runner.invoke(app, [*base, "--out", str(tmp_path / "x.csv"), "--format", "jsonl"])
    assert clash.exit_code == 2 and not (tmp_path / "x.csv").exists()
    assert "--format jsonl" in clash.stderr and "x.csv" in clash.stderr


def test_a_utf16_table_is_named_as_one(tmp_path, runner, app):
    table = tmp_path / "excel.tsv"  # what Excel's "Unicode Text" export writes
    table.write_bytes("id\ttext\tlabel\n1\ta b\tx\n2\tc d\ty\n".encode("utf-16"))
    result = runner.invoke(app, ["check", str(table)])
    assert result.exit_code == 3
    assert "UTF-16 byte-order mark: pass --encoding utf-16" in result.stderr
    fixed = runner.invoke(app, ["check", str(table), "--encoding", "utf-16", "--quiet"])
    assert fixed.exit_code == 0 and json.loads(fixed.stdout)["class_counts"] == {"x": 1, "y": 1}
