"""Every positional argument of every command says what it takes in --help (a newcomer met
`bundle <str> [required]` and `table <str> [required]` with no word of help)."""

from __future__ import annotations

import re

import pytest

COMMANDS = ["preprocess", "check", "train", "evaluate", "predict", "explain", "inspect",
            "export", "serve", "tune"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_argument_has_help_text(runner, app, command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    panel = result.stdout.split("Arguments", 1)[1].split("╰", 1)[0]
    rows = [line for line in panel.splitlines() if re.match(r"[│|]\s+\*?\s+[a-z]", line)]
    assert rows, result.stdout
    for line in rows:
        text = re.sub(r"\[required\]|<[^>]*>", "", line).strip("│|* ")
        name, _, described = text.partition(" ")
        assert len(described.strip()) > 10, f"{command}: {name} has no help: {line.strip()}"
