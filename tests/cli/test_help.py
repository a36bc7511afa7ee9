"""--help shows every documented default, and the defaults it shows are the real ones."""

import re

import pytest
import typer

from mmcli.config import ModelConfig, PrepConfig, TrainConfig

WIDE = {"COLUMNS": "400"}  # one line per option, so each option's text can be found whole


def option_lines(runner, app, command: str) -> dict[str, str]:
    """The rendered help line of each option of ``command``, by its first flag."""
    result = runner.invoke(app, [command, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    lines = {}
    for line in result.stdout.splitlines():
        found = re.match(r"[│|]\s*(?:\*\s*)?(--[a-z-]+)", line)
        if found:
            lines[found.group(1)] = line
    return lines


def shown_default(line: str) -> str:
    found = re.search(r"\[default: ([^\]]*)\]", line)
    assert found, f"no default shown in: {line}"
    return found.group(1)


@pytest.mark.parametrize("command", ["preprocess", "check", "train", "evaluate", "predict"])
def test_every_default_in_the_help_text_is_shown(runner, app, command):
    """Rich reads '[default: ...]' as markup and drops it unless it is escaped."""
    click_command = typer.main.get_command(app).commands[command]
    lines = option_lines(runner, app, command)
    documented = [p for p in click_command.params if "[default:" in (p.help or "")]
    assert documented
    for param in documented:
        text = param.help.split("[default:")[1].split("]")[0]
        assert f"[default:{text}]" in lines[param.opts[0]], param.opts[0]


def test_preprocess_help_shows_its_defaults(runner, app):
    lines = option_lines(runner, app, "preprocess")
    assert shown_default(lines["--image-size"]) == str(PrepConfig().image_size) == "64"
    assert shown_default(lines["--on-missing"]) == PrepConfig().on_missing
    assert shown_default(lines["--duplicates"]) == PrepConfig().duplicates
    assert shown_default(lines["--max-text-chars"]) == str(PrepConfig().max_text_chars)


def test_train_help_shows_the_real_defaults(runner, app):
    lines = option_lines(runner, app, "train")
    assert shown_default(lines["--text-encoder"]) == ModelConfig().text_encoder == "bow"
    assert shown_default(lines["--image-encoder"]) == ModelConfig().image_encoder
    assert shown_default(lines["--fusion"]) == ModelConfig().fusion
    assert shown_default(lines["--embed-dim"]) == str(ModelConfig().embed_dim)
    assert shown_default(lines["--epochs"]) == str(TrainConfig().epochs)
    assert shown_default(lines["--batch-size"]) == str(TrainConfig().batch_size)
    assert shown_default(lines["--image-size"]) == str(PrepConfig().image_size)


def test_help_says_what_format_means_on_each_command(runner, app):
    preprocess = option_lines(runner, app, "preprocess")["--input-format"]
    assert "--format" in preprocess and "csv, tsv, jsonl, parquet" in preprocess
    predict = option_lines(runner, app, "predict")
    assert predict["--format"].count("Output format") == 1
    assert "--input-format" in predict["--format"]
    assert "output format" in predict["--input-format"]
