"""evaluate and predict take the reading flags; there they override what the bundle saved."""

from __future__ import annotations

import csv
import json

import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf  # uses the trained bundle

ROWS = 40


def sample_rows() -> list[dict]:
    """Rows of the sample table whose image and text are both fine (ex0001-3 are not)."""
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[3:3 + ROWS]


def write(path, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def latin1_table(sample_copy):
    """Beside the sample images, a table whose texts have accents, encoded as latin-1."""
    rows = sample_rows()
    rows[5]["text"] = "un café près du lac: " + rows[5]["text"]
    return write(sample_copy.with_name("latin1.csv"), rows, encoding="latin-1")


@pytest.fixture
def elsewhere_table(tmp_path):
    """A table whose relative image paths (images/...) only resolve under sample_data/."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return write(folder / "data.csv", sample_rows())


def predict(runner, app, trained, table, *flags):
    return runner.invoke(app, ["predict", str(trained["bundle"]), str(table), "--quiet", *flags])


def evaluate(runner, app, trained, table, *flags):
    return runner.invoke(app, ["evaluate", str(trained["bundle"]), str(table), "--split", "all",
                               "--quiet", *flags])


@pytest.mark.parametrize("run", [predict, evaluate])
def test_encoding_overrides_the_bundles(runner, app, trained, latin1_table, run):
    refused = run(runner, app, trained, latin1_table)
    assert refused.exit_code == 3
    assert "utf-8" in refused.stderr and "--encoding" in refused.stderr
    assert "latin1.csv" in refused.stderr

    done = run(runner, app, trained, latin1_table, "--encoding", "latin-1")
    assert done.exit_code == 0, done.stderr
    if run is predict:
        records = [json.loads(line) for line in done.stdout.splitlines()]
        assert len(records) == ROWS and all(r["error"] is None for r in records)
        assert all(r["text_present"] for r in records)
    else:
        assert json.loads(done.stdout)["n"] == ROWS


def test_predict_image_root_finds_the_images(runner, app, trained, elsewhere_table):
    lost = predict(runner, app, trained, elsewhere_table)
    assert lost.exit_code == 0, lost.stderr
    assert {json.loads(line)["image_present"] for line in lost.stdout.splitlines()} == {False}

    found = predict(runner, app, trained, elsewhere_table, "--image-root", str(SAMPLE.parent))
    assert found.exit_code == 0, found.stderr
    records = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(records) == ROWS and all(r["image_present"] for r in records)


def test_evaluate_image_root_finds_the_images(runner, app, trained, elsewhere_table):
    lost = evaluate(runner, app, trained, elsewhere_table)
    assert lost.exit_code == 0, lost.stderr
    assert json.loads(lost.stdout)["by_missingness"]["text_only"]["n"] == ROWS

    found = evaluate(runner, app, trained, elsewhere_table, "--image-root", str(SAMPLE.parent))
    assert found.exit_code == 0, found.stderr
    metrics = json.loads(found.stdout)
    assert metrics["n"] == ROWS and not metrics.get("by_missingness")
    assert metrics["accuracy"] > json.loads(lost.stdout)["accuracy"]


def test_predict_accepts_evaluates_label_flags_and_ignores_them(runner, app, trained,
                                                                elsewhere_table):
    flags = ["--image-root", str(SAMPLE.parent), "--label-col", "label", "--split-col", "split"]
    done = predict(runner, app, trained, elsewhere_table, *flags)
    assert done.exit_code == 0, done.stderr
    assert len(done.stdout.splitlines()) == ROWS
