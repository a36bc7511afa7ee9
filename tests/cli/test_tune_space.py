"""``mmcli tune``'s search space is checked before any trial runs: each mistake is exit 2
with one line naming it (no TensorFlow needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmcli.tune.space import DEFAULT_SPACE, read_space

PREPARED = "sample_data/data.csv"  # never read: every case fails before training


@pytest.mark.parametrize(("space", "named"), [
    ("[model.fusion]\nchoices = ['gated', 'nope']\n", "nope"),
    ("[model.colour]\nchoices = [1, 2]\n", "model.colour"),
    ("[train.seed]\nlow = 0\nhigh = 9\n", "train.seed"),
    ("[train.val_fraction]\nlow = 0.1\nhigh = 0.3\n", "train.val_fraction"),
    ("[train.learning_rate]\nlow = 0.1\nhigh = 0.01\n", "low < high"),
    ("[train.learning_rate]\nlow = 0.0\nhigh = 0.01\nlog = true\n", "log scale"),
    ("[model.modality_dropout]\nlow = 0.0\nhigh = 0.6\n", "modality_dropout"),
    ("[model.fusion]\nvalues = ['gated']\n", "values"),
    ("[model.embed_dim]\nchoices = [16, 32]\n", "nothing left to search"),
])
def test_a_bad_space_is_exit_2_naming_the_mistake(tmp_path: Path, runner, app, space, named):
    (tmp_path / "space.toml").write_text(space, encoding="utf-8")
    result = runner.invoke(app, ["tune", PREPARED, "--out", str(tmp_path / "out"),
                                 "--space", str(tmp_path / "space.toml"),
                                 "--set", "model.embed_dim=32", "--trials", "1", "--epochs", "1"])
    assert result.exit_code == 2, result.stderr
    assert named in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_default_space_is_valid_and_names_every_setting_the_docs_promise():
    space = read_space()
    assert set(space.names) == {
        "model.fusion", "model.text_encoder", "model.image_encoder", "prep.image_size",
        "train.learning_rate", "model.dropout", "model.modality_dropout", "model.embed_dim",
        "train.epochs"}
    assert "[train.epochs]" in DEFAULT_SPACE


def test_stdin_is_refused_since_every_trial_reads_the_data_again(tmp_path: Path, runner, app):
    result = runner.invoke(app, ["tune", "-", "--out", str(tmp_path / "out")], input="a,b\n")
    assert result.exit_code == 2 and "not - (stdin)" in result.stderr
    assert not (tmp_path / "out").exists()
