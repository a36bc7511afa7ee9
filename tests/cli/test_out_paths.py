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
