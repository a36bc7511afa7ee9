"""Square brackets in help texts reach the terminal: rich markup read
``[model.fusion]`` or ``[default: ...]`` as a style tag and dropped it (``--space`` showed
``( choices = [...];  low, high, log)``, export's ``--check-data`` lost its default)."""

from __future__ import annotations

import re

import pytest
import typer

COMMANDS = ["preprocess", "check", "train", "evaluate", "predict", "explain", "inspect",
            "export", "serve", "tune"]


def _brackets(text: str) -> list[str]:
    """Each ``[...]`` of a help source as a user should read it (markup escapes removed)."""
    return [m.replace("\\[", "[") for m in re.findall(r"\\?\[[^\]\[]*\]", text)]


def _flat(text: str) -> str:
    return re.sub(r"[\s│|]+", " ", text)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_bracket_of_a_help_text_is_shown(runner, app, command):
    click_command = typer.main.get_command(app).commands[command]
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "2000"})
    assert result.exit_code == 0, result.output
    shown = _flat(result.stdout)
    sources = [click_command.help or ""]
    sources += [p.help or "" for p in click_command.params if hasattr(p, "help")]
    for source in sources:
        for bracket in _brackets(source):
            assert _flat(bracket) in shown, f"{command}: {bracket!r} of {source!r} not shown"


def test_export_check_data_says_its_default(runner, app):
    result = runner.invoke(app, ["export", "--help"], env={"COLUMNS": "2000"})
    line = next(x for x in result.stdout.splitlines() if "--check-data" in x)
    assert "the training table" in line
