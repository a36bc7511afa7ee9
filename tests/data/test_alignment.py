"""Aligning images and text with rows: --image-root, --image-dir, --join, several text columns."""

from __future__ import annotations

import csv
import json

import pytest
from PIL import Image

from mmcli.data.dataset import open_dataset


def _image(path, colour=(200, 0, 0)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (20, 20), colour).save(path)


def _rejects(folder):
    with open(folder / "rejects.csv", newline="", encoding="utf-8") as handle:
        return [(r["row"], r["id"], r["column"], r["reason"], r["action"])
                for r in csv.DictReader(handle)]


def test_image_dir_matches_files_by_id(runner, app, tmp_path):
    photos = tmp_path / "photos"
    _image(photos / "a.jpg")
    _image(photos / "b.PNG")
    _image(photos / "c.jpg")
    _image(photos / "c.png")  # two files for one id: ambiguous
    (photos / "d.txt").write_text("not an image")
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\na,one,x\nb,two,y\nc,three,x\nd,four,y\n")
    out = tmp_path / "p"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                 "--image-dir", str(photos), "--image-size", "16"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["modalities"] == ["image", "text"]
    assert summary["roles"]["image_dir"] == str(photos)
    assert _rejects(out) == [("3", "c", "<image-dir>", "ambiguous", "masked"),
                             ("4", "d", "<image-dir>", "unreadable", "masked")]  # d.txt
    assert open_dataset(out).examples["image_present"].tolist() == [True, True, False, False]


def test_image_dir_needs_an_id_column_and_excludes_image_col(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("text,label\none,x\n")
    result = runner.invoke(app, ["check", str(table), "--image-dir", str(tmp_path)])
    assert result.exit_code == 3 and "--image-dir needs an id column" in result.stderr
    both = runner.invoke(app, ["check", str(table), "--image-dir", str(tmp_path),
                               "--image-col", "x"])
    assert both.exit_code == 2 and "cannot be used together" in both.stderr


def test_image_root_resolves_paths_and_bounds_them(runner, app, tmp_path):
    root = tmp_path / "store"
    _image(root / "imgs" / "a.jpg")
    _image(tmp_path / "elsewhere.jpg")
    table = tmp_path / "tables" / "t.csv"
    table.parent.mkdir()
    table.write_text("id,image,text,label\n1,imgs/a.jpg,one,x\n2,../elsewhere.jpg,two,y\n")
    result = runner.invoke(app, ["check", str(table), "--image-root", str(root),
                                 "--max-reject-fraction", "1"])
    assert result.exit_code == 0, result.stderr
    rejects = json.loads(result.stdout)["rejects"]
    assert [(r["row"], r["reason"]) for r in rejects] == [(2, "outside_root")]
    allowed = runner.invoke(app, ["check", str(table), "--image-root", str(root),
                                  "--allow-outside-root"])
    assert json.loads(allowed.stdout)["masked"] == 0


def test_join_adds_columns_and_reports_ids_in_one_source(runner, app, tmp_path):
    _image(tmp_path / "a.jpg")
    table = tmp_path / "items.csv"
    table.write_text("id,image,text\n1,a.jpg,red shoe\n2,a.jpg,blue hat\n3,a.jpg,green sock\n")
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "2", "label": "hat", "text": "x"}\n'
                      '{"id": "1", "label": "shoe", "text": "y"}\n'
                      '{"id": "9", "label": "coat", "text": "z"}\n')
    out = tmp_path / "p"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "--join",
                                 str(labels), "--image-size", "16"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["join"] == {"table": str(labels), "on": "id", "matched": 2,
                               "only_in_table": 1, "only_in_join": 1}
    assert summary["issues"] == {"masked:not_in_join": 1, "rejected:missing_label": 1,
                                 "rejected:only_in_join": 1}
    assert summary["kept"] == 2 and summary["labels"] == ["hat", "shoe"]
    assert set(_rejects(out)) == {("", "9", "join", "only_in_join", "rejected"),
                                  ("3", "3", "join", "not_in_join", "masked"),
                                  ("3", "3", "label", "missing_label", "rejected")}
    examples = open_dataset(out).examples
    assert examples["text"].tolist() == ["red shoe", "blue hat"]  # the main table's text wins
    assert "ids only in the table" in result.stderr


