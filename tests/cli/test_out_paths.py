"""An --out that cannot be a folder (under a file, in /proc): a usage error naming it (exit
2, one line), not an internal error asking for a bug report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MMCLI = [sys.executable, "-m", "mmcli"]


def test_an_out_under_a_file_is_a_usage_error(tmp_path):
    table = tmp_path / "data.csv"
    table.write_text("id,text,label\n1,a red shoe,a\n2,a blue hat,b\n", encoding="utf-8")
    out = table / "prepared"  # a typo: the table itself as the parent folder
    done = subprocess.run([*MMCLI, "preprocess", str(table), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mmcli: error: ") and str(out) in lines[0]
    assert table.read_text(encoding="utf-8").startswith("id,text,label")
    assert not Path(str(out)).exists()


def test_force_never_replaces_a_file_by_a_folder_or_a_folder_by_a_file(tmp_path):
    """``--force`` replaces an earlier output of the same kind only: a table given by mistake
    as preprocess's --out (a folder) and a folder given as predict's --out (a file) are left
    as they were, with one line naming the path (exit 2)."""
    sample = Path(__file__).resolve().parents[2] / "sample_data" / "data.csv"
    table = tmp_path / "table.csv"
    table.write_text("id,text,label\n1,a red shoe,a\n", encoding="utf-8")
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "kept.txt").write_text("mine", encoding="utf-8")
    runs = {
        table: [*MMCLI, "preprocess", str(sample), "--out", str(table), "--force"],
        folder: [*MMCLI, "predict", str(tmp_path / "bundle"), str(sample), "--out",
                 str(folder), "--force"],
    }
    for target, command in runs.items():
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and str(target) in lines[0], lines
        assert "not replaced, even with --force" in lines[0]
    assert table.read_text(encoding="utf-8") == "id,text,label\n1,a red shoe,a\n"
    assert [p.name for p in folder.iterdir()] == ["kept.txt"]
