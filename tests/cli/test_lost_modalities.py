"""A newcomer's tables where a modality is lost in every kept row: the one error line names
every lost modality (not the first only), its hint fits the kind (`--image-root` only for a
file kind), and the same words come from check, preprocess and train."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

WORDS = ("a bright sunny morning walk", "a dark rainy evening drive")


def _table(folder: Path, image: str, audio: str | None, text: bool = True) -> Path:
    """8 rows of id, image, [audio,] text, label; ``image`` / ``audio`` are cell templates."""
    head = "id,image," + ("audio," if audio is not None else "") + "text,label"
    lines = [head]
    for i in range(8):
        cells = [f"r{i + 1}", image.format(i + 1)]
        if audio is not None:
            cells.append(audio.format(i + 1))
        cells += [WORDS[i % 2] if text else "", ("cat", "dog")[i % 2]]
        lines.append(",".join(cells))
    table = folder / "t.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("mmcli: error:")]


@pytest.mark.parametrize("command", ["check", "preprocess"])
def test_every_lost_modality_is_named_in_the_one_error_line(tmp_path, runner, app, command):
    table = _table(tmp_path, "gone/r{}.png", "gone/r{}.wav")
    out = tmp_path / "prep"
    args = [command, str(table)] + (["--out", str(out)] if command == "preprocess" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == (5 if command == "check" else 3), result.stderr
    (error,) = _errors(result)
    assert "image (image)" in error and "audio (audio)" in error
    assert "gone/r1.png" in error and "gone/r1.wav" in error
    assert "--image-root" in error and "--allow-missing-modality" in error
    if command == "check":
        assert json.loads(result.stdout)["lost_modalities"] == ["image", "audio"]
    else:
        assert result.stdout == "" and not out.exists()


def test_lost_text_is_not_sent_to_image_root(tmp_path, runner, app):
    (tmp_path / "p").mkdir()
    for i in range(8):
        Image.new("RGB", (16, 16), (30 * i, 0, 0)).save(tmp_path / "p" / f"r{i + 1}.png")
    table = _table(tmp_path, "p/r{}.png", None, text=False)
    for args in (["check", str(table)], ["preprocess", str(table), "--out", str(tmp_path / "o")]):
        result = runner.invoke(app, args)
        assert result.exit_code in (3, 5), result.stderr
        (error,) = _errors(result)
        assert "text (text) is missing or unusable in every one of 8 kept rows" in error
        assert "--image-root" not in error and "--allow-missing-modality" in error


def test_the_warning_says_the_commonest_reason_as_a_reason(tmp_path, runner, app):
    (tmp_path / "p").mkdir()
    Image.new("RGB", (16, 16)).save(tmp_path / "p" / "r1.png")
    table = _table(tmp_path, "p/r{}.png", None)  # r2..r8 have no file
    result = runner.invoke(app, ["check", str(table), "--quiet"])
    (warning,) = json.loads(result.stdout)["warnings"]
    assert warning["reason"] == "missing"
    assert "7 of 8 kept rows (88%; commonest reason: missing)" in warning["message"]
    assert f"mmcli: warning: {warning['message']}" in result.stderr.splitlines()


def test_allow_missing_modality_help_names_preprocess(runner, app):
    result = runner.invoke(app, ["preprocess", "--help"], env={"COLUMNS": "400"})
    (line,) = [x for x in result.stdout.splitlines()
               if x.lstrip("│| ").startswith("--allow-missing-modality")]
    assert "preprocess" in line and "exit 3" in line
