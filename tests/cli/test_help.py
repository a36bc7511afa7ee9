"""--help agrees with the code: the defaults it shows are the dataclasses' defaults, every choice
of a choice option is listed, and the exit-code table is errors.py's."""

import dataclasses
import re

import pytest
import typer

from mmcli.config import (
    CLASS_WEIGHTS,
    DUPLICATES,
    FUSIONS,
    IMAGE_ENCODERS,
    IMAGE_WEIGHTS,
    LABEL_CASES,
    ON_MISSING,
    SPLIT_CHOICES,
    TEXT_ENCODERS,
    TEXT_INPUTS,
    ModelConfig,
    PrepConfig,
    TrainConfig,
)
from mmcli.errors import EXIT_CODES
from mmcli.io.records import RECORD_FORMATS
from mmcli.io.tables import FORMATS

WIDE = {"COLUMNS": "400"}  # one line per option, so each option's text can be found whole
TABLE_COMMANDS = ["preprocess", "check", "train", "evaluate", "predict"]
CLEANS = ["preprocess", "check", "train"]  # the commands whose defaults are the dataclasses'
FROM_BUNDLE = ["evaluate", "predict"]  # the bundle's settings are the defaults there

# Every choice option, by command: the tuple that defines its choices.
CHOICES = {
    "--on-missing": (CLEANS, ON_MISSING),
    "--duplicates": (CLEANS, DUPLICATES),
    "--label-case": (CLEANS, LABEL_CASES),
    "--text-inputs": (TABLE_COMMANDS, TEXT_INPUTS),
    "--input-format": (TABLE_COMMANDS, FORMATS),
    "--fusion": (["train"], FUSIONS),
    "--image-encoder": (["train"], IMAGE_ENCODERS),
    "--text-encoder": (["train"], TEXT_ENCODERS),
    "--image-weights": (["train"], IMAGE_WEIGHTS),
    "--class-weight": (["train"], CLASS_WEIGHTS),
    "--split": (["evaluate"], SPLIT_CHOICES),
}
CHOICE_CASES = [(flag, command, choices) for flag, (commands, choices) in CHOICES.items()
                for command in commands] + [("--format", "predict", RECORD_FORMATS)]


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


def visible_params(app, command: str) -> list:
    click_command = typer.main.get_command(app).commands[command]
    return [p for p in click_command.params if p.opts[0].startswith("--") and not p.hidden]


def config_field(name: str):
    """(the config dataclass, its field) named ``name``, or None."""
    found = [(kind, f) for kind in (PrepConfig, ModelConfig, TrainConfig)
             for f in dataclasses.fields(kind) if f.name == name]
    assert len(found) <= 1, f"{name} is a field of several configs"
    return found[0] if found else None


@pytest.mark.parametrize("command", TABLE_COMMANDS)
def test_every_default_in_the_help_text_is_shown(runner, app, command):
    """Rich reads '[default: ...]' as markup and drops it unless it is escaped."""
    lines = option_lines(runner, app, command)
    documented = [p for p in visible_params(app, command) if "[default:" in (p.help or "")]
    assert documented
    for param in documented:
        text = param.help.split("[default:")[1].split("]")[0]
        assert f"[default:{text}]" in lines[param.opts[0]], param.opts[0]


@pytest.mark.parametrize("command", CLEANS)
def test_every_default_shown_is_the_dataclass_default(runner, app, command):
    lines = option_lines(runner, app, command)
    checked = 0
    for param in visible_params(app, command):
        found = config_field(param.name)
        if found is None or found[1].default is None:
            continue  # not a setting, or found in the table (the help says how)
        line, value = lines[param.opts[0]], found[1].default
        if isinstance(value, bool):
            if not param.secondary_opts:  # a lone flag: off unless given, no default shown
                assert not value and "[default:" not in line, param.opts[0]
                continue
            flag = param.opts[0] if value else param.secondary_opts[0]
            assert shown_default(line) == flag.lstrip("-"), param.opts[0]
        else:
            shown = shown_default(line)
            if shown.startswith("'"):
                shown = shown[1:-1]
            assert type(value)(shown) == pytest.approx(value), param.opts[0]
        checked += 1
    assert checked >= (20 if command == "train" else 8)


@pytest.mark.parametrize("command", FROM_BUNDLE)
def test_evaluate_and_predict_defaults_are_the_bundles(runner, app, command):
    lines = option_lines(runner, app, command)
    overrides = [p for p in visible_params(app, command) if p.name in PrepConfig.__annotations__]
    assert {"--image-root", "--encoding", "--id-col", "--text-col"} <= {p.opts[0] for p in
                                                                        overrides}
    for param in overrides:
        assert shown_default(lines[param.opts[0]]) == "as in training", param.opts[0]


def test_train_help_shows_the_real_defaults(runner, app):
    lines = option_lines(runner, app, "train")
    assert shown_default(lines["--text-encoder"]) == ModelConfig().text_encoder == "bow"
    assert shown_default(lines["--image-size"]) == str(PrepConfig().image_size) == "64"
    assert shown_default(lines["--text-sep"]) == f"'{PrepConfig().text_sep}'"
    assert shown_default(lines["--learning-rate"]) == "0.003"
    assert shown_default(lines["--lowercase"]) == "no-lowercase"
    assert shown_default(lines["--freeze-backbone"]) == "freeze-backbone"


@pytest.mark.parametrize(("flag", "command", "choices"), CHOICE_CASES)
def test_every_choice_is_listed_in_its_help(runner, app, flag, command, choices):
    line = option_lines(runner, app, command)[flag]
    help_text = line.split("  ", 1)[1]  # after the flag names
    for choice in choices:
        assert re.search(rf"(?<![\w-]){re.escape(choice)}(?![\w-])", help_text), (flag, choice)


def test_help_says_what_format_means_on_each_command(runner, app):
    preprocess = option_lines(runner, app, "preprocess")["--input-format"]
    assert "--format" in preprocess and "csv, tsv, jsonl or parquet" in preprocess
    predict = option_lines(runner, app, "predict")
    assert predict["--format"].count("Output format") == 1
    assert "--input-format" in predict["--format"]
    assert "output format" in predict["--input-format"]


def test_app_help_lists_every_exit_code(runner, app):
    result = runner.invoke(app, ["--help"], env=WIDE)
    assert result.exit_code == 0
    listed = dict(re.findall(r"^\s*(\d+)  (.+?)\s*$", result.stdout, flags=re.MULTILINE))
    assert listed == {str(code): meaning for code, meaning in EXIT_CODES.items()}


@pytest.mark.parametrize("command", ["preprocess", "predict", "evaluate", "explain"])
def test_a_commands_paragraphs_are_not_broken_where_its_docstring_was(runner, app, command):
    # Typer's rich mode printed the docstring's own line breaks: at any width, a paragraph
    # wrapped in the source came out with a short line after each wrapped one.
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "2000"})
    assert result.exit_code == 0
    doc = " ".join(typer.main.get_command(app).commands[command].help.split("\n\n")[1].split())
    lines = [line.strip(" │") for line in result.stdout.splitlines()]
    assert doc in lines, doc  # the second paragraph is one line at 2000 columns
