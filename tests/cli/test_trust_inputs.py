"""Issue 12, reading: predict and evaluate read the columns training read and say when a
model input is absent or missing in every row; records do not depend on --chunk-rows; ids
round-trip through every format."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLE


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def sample_rows(folder: Path, n: int, **changes) -> Path:
    """The first n rows of sample_data with a text in ``folder`` (their images copied), with
    changes."""
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    usable = frame["text"].str.strip().ne("") & frame["image"].map(
        lambda image: (SAMPLE.parent / image).is_file())
    frame = frame[usable].head(n)
    (folder / "images").mkdir(exist_ok=True)
    for image in frame["image"]:
        shutil.copyfile(SAMPLE.parent / image, folder / image)
    for column, value in changes.items():
        if value is None:
            frame = frame.drop(columns=[column])
        else:
            frame[column] = value
    path = folder / "t.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.tf
def test_predict_warns_about_an_input_without_its_column(runner, app, trained, tmp_path):
    table = sample_rows(tmp_path, 6, image=None)
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table)])
    assert result.exit_code == 0, result.stderr
    got = records(result.stdout)
    assert len(got) == 6 and not any(r["image_present"] for r in got)
    assert "6 rows: 6 predicted, 0 with errors, 6 without image" in result.stderr
    warning = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warning == ["mmcli: warning: the model's input image: column 'image' is not in the "
                       "table; it is masked in every row (6 rows). Name the column with "
                       "--image-col if it has another name"]
    quiet = runner.invoke(app, ["predict", str(trained["bundle"]), str(table), "--quiet"])
    assert quiet.stderr.splitlines() == warning  # a warning is not information


@pytest.mark.tf
def test_predict_reads_the_trained_columns_not_a_guess(runner, app, trained, tmp_path):
    """A new table whose text column has another name is not guessed from 'description';
    the flag names it."""
    table = sample_rows(tmp_path, 4)
    frame = pd.read_csv(table, dtype=str).rename(columns={"text": "description"})
    frame.to_csv(table, index=False)
    guessed = runner.invoke(app, ["predict", str(trained["bundle"]), str(table)])
    assert guessed.exit_code == 0
    assert not any(r["text_present"] for r in records(guessed.stdout))
    assert "input text: column 'text' is not in the table" in guessed.stderr
    named = runner.invoke(app, ["predict", str(trained["bundle"]), str(table),
                                "--text-col", "description"])
    assert named.exit_code == 0 and "warning" not in named.stderr
    assert all(r["text_present"] for r in records(named.stdout))


@pytest.mark.tf
def test_evaluate_counts_inputs_absent_or_missing_in_every_row(runner, app, trained, tmp_path):
    table = sample_rows(tmp_path, 40, image=None)
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(table)])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["missing_inputs"] == {
        "image": {"reason": "no_column", "columns": ["image"], "rows": metrics["n"]}}
    assert metrics["absent_modalities"] == ["image"]
    assert "mmcli: warning: the model's input image: column 'image'" in result.stderr
    empty = sample_rows(tmp_path, 40, image="")
    result = runner.invoke(app, ["evaluate", str(trained["bundle"]), str(empty)])
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["missing_inputs"] == {"image": {"reason": "missing_in_every_row",
                                                   "columns": ["image"], "rows": metrics["n"]}}
    assert "absent_modalities" not in metrics
    assert (f"input image (column 'image') is missing in every row ({metrics['n']} rows)"
            in result.stderr)


# Texts the hypothesis tests draw: words, NA-like values, quotes, commas, leading zeros.
word = st.sampled_from(["red", "cat", "NA", "null", "None", '"quoted', "a,b", "007",
                        "\u00e9t\u00e9", "N/A", "true"])
texts = st.lists(word, min_size=1, max_size=5).map(" ".join)
ident = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8)


@pytest.mark.tf
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(ident, texts), min_size=1, max_size=7, unique_by=lambda r: r[0]))
def test_predict_records_do_not_depend_on_chunk_rows(runner, app, trained, rows):
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "t.csv"
        with open(table, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "image", "text"])
            writer.writerows([i, "images/ex0002.jpg", t] for i, t in rows)
        outputs = []
        for size in ("1", "3", "10000"):
            result = runner.invoke(app, ["predict", str(trained["bundle"]), str(table),
                                         "--chunk-rows", size, "--image-root",
                                         str(SAMPLE.parent)])
            assert result.exit_code == 0, result.stderr
            outputs.append(records(result.stdout))
        assert outputs[0] == outputs[1] == outputs[2]
        assert [r["id"] for r in outputs[0]] == [i for i, _ in rows]


def write_table(path: Path, kind: str, columns: list[str], rows: list[list[str]]) -> None:
    if kind in ("csv", "tsv"):
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter="\t" if kind == "tsv" else ",").writerows(
                [columns, *rows])
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(dict(zip(columns, r, strict=True))) + "\n"
                                for r in rows), encoding="utf-8")
    else:
        pd.DataFrame(rows, columns=columns, dtype=object).to_parquet(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids=st.lists(st.text(st.characters(blacklist_categories=("Cs",),
                                          blacklist_characters="\t\r\n\x00"),
                            min_size=1, max_size=8).filter(str.strip),
                    min_size=1, max_size=6, unique=True),
       kind=st.sampled_from(["csv", "tsv", "jsonl", "parquet"]))
def test_ids_round_trip_through_every_format(ids, kind):
    """Any id of any format comes back exactly as written: the ids the rows carry."""
    from mmcli.data.ids import row_ids
    from mmcli.io.tables import read_table

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"t.{kind}"
        write_table(path, kind, ["id", "text"], [[i, "NA"] for i in ids])
        frame = read_table(path).frame
    assert row_ids(list(frame["id"]), len(frame)) == ids
    assert frame["text"].tolist() == ["NA"] * len(ids)
