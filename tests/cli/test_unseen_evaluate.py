"""evaluate says on stderr how many cells held a category training never saw, as predict does
(the JSON's unseen_categories), instead of counting them in the JSON only."""

from __future__ import annotations

import json

import pytest


def words_table(path, brands):
    path.write_text("id,text,brand,label\n" + "".join(
        f"{i:03d},{'a happy day' if i % 2 else 'a sad night'},{brand},{'pos' if i % 2 else 'neg'}\n"
        for i, brand in enumerate(brands)), encoding="utf-8")
    return path


@pytest.mark.tf
def test_evaluate_counts_unseen_categories_on_stderr(runner, app, tmp_path):
    train = words_table(tmp_path / "train.csv", ["acme", "zeta"] * 12)
    bundle = tmp_path / "bundle"
    result = runner.invoke(app, ["train", str(train), "--out", str(bundle), "--epochs", "1",
                                 "--seed", "0", "--no-engine-export", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["roles"]["categorical"] == ["brand"]
    new = words_table(tmp_path / "new.csv", ["omega", "acme", "NEW", "zeta"])
    result = runner.invoke(app, ["evaluate", str(bundle), str(new), "--split", "all"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["unseen_categories"] == {"brand": 2}
    assert "categories never seen in training (read as unknown): brand 2 cells" in result.stderr
