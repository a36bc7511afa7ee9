"""mmcli preprocess on the sample data and on every table format."""

import csv
import json

import numpy as np
import pandas as pd
import pytest

from mmcli.data.dataset import open_dataset
from tests.conftest import SAMPLE


def run(runner, app, *args, stdin=None):
    return runner.invoke(app, ["preprocess", *map(str, args)], input=stdin)


def test_prepares_sample_data_and_reports_every_bad_row(runner, app, tmp_path):
    out = tmp_path / "prepared"
    result = run(runner, app, SAMPLE, "--out", out, "--image-size", "32")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 480 and summary["kept"] == 480 and summary["rejected"] == 0
    assert summary["masked"] == 3
    assert summary["labels"] == ["blue_happy", "blue_sad", "red_happy", "red_sad"]
    assert summary["roles"] == {
        "id": "id",
        "image": "image",
        "text": "text",
        "label": "label",
        "split": "split",
    }
    assert summary["split_counts"] == {"test": 120, "train": 360}
    assert "480 rows" in result.stderr

    with open(out / "rejects.csv", newline="") as handle:
        rejects = list(csv.DictReader(handle))
    assert list(rejects[0]) == ["row", "id", "column", "reason", "action", "message"]
    assert {(r["row"], r["column"], r["reason"], r["action"]) for r in rejects} == {
        ("1", "image", "missing", "masked"),
        ("2", "image", "unreadable", "masked"),
        ("3", "text", "missing", "masked"),
    }
    data = open_dataset(out)
    assert len(data.examples) == 480
    first = data.examples.iloc[:3]
    assert first["image_present"].tolist() == [False, False, True]
    assert first["text_present"].tolist() == [True, True, False]
    images = data.values("image", np.arange(5))
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.uint8
    assert images[0].max() == 0 and images[3].max() > 0


@pytest.mark.parametrize("fmt", ["tsv", "jsonl", "parquet"])
def test_every_table_format_gives_the_same_dataset(runner, app, sample_copy, tmp_path, fmt):
    frame = pd.read_csv(sample_copy, dtype=str)
    other = sample_copy.with_suffix(f".{fmt}")
    if fmt == "tsv":
        frame.to_csv(other, sep="\t", index=False)
    elif fmt == "jsonl":
        frame.to_json(other, orient="records", lines=True)
    else:
        frame.to_parquet(other, index=False)
    a = run(runner, app, sample_copy, "--out", tmp_path / "a", "--image-size", "16")
    b = run(runner, app, other, "--out", tmp_path / "b", "--image-size", "16")
    assert a.exit_code == 0 and b.exit_code == 0, b.stderr
    first, second = open_dataset(tmp_path / "a"), open_dataset(tmp_path / "b")
    pd.testing.assert_frame_equal(first.examples, second.examples)
    idx = np.arange(len(first.examples))
    assert np.array_equal(first.values("image", idx), second.values("image", idx))


def test_reads_stdin_with_dash(runner, app, tmp_path):
    out = tmp_path / "prepared"
    text = "id,text,label\n1,a happy day,pos\n2,a sad day,neg\n3,,neg\n"
    result = run(runner, app, "-", "--out", out, stdin=text)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["modalities"] == ["text"]
    assert summary["kept"] == 2 and summary["rejected"] == 1
    assert summary["issues"] == {"rejected:missing": 1, "rejected:no_modality": 1}


def test_refuses_to_overwrite_without_force(runner, app, tmp_path):
    out = tmp_path / "prepared"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run(runner, app, SAMPLE, "--out", out)
    assert result.exit_code == 2
    assert "--force" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    forced = run(runner, app, SAMPLE, "--out", out, "--image-size", "16", "--force")
    assert forced.exit_code == 0
    assert not (out / "keep.txt").exists() and (out / "schema.json").exists()


def test_on_missing_drop_rejects_the_masked_rows(runner, app, tmp_path):
    result = run(
        runner, app, SAMPLE, "--out", tmp_path / "p", "--image-size", "16", "--on-missing", "drop"
    )
    summary = json.loads(result.stdout)
    assert summary["kept"] == 477 and summary["rejected"] == 3 and summary["masked"] == 0


def test_on_missing_error_stops_at_the_first_bad_row(runner, app, tmp_path):
    result = run(runner, app, SAMPLE, "--out", tmp_path / "p", "--on-missing", "error")
    assert result.exit_code == 3
    assert "row 1 (id ex0001)" in result.stderr
    assert not (tmp_path / "p").exists()


def test_the_summary_echoes_labels_as_written_and_says_when_there_is_no_label(runner, app,
                                                                           tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,a sunny walk,[bold]x[/bold]\n2,a rainy day,[red]\n"
                     "3,a dark night,[bold]x[/bold]\n", encoding="utf-8")
    result = run(runner, app, table, "--out", tmp_path / "p")
    assert result.exit_code == 0, result.stderr
    assert "  labels: [bold]x[/bold] (2), [red] (1)" in result.stderr.splitlines()

    table.write_text("id,text\n1,a sunny walk\n2,a rainy day\n", encoding="utf-8")
    result = run(runner, app, table, "--out", tmp_path / "q")
    assert result.exit_code == 0, result.stderr
    assert "  labels: none (no label column)" in result.stderr.splitlines()


def test_a_text_cut_to_max_text_chars_is_reported_row_by_row(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\n1,a short one,x\n"
                     "2,this text is far too long for the limit we set here,y\n3,ok text,x\n",
                     encoding="utf-8")
    result = run(runner, app, table, "--out", tmp_path / "p", "--max-text-chars", "20")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["kept"] == 3 and summary["issues"] == {"noted:text_truncated": 1}
    with open(tmp_path / "p" / "rejects.csv", newline="") as handle:
        (line,) = list(csv.DictReader(handle))
    assert (line["row"], line["column"], line["reason"], line["action"]) == (
        "2", "text", "text_truncated", "noted")
    assert "51 characters cut to 20" in line["message"]
    examples = pd.read_parquet(tmp_path / "p" / "examples.parquet")
    assert examples["text"].tolist()[1] == "this text is far too"  # the cut text is used
    checked = runner.invoke(app, ["check", str(table), "--max-text-chars", "60"])
    assert checked.exit_code == 0 and json.loads(checked.stdout)["issues"] == {}
