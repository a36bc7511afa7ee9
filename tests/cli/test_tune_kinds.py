"""``mmcli tune`` on a table without images: the image settings of the space are not searched
(said in the JSON ``notes`` and on stderr), and one trial leaves no raw Optuna warning on
stderr (importances need two trials; the plot is skipped)."""

from __future__ import annotations

import json

import pytest

SPACE = """
[model.image_encoder]
choices = ["mobilenet", "small_cnn"]

[prep.image_size]
choices = [32, 64]

[train.learning_rate]
low = 1e-3
high = 1e-2
log = true
"""


@pytest.mark.tf
def test_settings_of_a_modality_the_data_lacks_are_not_searched(runner, app, tmp_path):
    table = tmp_path / "words.csv"
    table.write_text("id,text,label\n" + "".join(
        f"{i:03d},{'a happy day' if i % 2 else 'a sad night'},{'pos' if i % 2 else 'neg'}\n"
        for i in range(24)), encoding="utf-8")
    (tmp_path / "space.toml").write_text(SPACE, encoding="utf-8")
    result = runner.invoke(app, ["tune", str(table), "--out", str(tmp_path / "search"),
                                 "--space", str(tmp_path / "space.toml"), "--trials", "1",
                                 "--epochs", "1", "--seed", "0"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["notes"] == [
        "not searched, the data has no image: model.image_encoder, prep.image_size"]
    assert list(summary["best"]["params"]) == ["train.learning_rate"]
    assert "note: not searched, the data has no image" in result.stderr


def test_importances_of_one_trial_are_none_and_warn_nothing():
    import warnings

    import optuna

    from mmcli.tune.report import param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert param_importances(study) == {}
    assert [str(w.message) for w in caught] == []
