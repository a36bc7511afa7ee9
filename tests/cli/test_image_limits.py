"""``--min-image-side`` and ``--max-pixels`` through check: an image under or over the limit
is masked (the row kept), and the reject line names the flag and its value, as typed."""

from __future__ import annotations

import json

from PIL import Image


def test_images_outside_the_flags_limits_are_masked_naming_the_flag(tmp_path, runner, app):
    Image.new("RGB", (20, 20), "red").save(tmp_path / "small.png")
    Image.new("RGB", (200, 100), "blue").save(tmp_path / "big.png")
    Image.new("RGB", (64, 64), "green").save(tmp_path / "ok.png")
    table = tmp_path / "t.csv"
    table.write_text("id,image,text,label\n1,small.png,a b,x\n2,big.png,c d,y\n"
                     "3,ok.png,e f,x\n4,ok.png,g h,y\n", encoding="utf-8")
    result = runner.invoke(app, ["check", str(table), "--min-image-side", "32",
                                 "--max-pixels", "10000", "--quiet"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["kept"] == 4 and report["issues"] == {"masked:too_large": 1,
                                                        "masked:too_small": 1}
    lines = {r["id"]: r for r in report["rejects"]}
    assert lines["1"]["reason"] == "too_small" and lines["1"]["action"] == "masked"
    assert "20x20 pixels is under --min-image-side 32" in lines["1"]["message"]
    assert lines["2"]["reason"] == "too_large"
    assert "200x100 pixels is more than --max-pixels 10000" in lines["2"]["message"]
