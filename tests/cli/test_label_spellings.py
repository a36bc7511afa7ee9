"""Label cells written differently that cleaning (Unicode NFKC, whitespace) turns into one
class are said, not merged silently: a ``labels_merged`` warning in check, preprocess and
train's JSON ``warnings`` and a ``warning:`` line naming the spellings as written."""

from __future__ import annotations

import json

import pytest

TABLE = ("id,text,label\n1,a happy day, cat \n2,a sad day,cat\n3,a happy x,\uff24og\n"
         "4,a sad y,Dog\n5,more words,cat\n6,other words,Dog\n")


@pytest.mark.parametrize("command", ["check", "preprocess"])
def test_spellings_cleaned_into_one_class_are_a_warning(tmp_path, runner, app, command):
    table = tmp_path / "t.csv"
    table.write_text(TABLE, encoding="utf-8")
    args = [command, str(table)] + (["--out", str(tmp_path / "p")]
                                    if command == "preprocess" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["class_counts"] == {"Dog": 3, "cat": 3}
    (merged,) = [w for w in report["warnings"] if w["kind"] == "labels_merged"]
    assert merged["classes"] == {"Dog": ["Dog", "\uff24og"], "cat": [" cat ", "cat"]}
    assert f"mmcli: warning: {merged['message']}" in result.stderr.splitlines()
    assert "' cat '" in merged["message"] and "'\uff24og'" in merged["message"]


def test_one_spelling_per_class_says_nothing(tmp_path, runner, app):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,a b, cat \n2,c d, cat \n3,e f,dog\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(table), "--quiet"])
    assert result.exit_code == 0 and json.loads(result.stdout)["warnings"] == []
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["check", "preprocess"])
def test_label_map_entries_that_rename_nothing_are_a_warning(tmp_path, runner, app, command):
    """A misspelt or wrongly cased --label-map key renamed nothing, silently: now a
    ``label_map_unused`` warning naming the keys; --label-case fold makes 'Kitty' match."""
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,a b,Kitty\n2,c d,dog\n3,e f,pup\n", encoding="utf-8")
    mapping = tmp_path / "map.csv"
    mapping.write_text("from,to\nkitty,cat\npup,dog\nmoggy,cat\n", encoding="utf-8")
    base = [command, str(table), "--label-map", str(mapping)] + (
        ["--out", str(tmp_path / "p"), "--force"] if command == "preprocess" else [])
    result = runner.invoke(app, base)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["class_counts"] == {"Kitty": 1, "dog": 2}
    (unused,) = [w for w in report["warnings"] if w["kind"] == "label_map_unused"]
    assert unused["entries"] == ["kitty", "moggy"]
    assert f"mmcli: warning: {unused['message']}" in result.stderr.splitlines()
    assert "2 of 3 entries" in unused["message"] and "--label-case fold" in unused["message"]

    result = runner.invoke(app, [*base, "--label-case", "fold"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["class_counts"] == {"cat": 1, "dog": 2}
    (unused,) = [w for w in report["warnings"] if w["kind"] == "label_map_unused"]
    assert unused["entries"] == ["moggy"]
