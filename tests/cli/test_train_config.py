"""mmcli train's configuration: TOML file < flags < --set, --print-config, and bad settings.

No TensorFlow: --print-config resolves and prints the configuration without training.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from mmcli.config import RunConfig


def print_config(runner, app, *args):
    result = runner.invoke(app, ["train", "--print-config", *args])
    assert result.exit_code == 0, result.stderr
    return tomllib.loads(result.stdout)


def test_print_config_shows_the_defaults_as_toml(runner, app):
    printed = print_config(runner, app)
    defaults = RunConfig().to_dict()
    assert set(printed) == {"prep", "model", "train"}
    for section, values in defaults.items():
        # None (a column detected from the table) has no TOML form: it is left out.
        assert printed[section] == {k: v for k, v in values.items() if v is not None}


def test_file_then_flags_then_set(runner, app, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        "[model]\nfusion = 'concat'\nembed_dim = 16\n\n"
        "[train]\nepochs = 7\nbatch_size = 8\nlabel_smoothing = 0.05\n"
        "[prep]\nimage_size = 24\ntext_col = 'caption'\n",
        encoding="utf-8",
    )
    printed = print_config(
        runner, app, "--config", str(config),
        "--epochs", "9", "--batch-size", "4", "--embed-dim", "32",
        "--set", "train.epochs=11", "--set", "model.fusion=gated", "--set", "train.seed=5",
    )
    assert printed["train"]["epochs"] == 11  # file 7 < flag 9 < --set 11
    assert printed["train"]["batch_size"] == 4  # file 8 < flag 4
    assert printed["train"]["label_smoothing"] == 0.05  # file only
    assert printed["train"]["seed"] == 5  # --set only
    assert printed["model"] == {**printed["model"], "fusion": "gated", "embed_dim": 32}
    assert printed["prep"]["image_size"] == 24 and printed["prep"]["text_col"] == "caption"
    assert printed["train"]["learning_rate"] == RunConfig().train.learning_rate  # default


def test_printed_config_reads_back_to_the_same_config(runner, app, tmp_path):
    first = runner.invoke(app, ["train", "--print-config", "--multi-label",
                                "--label-delimiter", ";", "--set", 'prep.label_col="tags"',
                                "--set", "train.learning_rate=1e-4"])
    assert first.exit_code == 0, first.stderr
    saved = tmp_path / "run.toml"
    saved.write_text(first.stdout, encoding="utf-8")
    second = runner.invoke(app, ["train", "--print-config", "--config", str(saved)])
    assert second.exit_code == 0, second.stderr
    assert second.stdout == first.stdout
    train = tomllib.loads(second.stdout)["train"]
    assert train["multi_label"] is True and train["label_delimiter"] == ";"
    assert train["learning_rate"] == 1e-4


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("train.epoch=3", "Valid keys in [train]: epochs, batch_size"),
        ("training.epochs=3", "Valid sections: prep, model, train"),
        ("epochs=3", "section.key=value"),
        ("train.epochs", "section.key=value"),
        ("train.epochs=three", "train.epochs expects int"),
        ("train.epochs=0", "positive integer for `epochs`"),
        ("model.fusion=sum", "Choose one of"),
        ("train.label_smoothing=0.7", "label_smoothing"),
        ("train.class_weight=inverse", "none, balanced"),
        ("train.epochs=[1, 2]", "train.epochs expects int"),
        ("train.epochs={a = 1}", "not a table"),
        ("prep.text_col=[1, 2]", "prep.text_col expects list of str or str"),
    ],
)
def test_bad_set_is_a_usage_error(runner, app, setting, message):
    result = runner.invoke(app, ["train", "--print-config", "--set", setting])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("mmcli: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[train]\nepochs = \n", "not valid TOML"),
        ("[optimizer]\nlr = 1\n", "Valid sections"),
        ("[train]\nbatch = 3\n", "unknown setting train.batch"),
        ("[prep]\nimage_size = '32'\n", "prep.image_size expects int"),
        ("train = 3\n", "must be a table"),
    ],
)
def test_bad_config_file_is_a_usage_error(runner, app, tmp_path, text, message):
    config = tmp_path / "run.toml"
    config.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["train", "--print-config", "--config", str(config)])
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_config_file_and_missing_arguments(runner, app, tmp_path):
    missing = runner.invoke(app, ["train", "--print-config", "--config", str(tmp_path / "no")])
    assert missing.exit_code == 2 and "config file not found" in missing.stderr
    bare = runner.invoke(app, ["train"])
    assert bare.exit_code == 2 and "--out" in bare.stderr


def test_multi_label_with_class_weights_is_refused(runner, app):
    result = runner.invoke(app, ["train", "--print-config", "--multi-label",
                                 "--class-weight", "balanced"])
    assert result.exit_code == 2 and "multi_label" in result.stderr


def test_print_config_does_not_import_tensorflow():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from mmcli.cli.app import app\n"
        "r = CliRunner().invoke(app, ['train', '--print-config', '--set', 'train.epochs=2'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'epochs = 2' in r.stdout\n"
        "print(','.join(m for m in ('tensorflow', 'keras', 'pandas') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_readme_example_run_toml_is_valid(runner, app, tmp_path):
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n# run.toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "run.toml"
    config.write_text(block, encoding="utf-8")
    printed = print_config(runner, app, "--config", str(config))
    assert printed["prep"]["label_col"] == "category"
    assert printed["train"]["class_weight"] == "balanced"
    assert printed["train"]["epochs"] == tomllib.loads(block)["train"]["epochs"]
