"""Two predicts on one bundle at once both work; predict --out is atomic and guarded."""

from __future__ import annotations

import errno
import json

import pytest

import mmcli.io.records
from tests.conftest import SAMPLE
from tests.reliability.conftest import siblings, start

pytestmark = pytest.mark.tf


def test_two_predicts_on_one_bundle_at_once(trained, tmp_path):
    bundle = trained["bundle"]
    to_stdout = start("predict", str(bundle), str(SAMPLE), "--quiet")
    to_file = start("predict", str(bundle), str(SAMPLE), "--out", str(tmp_path / "p.jsonl"))
    out_a, err_a = to_stdout.communicate(timeout=300)
    out_b, err_b = to_file.communicate(timeout=300)
    assert to_stdout.returncode == 0, err_a
    assert to_file.returncode == 0, err_b
    first = [json.loads(line) for line in out_a.splitlines()]
    second = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(first) == len(second) == 480
    assert [r["id"] for r in first] == [r["id"] for r in second]
    assert [r["label"] for r in first] == [r["label"] for r in second]
    for a, b in zip(first, second, strict=True):
        if a["probabilities"] is not None:
            assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)
    assert out_b == ""  # --out: nothing on stdout
    assert siblings(tmp_path / "p.jsonl") == []


def test_predict_out_on_a_full_disk_leaves_the_old_file(runner, app, trained, tmp_path,
                                                        monkeypatch):
    target = tmp_path / "p.jsonl"
    target.write_text("old\n")
    real = mmcli.io.records.write_records

    def fills_up(records, handle, fmt):
        real(list(records)[:5], handle, fmt)  # part of the output, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mmcli.io.records, "write_records", fills_up)
    result = runner.invoke(app, ["predict", str(trained["bundle"]), str(SAMPLE),
                                 "--out", str(target), "--force"])
    assert result.exit_code == 7
    assert result.stderr.strip().splitlines() == [
        "mmcli: error: no space left on the device (No space left on device); free some "
        "space and run again (nothing was left half-written)"
    ]
    assert target.read_text() == "old\n"
    assert siblings(target) == []
