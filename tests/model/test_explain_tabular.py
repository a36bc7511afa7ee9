"""Tabular columns explained through ``mmcli explain``: on a table whose label is decided by
one numeric column (the others and the text are noise), that column gets the largest score
(each column reset to its missing value), a missing cell scores 0, the Shapley values still
add up, and the page lists the scores."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytestmark = pytest.mark.tf

COLOURS = ("red", "blue", "green")
WORDS = ["alpha", "beta", "gamma", "delta", "omega"]


def _table(path, n=120, seed=0):
    """Label ``hi`` when price > 5; weight, colour and text are noise; row 3's price is
    blank (the model imputes the training median)."""
    rng = np.random.default_rng(seed)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "price", "weight", "colour", "label", "split"])
        for i in range(n):
            price = rng.uniform(0, 10)
            writer.writerow([f"r{i}", " ".join(rng.choice(WORDS, 3)),
                             "" if i == 3 else f"{price:.3f}", f"{rng.uniform(0, 10):.3f}",
                             COLOURS[rng.integers(3)], "hi" if price > 5 else "lo",
                             "test" if i % 4 == 0 else "train"])
    return path


def test_the_deciding_column_gets_the_largest_score(runner, app, tmp_path):
    table, bundle, out = _table(tmp_path / "data.csv"), tmp_path / "bundle", tmp_path / "why"
    result = runner.invoke(app, ["train", str(table), "--out", str(bundle), "--epochs", "30",
                                 "--fusion", "late", "--seed", "0", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["modalities"] == ["text", "tabular"]
    result = runner.invoke(app, ["explain", str(bundle), str(table), "--out", str(out),
                                 "--rows", "40", "-q"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]
    assert len(records) == 40
    for r in records:
        assert abs(sum(r["shapley"].values())
                   - (r["target_probability"] - r["empty_probability"])) < 1e-5
        assert r["methods"]["tabular"] == "column_reset"
        assert set(r["columns"]) == {"price", "weight", "colour"}
    assert records[3]["columns"]["price"] == 0.0  # blank: nothing to reset
    right = [r for r in records if r["label"] == r["true_label"] and r["id"] != "r3"]
    assert len(right) >= 32
    price = {row["id"]: float(row["price"] or "nan") for row in csv.DictReader(open(table))}
    top = np.array([max(r["columns"], key=r["columns"].get) == "price" for r in right])
    clear = np.array([abs(price[r["id"]] - 5) >= 1 for r in right])
    # reset to its median (about 5, the boundary), a price near 5 moves little: those rows
    # may rank a noise column first (measured, seed 0: 0.89 of all, 0.96 of the 28 clear)
    assert top.mean() >= 0.8 and top[clear].mean() >= 0.9
    page = (out / "index.html").read_text()
    assert page.count('<table class="columns">') == 40 and "<td>price</td>" in page
