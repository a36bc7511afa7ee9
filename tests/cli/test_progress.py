"""Progress bars only on a terminal: scripts' logs get the summary, never bar redraws."""

import io
import re
import sys

import pytest

from mmcli.cli.output import make_console, row_progress
from tests.conftest import SAMPLE


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("env", [{}, {"FORCE_COLOR": "1"}, {"TTY_COMPATIBLE": "1"}])
def test_no_bar_when_stderr_is_not_a_terminal(runner, app, env):
    """FORCE_COLOR makes rich treat any stream as a terminal; the bar must stay off anyway."""
    result = runner.invoke(app, ["check", str(SAMPLE), "--image-size", "16"], env=env)
    assert result.exit_code == 0, result.stderr
    plain = re.sub(r"\x1b\[[0-9;]*m", "", result.stderr)  # colours (FORCE_COLOR) aside
    assert "480 rows: 480 kept" in plain  # the summary still prints
    assert "checking" not in result.stderr
    assert "\r" not in result.stderr and "\x1b[2K" not in result.stderr and "━" not in result.stderr


def test_force_color_keeps_the_colours(runner, app):
    result = runner.invoke(app, ["check", str(SAMPLE), "--image-size", "16"],
                           env={"FORCE_COLOR": "1"})
    assert "\x1b[32m480 kept" in result.stderr


def test_bar_on_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    console = make_console()
    progress, on_start, on_row = row_progress(console, "checking")
    assert console.is_terminal and not progress.disable
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    progress, on_start, on_row = row_progress(make_console(), "checking")
    assert progress.disable
