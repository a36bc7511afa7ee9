"""Issue 12, reading: the cases of ../shared/cases end as their case.md says, through the CLI.

Each case stands for a kind of fault (values verbatim, ids verbatim, tables parsed
unambiguously or refused, predict and evaluate reading what training saved). The inputs are
built by ../shared/cases/make_cases.py into a temporary folder (skipped when it is absent).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKE_CASES = ROOT.parent / "shared" / "cases" / "make_cases.py"


@pytest.fixture(scope="module")
def cases(tmp_path_factory) -> Path:
    if not MAKE_CASES.is_file():
        pytest.skip("../shared/cases/make_cases.py not present")
    out = tmp_path_factory.mktemp("cases")
    subprocess.run([sys.executable, str(MAKE_CASES), str(out)], check=True,
                   capture_output=True, cwd=ROOT)
    return out


def check(runner, app, table: Path, *args: str) -> tuple[int, dict | None, str]:
    result = runner.invoke(app, ["check", str(table), "--image-size", "16", *args])
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result.exit_code, report, result.stderr


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def as_jsonl(table: Path, out: Path) -> Path:
    with open(table, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return out


# --- values verbatim --------------------------------------------------------------------------

def test_na_is_a_label_in_check_as_in_json_lines(runner, app, cases):
    table = cases / "na_is_a_label" / "regions.csv"
    code, report, _ = check(runner, app, table)
    assert code == 0 and report["rejected"] == 0 and report["rows"] == 24
    assert report["class_counts"] == {"APAC": 8, "EU": 8, "NA": 8}
    same = as_jsonl(table, table.with_suffix(".jsonl"))
    code, from_json, _ = check(runner, app, same)
    assert code == 0 and from_json["class_counts"] == report["class_counts"]


@pytest.mark.tf
def test_na_is_a_label_in_train_and_train_reports_rejected_rows(runner, app, cases, tmp_path):
    """NA trains as a class; a row with an empty label is rejected, and train says so on
    stderr and in its JSON (counts by reason)."""
    source = cases / "na_is_a_label" / "regions.csv"
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ","  # r002: an empty label
    table = source.parent / "one_blank.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["train", str(table), "--out", str(tmp_path / "m"),
                                 "--epochs", "1", "--image-size", "32", "--quiet"])
    assert result.exit_code == 0, result.stderr
    meta = json.loads(result.stdout)
    assert sorted(meta["labels"]) == ["APAC", "EU", "NA"]
    assert meta["data"]["rejected"] == 1
    assert meta["data"]["rejected_by_reason"] == {"missing_label": 1}
    assert "mmcli: warning: 1 of 24 rows rejected (missing_label 1)" in result.stderr


def test_json_booleans_and_numbers_read_as_a_csv_spells_them(runner, app, cases):
    """A CSV of true/false and a JSON Lines table of booleans give the same labels; a long
    integer id is exact (never through a float)."""
    folder = cases / "na_is_a_label"
    rows = list(csv.DictReader((folder / "regions.csv").read_text("utf-8").splitlines()))
    with open(folder / "flags.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "text", "label"])
        for i, row in enumerate(rows):
            writer.writerow([1450000000000000001 + i, row["image"], row["text"],
                             "true" if i % 2 else "false"])
    (folder / "flags.jsonl").write_text("".join(
        json.dumps({"id": 1450000000000000001 + i, "image": row["image"], "text": row["text"],
                    "label": bool(i % 2)}) + "\n" for i, row in enumerate(rows)))
    reports = [check(runner, app, folder / name, "--max-reject-fraction", "1")[1]
               for name in ("flags.csv", "flags.jsonl")]
    assert reports[0]["class_counts"] == reports[1]["class_counts"] == {"false": 12, "true": 12}
    assert reports[0]["rejected"] == reports[1]["rejected"] == 0


# --- ids verbatim ---------------------------------------------------------------------------

@pytest.mark.tf
def test_bom_quoted_header_keeps_the_id_column(runner, app, cases, trained):
    new = cases / "bom_quoted_header" / "new.csv"
    assert new.read_bytes().startswith(b'\xef\xbb\xbf"id"')
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(new)])
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in records(result.stdout)] == [f"r{i:03d}" for i in range(1, 7)]


@pytest.mark.tf
def test_ids_are_echoed_exactly_and_a_blank_id_is_reported(runner, app, cases, trained,
                                                         tmp_path):
    """No NFKC, no whitespace collapsing, no float; a blank id stays blank (never a row
    number that could be another row's id) and is reported as missing_id."""
    folder = cases / "bom_quoted_header"
    odd = ["007", " two  spaces ", "\uff21", "1.0", "", "1"]  # "\uff21": fullwidth A
    table = folder / "odd_ids.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "text"])
        for i, ident in enumerate(odd, start=1):
            writer.writerow([ident, f"images/r{i:03d}.png", "a bright sunny morning walk"])
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table),
                                 "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    got = records(result.stdout)
    assert [r["id"] for r in got] == odd
    assert all(r["error"] is None for r in got)
    code, report, _ = check(runner, app, table)
    assert code == 0 and report["kept"] == 6
    assert [(r["row"], r["id"], r["reason"], r["action"]) for r in report["rejects"]] == [
        (5, "", "missing_id", "noted")]


