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
