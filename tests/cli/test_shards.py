"""preprocess --shard I/N, and train/evaluate reading several prepared folders as one."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mmcli.api.source import open_source
from mmcli.config import PrepConfig
from tests.conftest import SAMPLE


def prepare(runner, app, out, *extra):
    result = runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(out),
                                 "--image-size", "16", "--quiet", *map(str, extra)])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    from typer.testing import CliRunner

    from mmcli.cli.app import app

    runner, root = CliRunner(), tmp_path_factory.mktemp("shards")
    whole = prepare(runner, app, root / "whole")
    summaries = [prepare(runner, app, root / f"part-{i}", "--shard", f"{i}/3")
                 for i in (1, 2, 3)]
    return root, whole, summaries


def rounded(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def rejects(folder):
    with open(folder / "rejects.csv", newline="") as handle:
        return [tuple(line.values()) for line in csv.DictReader(handle)]


def test_three_parts_hold_every_row_exactly_once(parts):
    root, whole, summaries = parts
    import pandas as pd

    rows = [pd.read_parquet(root / f"part-{i}" / "examples.parquet")["row"].tolist()
            for i in (1, 2, 3)]
    assert sorted(r for part in rows for r in part) == list(range(1, 481))
    for i, part in enumerate(rows, start=1):  # the documented rule: ((r - 1) mod N) + 1
        assert all((r - 1) % 3 + 1 == i for r in part)
    assert [s["part"] for s in summaries] == [{"index": i, "of": 3} for i in (1, 2, 3)]
    assert sum(s["kept"] for s in summaries) == whole["kept"] == 480
    assert sorted(x for i in (1, 2, 3) for x in rejects(root / f"part-{i}")) == sorted(
        rejects(root / "whole"))


def test_parts_read_together_equal_the_whole(parts, tmp_path):
    root, whole, _ = parts
    one = open_source(root / "whole", PrepConfig(), tmp_path)
    merged = open_source(str(root / "part-*"), PrepConfig(), tmp_path)  # a glob
    columns = ["row", "id", "split", "label", "text", "image_present", "text_present"]
    assert merged.examples[columns].equals(one.examples[columns])
    assert merged.labels == one.labels == whole["labels"]
    for key in ("rows", "kept", "masked", "rejected", "issues", "class_counts",
                "split_counts"):
        assert getattr(merged.schema, key) == getattr(one.schema, key), key
    picks = np.array([0, 1, 5, 100, 479, 240])
    assert np.array_equal(merged.values("image", picks), one.values("image", picks))


def test_a_label_in_one_part_only_is_a_class(runner, app, tmp_path):
    table = tmp_path / "t.csv"
    lines = SAMPLE.read_text().splitlines()
    lines[1] = lines[1].rsplit(",", 2)[0] + ",only_here,train"  # row 1 -> part 1 of 2
    table.write_text("\n".join(lines) + "\n")
    for i in (1, 2):
        result = runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / f"p{i}"),
                                     "--image-root", str(SAMPLE.parent), "--image-size", "16",
                                     "--shard", f"{i}/2", "--quiet"])
        assert result.exit_code == 0, result.stderr
    merged = open_source([tmp_path / "p1", tmp_path / "p2"], PrepConfig(), tmp_path)
    assert "only_here" in merged.labels and merged.schema.class_counts["only_here"] == 1


def test_parts_with_different_settings_are_refused_naming_the_setting(parts, runner, app,
                                                                       tmp_path):
    root, _, _ = parts
    prepare(runner, app, tmp_path / "other-2", "--shard", "2/3", "--image-size", "24")
    result = runner.invoke(app, ["train", str(root / "part-1"), str(tmp_path / "other-2"),
                                 str(root / "part-3"), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert "prep.image_size" in result.stderr and "16" in result.stderr


@pytest.mark.parametrize("given, message", [
    (("part-1", "part-2"), "part(s) 3/3 missing"),
    (("part-1", "part-2", "part-3", "part-2"), "part(s) 2/3 given twice"),
])
def test_an_incomplete_set_of_parts_is_refused(parts, runner, app, tmp_path, given, message):
    root, _, _ = parts
    result = runner.invoke(app, ["train", *(str(root / g) for g in given),
                                 "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and message in result.stderr


def test_bad_shard_flags(runner, app, tmp_path):
    for shard in ("0/3", "4/3", "two"):
        result = runner.invoke(app, ["preprocess", str(SAMPLE), "--out", str(tmp_path / "x"),
                                     "--shard", shard])
        assert result.exit_code == 2 and "--shard I/N" in result.stderr
    result = runner.invoke(app, ["train", str(SAMPLE), str(SAMPLE), "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "must all be prepared folders" in result.stderr


@pytest.mark.tf
def test_training_on_three_parts_equals_training_on_the_whole(parts, runner, app, tmp_path):
    root, _, _ = parts
    common = ["--epochs", "2", "--seed", "3", "--batch-size", "32", "--quiet"]
    one = runner.invoke(app, ["train", str(root / "whole"), "--out", str(tmp_path / "a"),
                              *common])
    assert one.exit_code == 0, one.stderr
    three = runner.invoke(app, ["train", *(str(root / f"part-{i}") for i in (3, 1, 2)),
                                "--out", str(tmp_path / "b"), *common])
    assert three.exit_code == 0, three.stderr
    a, b = json.loads(one.stdout), json.loads(three.stdout)
    assert a["labels"] == b["labels"]
    for key in ("rows", "rejected", "rejected_by_reason", "train_rows", "val_rows", "sha256"):
        assert a["data"][key] == b["data"][key], key
    assert a["validation"]["rows"] == b["validation"]["rows"]
    assert rounded(b["validation"]) == rounded(a["validation"])  # every score, the ablation too
    assert a["training"]["epochs_run"] == b["training"]["epochs_run"] == 2
    ev = runner.invoke(app, ["evaluate", str(tmp_path / "b"), str(root / "part-*")])
    assert ev.exit_code == 0, ev.stderr
    assert json.loads(ev.stdout)["n"] == 120  # the test rows of every part


@pytest.mark.tf
def test_evaluate_over_parts_reports_every_parts_rejects(runner, app, trained, tmp_path):
    """evaluate --rejects over a table's three parts writes every part's lines, in the order
    of the whole table's rejects.csv, and data_issues counts them all."""
    prepare(runner, app, tmp_path / "whole", "--image-size", "32")
    for i in (1, 2, 3):
        prepare(runner, app, tmp_path / f"part-{i}", "--image-size", "32", "--shard", f"{i}/3")
    whole = rejects(tmp_path / "whole")
    assert {line[0] for line in whole} - {line[0] for line in rejects(tmp_path / "part-1")}
    bundle = str(trained["bundle"])
    one = runner.invoke(app, ["evaluate", bundle, str(tmp_path / "whole"), "--quiet"])
    assert one.exit_code == 0, one.stderr
    out = tmp_path / "rejects.csv"
    three = runner.invoke(app, ["evaluate", bundle, *(str(tmp_path / f"part-{i}")
                                                      for i in (2, 3, 1)),
                                "--rejects", str(out)])
    assert three.exit_code == 0, three.stderr
    assert rejects(tmp_path) == whole  # tmp_path / "rejects.csv": every part's lines
    issues = json.loads(three.stdout)["data_issues"]
    assert issues == json.loads(one.stdout)["data_issues"]
    assert sum(issues["issues"].values()) == len(whole)
    assert f"every problem -> {out}" in three.stderr
