"""``mmcli preprocess --quiet`` (and ``check --quiet``) print no summary, still print each
warning as one plain line, and never import rich (their start-up, docs/architecture.md)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rich.markup import escape as rich_escape

from mmcli.cli.helptext import escape

CODE = """
import json, sys
from mmcli.cli.app import main
sys.argv = ["mmcli", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] == "rich")]),
      file=sys.stderr)
"""


def _table(tmp_path):
    path = tmp_path / "t.csv"
    rows = [f"r{i},a [bold]word[/bold] number {i},same" for i in range(6)]
    path.write_text("id,text,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _run(args: list[str]) -> tuple[int, list[str], dict, list[str]]:
    """Exit code, rich modules imported, the JSON on stdout, the other stderr lines."""
    done = subprocess.run([sys.executable, "-c", CODE, json.dumps(args)], capture_output=True,
                          text=True, check=False)
    *lines, last = done.stderr.splitlines()
    code, rich = json.loads(last)
    return code, rich, json.loads(done.stdout), lines


@pytest.mark.parametrize("command", ["preprocess", "check"])
def test_quiet_prints_warnings_only_and_never_imports_rich(tmp_path, command):
    table = _table(tmp_path)
    where = ["--out", str(tmp_path / "out")] if command == "preprocess" else []
    code, rich, summary, lines = _run([command, str(table), *where, "--quiet"])
    assert code == 0
    assert summary["kept"] == 6
    assert rich == []
    assert lines == ["mmcli: warning: only one class ('same') among the kept rows: training "
                     "needs two or more"]
    if command == "preprocess":
        assert json.loads((tmp_path / "out" / "schema.json").read_text())["kept"] == 6


def test_without_quiet_the_summary_is_printed(tmp_path):
    table = _table(tmp_path)
    code, rich, summary, lines = _run(["preprocess", str(table), "--out", str(tmp_path / "o")])
    assert code == 0 and summary["kept"] == 6
    assert lines[0].startswith("6 rows: 6 kept (0 with a modality masked), 0 rejected -> ")
    assert lines[-1].startswith("mmcli: warning: only one class ('same')")


@pytest.mark.parametrize("text", [
    "plain", "[default: 64]", "[bold]x[/bold]", "a\\[b]", "\\\\[red]", "[1, 2]", "[/]",
    "[#ff0000]c", "[@click]d", "end\\", "end\\\\", "[a][b]", "[A]", "[ x]", "[x[y]]",
    "path\\to\\[dir]", "",
])
def test_escape_is_richs(text):
    assert escape(text) == rich_escape(text)