def test_join_with_repeated_ids_is_an_error(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text\n1,a\n")
    other = tmp_path / "o.csv"
    other.write_text("id,label\n1,x\n1,y\n")
    result = runner.invoke(app, ["check", str(table), "--join", str(other)])
    assert result.exit_code == 3 and "appears on rows 1 and 2" in result.stderr
    nokey = tmp_path / "n.csv"
    nokey.write_text("key2,label\n1,x\n")
    result = runner.invoke(app, ["check", str(table), "--join", str(nokey)])
    assert result.exit_code == 3 and "no id column in both" in result.stderr


def test_several_text_columns_are_joined(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,title,body,label\n1,Red <b>shoe</b>,for running,x\n2,,only body,y\n"
                     "3,,,x\n")
    out = tmp_path / "p"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "--text-col",
                                 "title", "--text-col", "body", "--text-sep", " / "])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["roles"]["text"] == "title+body"
    assert summary["roles"]["text_columns"] == ["title", "body"]
    assert summary["prep"]["text_col"] == ["title", "body"]
    examples = open_dataset(out).examples
    assert examples["text"].tolist() == ["Red shoe / for running", "only body"]
    assert _rejects(out) == [("3", "3", "title+body", "missing", "rejected"),
                             ("3", "3", "", "no_modality", "rejected")]


def test_missing_text_column_is_named(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,title,label\n1,a,x\n")
    result = runner.invoke(app, ["check", str(table), "--text-col", "title",
                                 "--text-col", "body"])
    assert result.exit_code == 3 and "no column 'body' for the text" in result.stderr


@pytest.mark.parametrize("policy", ["keep-first", "reject", "error"])
def test_duplicates_policy(runner, app, tmp_path, policy):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,a,x\n2,b,y\n1,c,x\n2,b,y\n3,d,y\n")
    result = runner.invoke(app, ["check", str(table), "--duplicates", policy,
                                 "--max-reject-fraction", "1"])
    if policy == "error":
        assert result.exit_code == 3
        assert "row 4 identical to row 2 (duplicate_row; --duplicates error)" in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    got = {(r["row"], r["reason"]) for r in json.loads(result.stdout)["rejects"]}
    if policy == "keep-first":
        assert got == {(3, "duplicate_id"), (4, "duplicate_row")}
    else:
        assert got == {(1, "duplicate_id"), (3, "duplicate_id"), (2, "duplicate_row"),
                       (4, "duplicate_row")}


def test_exact_duplicates_without_an_id_column(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("text,label\nsame,x\nsame,x\nsame,y\n")
    result = runner.invoke(app, ["check", str(table), "--max-reject-fraction", "1"])
    rejects = json.loads(result.stdout)["rejects"]
    assert [(r["row"], r["reason"], r["message"]) for r in rejects] == [
        (2, "duplicate_row", "identical to row 1")]


@pytest.mark.parametrize(("name", "content"), [
    ("t.csv", "text,note,label\nsame,,x\nsame,None,x\nsame,,x\nsame,nan,x\n"),
    ("t.jsonl", '{"text": "same", "note": null, "label": "x"}\n'
                '{"text": "same", "note": "None", "label": "x"}\n'
                '{"text": "same", "label": "x"}\n'
                '{"text": "same", "note": "", "label": "x"}\n'),
])
def test_a_missing_cell_equals_a_missing_cell_never_the_text_none(runner, app, tmp_path, name,
                                                                  content):
    table = tmp_path / name
    table.write_text(content)
    result = runner.invoke(app, ["check", str(table), "--max-reject-fraction", "1"])
    rejects = json.loads(result.stdout)["rejects"]
    assert [(r["row"], r["reason"], r["message"]) for r in rejects] == [
        (3, "duplicate_row", "identical to row 1")]
