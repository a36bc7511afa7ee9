"""``mmcli predict`` as scripts use it: stdin to stdout, chunks, errors, top-k, passthrough."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf

LABELS = ["blue_happy", "blue_sad", "red_happy", "red_sad"]


def sample_ids() -> list[str]:
    with open(SAMPLE, newline="") as handle:
        return [row["id"] for row in csv.DictReader(handle)]


def jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_stdin_to_stdout_carries_only_json_lines(trained):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}  # mmcli must silence TensorFlow itself
    done = subprocess.run(
        [sys.executable, "-m", "mmcli", "predict", str(trained["bundle"]), "-", "--chunk-rows",
         "100"],
        input=SAMPLE.read_bytes(), capture_output=True, cwd=SAMPLE.parent, env=env, timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    records = [json.loads(line) for line in lines]  # every line parses: nothing else on stdout
    assert all(isinstance(r, dict) for r in records)
    assert [r["id"] for r in records] == sample_ids()
    assert b"tensorflow" not in done.stdout.lower()
    assert "480 rows: 480 predicted, 0 with errors" in done.stderr.decode()


def test_order_and_count_survive_many_small_chunks(runner, app, trained):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE),
                                 "--chunk-rows", "7"])
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    assert [r["id"] for r in records] == sample_ids()
    # the same predictions as in one chunk
    whole = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE)])
    assert [r["label"] for r in jsonl(whole.stdout)] == [r["label"] for r in records]
    # the broken sample rows say which modality was missing
    by_id = {r["id"]: r for r in records}
    assert by_id["ex0001"]["image_present"] is False and by_id["ex0001"]["text_present"]
    assert by_id["ex0003"]["text_present"] is False and by_id["ex0003"]["image_present"]


@pytest.fixture
def broken_table(sample_copy):
    """Five sample rows, the third with neither an image file nor text."""
    with open(sample_copy, newline="") as handle:
        rows = list(csv.DictReader(handle))[10:15]
    rows[2]["image"] = "images/nowhere.png"
    rows[2]["text"] = ""
    path = sample_copy.parent / "broken.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path, [r["id"] for r in rows]


def test_broken_row_becomes_an_error_record_and_is_counted(runner, app, trained, broken_table):
    path, ids = broken_table
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(path)])
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    assert [r["id"] for r in records] == ids
    bad = records[2]
    assert bad["label"] is None and bad["top_k"] == [] and "image" in bad["error"]
    assert all(r["error"] is None and r["label"] in LABELS for i, r in enumerate(records) if i != 2)
    summary = [line for line in result.stderr.splitlines() if line.startswith("5 rows:")]
    # the error row is counted once, as an error, not also as a row without image or text
    assert summary == ["5 rows: 4 predicted, 1 with errors"]


def test_strict_exits_non_zero_on_a_broken_row(runner, app, trained, broken_table, tmp_path):
    path, ids = broken_table
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(path), "--strict",
                                 "--out", str(out)])
    assert result.exit_code == 3
    assert f"row 3 (id {ids[2]})" in result.stderr and "--strict" in result.stderr
    assert not out.exists()  # nothing half-written


def test_unparseable_json_line_is_an_error_record(runner, app, trained, sample_copy):
    with open(sample_copy, newline="") as handle:
        rows = list(csv.DictReader(handle))[20:23]
    lines = [json.dumps(rows[0]), '{"id": "broken", "text": ', json.dumps(rows[1])]
    path = sample_copy.parent / "rows.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(path)])
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    assert len(records) == 3
    assert records[0]["id"] == rows[0]["id"] and records[2]["id"] == rows[1]["id"]
    assert records[1]["label"] is None and records[1]["error"].startswith("line 2:")


@pytest.mark.parametrize("k", [1, 2, 10])
def test_top_k_lists_the_k_best_labels(runner, app, trained, k):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE), "--top-k",
                                 str(k)])
    assert result.exit_code == 0, result.stderr
    for record in jsonl(result.stdout)[:20]:
        top = record["top_k"]
        assert len(top) == min(k, len(LABELS))
        assert top[0]["label"] == record["label"]
        probabilities = [t["probability"] for t in top]
        assert probabilities == sorted(probabilities, reverse=True)
        assert all(record["probabilities"][t["label"]] == t["probability"] for t in top)


def test_keep_columns_pass_input_values_through(runner, app, trained):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE),
                                 "--keep-columns", "split,label", "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    with open(SAMPLE, newline="") as handle:
        source = list(csv.DictReader(handle))
    assert [r["split"] for r in rows] == [s["split"] for s in source]
    assert [r["input_label"] for r in rows] == [s["label"] for s in source]  # label clashes
    assert json.loads(rows[0]["probabilities"]).keys() == set(LABELS)


def test_keep_columns_names_a_missing_column(runner, app, trained):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE),
                                 "--keep-columns", "colour"])
    assert result.exit_code == 3
    assert "'colour'" in result.stderr and result.stdout == ""


def test_parquet_output_to_a_file(runner, app, trained, tmp_path):
    import pandas as pd

    out = tmp_path / "p.parquet"
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE), "--format",
                                 "parquet", "--out", str(out), "--chunk-rows", "50",
                                 "--keep-columns", "split"])
    assert result.exit_code == 0, result.stderr
    frame = pd.read_parquet(out)
    assert frame["id"].tolist() == sample_ids()
    assert set(frame["label"]) <= set(LABELS)
    assert frame["image_present"].dtype == bool
    assert len(json.loads(frame["top_k"][0])) == 3
    assert set(frame["split"]) == {"train", "test"}


def test_parquet_to_stdout_is_refused(runner, app, trained):
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE), "--format",
                                 "parquet"])
    assert result.exit_code == 2 and result.stdout == ""


def test_parquet_input_is_streamed_in_batches(runner, app, trained, sample_copy):
    import pandas as pd

    path = sample_copy.parent / "data.parquet"
    pd.read_csv(sample_copy, dtype=str).to_parquet(path)
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(path), "--chunk-rows",
                                 "64", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in json.loads(result.stdout)] == sample_ids()


def test_csv_row_with_extra_fields_is_an_error_record(runner, app, trained, sample_copy):
    lines = sample_copy.read_text().splitlines()
    header, rows = lines[0], lines[30:34]
    rows[1] = rows[1] + ",surplus,cells"
    path = sample_copy.parent / "extra.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(path), "--chunk-rows",
                                 "2"])
    assert result.exit_code == 0, result.stderr
    records = jsonl(result.stdout)
    assert len(records) == 4
    assert records[1]["label"] is None
    assert records[1]["error"].startswith("malformed CSV row (line 3)")
    assert [r["id"] for r in records[::2]] == [rows[0].split(",")[0], rows[2].split(",")[0]]
    assert "4 rows: 3 predicted, 1 with errors" in result.stderr
