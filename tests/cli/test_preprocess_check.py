"""mmcli preprocess TABLE --check: the same report as mmcli check, nothing written."""

import json

import pandas as pd
import pytest


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_check_prints_the_report_and_writes_nothing(runner, app, sample_copy, monkeypatch):
    folder = sample_copy.parent
    monkeypatch.chdir(folder)
    before = listing(folder)
    result = runner.invoke(app, ["preprocess", str(sample_copy), "--check", "--image-size", "16"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    counts = (report["rows"], report["kept"], report["masked"], report["rejected"])
    assert counts == (480, 480, 3, 0)
    assert report["issues"] == {"masked:missing": 2, "masked:unreadable": 1}
    assert report["passed"] is True and report["reject_fraction"] == 0
    assert [(r["row"], r["reason"]) for r in report["rejects"]] == [
        (1, "missing"), (2, "unreadable"), (3, "missing")]
    assert "nothing written" in " ".join(result.stderr.split())
    assert listing(folder) == before

    # The report tells what preprocess --out would write: the same counts in schema.json and
    # the same lines in rejects.csv (written by the writer, not by the check's own code).
    out = sample_copy.parent.parent / "prepared"
    written = runner.invoke(app, ["preprocess", str(sample_copy), "--out", str(out),
                                  "--image-size", "16", "--quiet"])
    assert written.exit_code == 0, written.stderr
    schema = json.loads((out / "schema.json").read_text())
    for key in ("rows", "kept", "masked", "rejected", "issues", "class_counts",
                "split_counts", "warnings", "labels", "roles"):
        assert report[key] == schema[key], key
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    assert [{k: str(v) for k, v in r.items()} for r in report["rejects"]] == rejects.to_dict(
        "records")


def test_check_exits_5_over_the_reject_fraction(runner, app, sample_copy):
    args = ["preprocess", str(sample_copy), "--check", "--on-missing", "drop", "--image-size", "16"]
    strict = runner.invoke(app, args)  # 3 of 480 rows rejected, default limit 0
    assert strict.exit_code == 5
    report = json.loads(strict.stdout)
    assert report["rejected"] == 3 and report["passed"] is False
    assert "3 of 480 rows rejected" in strict.stderr and "--max-reject-fraction" in strict.stderr

    loose = runner.invoke(app, [*args, "--max-reject-fraction", "0.01"])
    assert loose.exit_code == 0, loose.stderr
    assert json.loads(loose.stdout)["max_reject_fraction"] == 0.01


def test_check_need_label_fails_without_a_label_column(runner, app, sample_copy):
    table = sample_copy.with_name("nolabel.csv")
    pd.read_csv(sample_copy, dtype=str).drop(columns=["label"]).to_csv(table, index=False)
    args = ["preprocess", str(table), "--check", "--image-size", "16"]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, [*args, "--need-label"])
    assert result.exit_code == 3
    assert "no label column" in one_line(result)


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "preprocess needs --out DIR, or --check"),
        (["--check", "--out", "{tmp}/p"], "--out and --check cannot be used together"),
        (["--out", "{tmp}/p", "--max-reject-fraction", "0"],
         "--max-reject-fraction only applies with --check"),
        (["--out", "{tmp}/p", "--need-label"], "--need-label only applies with --check"),
        (["--check", "--force"], "--force only applies with --out"),
    ],
)
def test_contradictory_or_missing_flags_are_usage_errors(runner, app, sample_copy, tmp_path,
                                                         args, message):
    argv = ["preprocess", str(sample_copy), *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    assert message in one_line(result)
    assert result.stdout == ""
    assert not (tmp_path / "p").exists()