# --- tables parsed unambiguously or refused --------------------------------------------------

@pytest.mark.tf
def test_duplicate_header_is_exit_3_naming_the_column_in_every_command(runner, app, cases,
                                                                       trained, tmp_path):
    new = cases / "duplicate_header" / "new.csv"
    runs = {
        "predict": ["predict", str(trained["bundle"]), str(new)],
        "check": ["check", str(new)],
        "train": ["train", str(new), "--out", str(tmp_path / "m")],
        "evaluate": ["evaluate", str(trained["bundle"]), str(new)],
    }
    for command, argv in runs.items():
        result = runner.invoke(app, argv)
        assert result.exit_code == 3, (command, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("mmcli: error: ") and "the column 'text' appears twice" in last


def test_tsv_quote_swallows_no_row(runner, app, cases):
    table = cases / "tsv_quote" / "train.tsv"
    code, report, stderr = check(runner, app, table)
    assert code == 0, stderr
    assert report["rows"] == 24 and report["kept"] == 24
    out = runner.invoke(app, ["preprocess", str(table), "--out", str(table.parent / "p"),
                              "--image-size", "16"])
    assert out.exit_code == 0, out.stderr
    import pandas as pd

    examples = pd.read_parquet(table.parent / "p" / "examples.parquet").set_index("id")
    assert len(examples) == 24 and examples.loc["r003", "text"].startswith('"Sunny walk')


@pytest.mark.tf
def test_semicolon_csv_is_read_with_its_delimiter(runner, app, cases, trained):
    folder = cases / "semicolon_csv"
    code, report, stderr = check(runner, app, folder / "train.csv")
    assert code == 0, stderr
    assert report["rows"] == 24
    assert {k: report["roles"][k] for k in ("id", "image", "text", "label")} == {
        "id": "id", "image": "image", "text": "text", "label": "label"}
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(folder / "new.csv")])
    assert result.exit_code == 0, result.stderr
    got = records(result.stdout)
    assert [r["id"] for r in got] == [f"r{i:03d}" for i in range(1, 5)]
    assert all(r["image_present"] and r["text_present"] for r in got)


# --- predict and evaluate use what training saved -------------------------------------------

@pytest.mark.tf
def test_latin1_predict_uses_the_bundle_encoding(runner, app, cases, tmp_path):
    folder = cases / "latin1_predict"
    bundle = tmp_path / "m"
    trained = runner.invoke(app, ["train", str(folder / "train.csv"), "--encoding", "latin-1",
                                  "--out", str(bundle), "--epochs", "1", "--image-size", "32",
                                  "--quiet"])
    assert trained.exit_code == 0, trained.stderr
    result = runner.invoke(app, ["predict", str(bundle), str(folder / "new.csv")])
    assert result.exit_code == 0, result.stderr
    assert len(records(result.stdout)) == 4
    wrong = runner.invoke(app, ["predict", str(bundle), str(folder / "new.csv"),
                                "--encoding", "utf-8"])  # the flag overrides the bundle
    assert wrong.exit_code == 3 and "invalid utf-8 byte" in wrong.stderr
