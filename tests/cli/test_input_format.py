"""--format is --input-format on preprocess, check, train and evaluate; on predict it stays
the output format and the input's format is --input-format."""

import csv
import io
import json
import shutil

import pandas as pd
import pytest

from tests.conftest import SAMPLE


@pytest.fixture
def txt_csv(sample_copy):
    """The sample table as CSV under a name whose extension says nothing."""
    target = sample_copy.with_name("data.txt")
    shutil.copy(sample_copy, target)
    return target


@pytest.fixture
def txt_tsv(sample_copy):
    """The sample table as TSV under a .txt name."""
    target = sample_copy.with_name("data.txt")
    pd.read_csv(sample_copy, dtype=str).to_csv(target, sep="\t", index=False)
    return target


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", ["preprocess", "check"])
def test_an_unknown_extension_is_a_usage_error_naming_input_format(runner, app, txt_csv,
                                                                   tmp_path, command):
    args = [command, str(txt_csv)] + (["--out", str(tmp_path / "p")] if command == "preprocess"
                                      else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "pass --input-format (csv, tsv, jsonl, parquet)" in one_line(result)


@pytest.mark.parametrize("flag", ["--format", "--input-format"])
def test_preprocess_reads_a_txt_named_csv_with_either_flag(runner, app, txt_csv, tmp_path, flag):
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(txt_csv), flag, "csv", "--out", str(out),
                                 "--image-size", "16"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 480 and summary["kept"] == 480
    assert (out / "schema.json").is_file()


def test_check_reads_a_tsv_given_with_format_tsv(runner, app, txt_tsv):
    result = runner.invoke(app, ["check", str(txt_tsv), "--format", "tsv", "--image-size", "16",
                                 "--max-reject-fraction", "1"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows"] == 480 and report["roles"]["label"] == "label"
    # Read as CSV, a header without commas that splits on tabs gives the tab delimiter.
    as_csv = runner.invoke(app, ["check", str(txt_tsv), "--format", "csv", "--image-size", "16",
                                 "--max-reject-fraction", "1"])
    assert as_csv.exit_code == 0, as_csv.stderr
    assert json.loads(as_csv.stdout)["roles"] == report["roles"]


def test_an_unknown_format_value_names_the_flag(runner, app):
    result = runner.invoke(app, ["check", str(SAMPLE), "--format", "xlsx"])
    assert result.exit_code == 2
    assert "Unknown table format 'xlsx' for --input-format" in one_line(result)


@pytest.mark.tf
def test_train_and_evaluate_take_format_as_the_input_format(runner, app, trained, txt_csv,
                                                            tmp_path):
    bad = runner.invoke(app, ["train", str(txt_csv), "--format", "xlsx",
                              "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2
    assert "for --input-format" in bad.stderr
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(txt_csv),
                                 "--format", "csv", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 120  # the test rows


@pytest.mark.tf
def test_predict_format_stays_the_output_format(runner, app, trained, txt_csv):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(txt_csv),
                                 "--input-format", "csv", "--format", "csv", "--quiet"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 480 and "label" in rows[0]
    # Without --input-format, --format does not name the input's format.
    guessed = runner.invoke(app, ["predict", str(trained["bundle"]), str(txt_csv),
                                  "--format", "csv"])
    assert guessed.exit_code == 2
    assert "pass --input-format" in guessed.stderr
