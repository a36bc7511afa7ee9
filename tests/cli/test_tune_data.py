"""``mmcli tune`` on a raw table says what reading it did, as ``train`` does: a modality
missing in most rows is a ``warning:`` line, rejected rows and unused columns are said on
stderr, and the JSON has ``data`` (rows, rejected by reason, warnings, unused columns)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

SPACE = """
[train.learning_rate]
low = 1e-3
high = 1e-2
log = true
"""


@pytest.mark.tf
def test_tune_reports_the_data_as_train_does(runner, app, tmp_path):
    Image.new("RGB", (16, 16), (200, 0, 0)).save(tmp_path / "r000.png")
    lines = ["id,image,text,note,label"]
    for i in range(24):
        label = "" if i == 5 else ("pos" if i % 2 else "neg")
        lines.append(f"r{i:03d},{'r000.png' if i == 0 else 'gone.png'},"
                     f"{'a happy day' if i % 2 else 'a sad night'},{'x' if i == 3 else ''},"
                     f"{label}")
    table = tmp_path / "t.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "space.toml").write_text(SPACE, encoding="utf-8")
    result = runner.invoke(app, ["tune", str(table), "--out", str(tmp_path / "search"),
                                 "--space", str(tmp_path / "space.toml"), "--trials", "1",
                                 "--epochs", "1", "--seed", "0", "--image-size", "16"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert (data["rows"], data["rejected"], data["rejected_by_reason"]) == (
        24, 1, {"missing_label": 1})
    (lost,) = data["warnings"]
    assert (lost["kind"], lost["modality"], lost["rows"], lost["of"]) == (
        "modality_lost", "image", 22, 23)
    assert list(data["unused"]) == ["note"]
    warnings = [x for x in result.stderr.splitlines() if x.startswith("mmcli: warning:")]
    assert warnings.count(f"mmcli: warning: {lost['message']}") == 1
    assert "mmcli: warning: 1 of 24 rows rejected (missing_label 1) (not trained on)" in warnings
    assert any(x.strip().startswith("column 'note' not used:") for x in result.stderr.splitlines())
