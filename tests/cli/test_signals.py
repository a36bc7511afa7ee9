"""Issue 12, signals: a modality lost in most or every row is loud; every problem names its
real cause; odd but valid files decode to what a person sees; messages a script can read.

Each test builds its own inputs (the shapes of ../shared/cases: backslash_paths,
avif_in_image_dir, float_tiff) and checks the outcome through the CLI.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("a bright sunny morning walk", "a dark rainy evening drive")


def _table(folder: Path, paths: list[str], name: str = "train.csv") -> Path:
    """A CSV of id, image, text, label (cat/dog alternating) with the given image cells."""
    lines = ["id,image,text,label"]
    for i, path in enumerate(paths):
        lines.append(f"r{i + 1:03d},{path},{WORDS[i % 2]},{('cat', 'dog')[i % 2]}")
    table = folder / name
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _pngs(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new("RGB", (16, 16), (40 * (i % 6), 0, 0)).save(folder / f"r{i + 1:03d}.png")


def _check(runner, app, *args: str):
    result = runner.invoke(app, ["check", *args])
    report = json.loads(result.stdout) if result.stdout.strip() else None
    return result, report


def test_windows_separators_resolve_when_the_file_exists_with_slashes(tmp_path, runner, app):
    _pngs(tmp_path / "photos", 6)
    table = _table(tmp_path, [f"photos\\r{i + 1:03d}.png" for i in range(6)])
    result, report = _check(runner, app, str(table))
    assert result.exit_code == 0, result.stderr
    assert report["masked"] == 0 and report["issues"] == {} and report["warnings"] == []


def test_a_modality_lost_in_every_row_fails_check_naming_it(tmp_path, runner, app):
    table = _table(tmp_path, [f"photos\\r{i + 1:03d}.png" for i in range(6)])  # no such files
    result, report = _check(runner, app, str(table))
    assert result.exit_code == 5
    (warning,) = report["warnings"]
    assert {k: warning[k] for k in ("kind", "modality", "column", "rows", "of", "share",
                                    "every_row", "reason")} == {
        "kind": "modality_lost", "modality": "image", "column": "image", "rows": 6, "of": 6,
        "share": 1.0, "every_row": True, "reason": "missing"}
    assert "photos" in warning["example"] and "r001.png" in warning["example"]
    assert report["lost_modalities"] == ["image"] and report["passed"] is False
    errors = [line for line in result.stderr.splitlines() if line.startswith("mmcli: error:")]
    assert len(errors) == 1
    assert "image" in errors[0] and "every one of 6" in errors[0]
    assert "looked for" in errors[0] and "--allow-missing-modality" in errors[0]  # one line

    allowed, report = _check(runner, app, str(table), "--allow-missing-modality", "--quiet")
    assert allowed.exit_code == 0, allowed.stderr
    assert report["passed"] is True and report["warnings"][0]["every_row"] is True
    assert allowed.stderr.splitlines() == [f"mmcli: warning: {report['warnings'][0]['message']}"]


def test_preprocess_refuses_a_modality_lost_in_every_row_and_writes_nothing(tmp_path, runner,
                                                                            app):
    table = _table(tmp_path, [f"gone/r{i + 1:03d}.png" for i in range(6)])
    out = tmp_path / "prep"
    refused = runner.invoke(app, ["preprocess", str(table), "--out", str(out)])
    assert refused.exit_code == 3 and refused.stdout == ""
    assert not out.exists()
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("mmcli: error:")]
    assert "image (image)" in error and "every one of 6" in error
    assert "nothing written" in error and "--allow-missing-modality" in error

    allowed = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                  "--allow-missing-modality"])
    assert allowed.exit_code == 0, allowed.stderr
    assert json.loads(allowed.stdout)["warnings"][0]["every_row"] is True
    assert (out / "schema.json").is_file()
    # A part of a --shard split may lack what the other parts have: train, which reads every
    # part, decides (it refuses a modality lost in all of them).
    part = runner.invoke(app, ["preprocess", str(table), "--out", str(tmp_path / "part-1"),
                               "--shard", "1/2"])
    assert part.exit_code == 0, part.stderr


def test_a_modality_lost_in_most_rows_warns_above_max_missing_fraction(tmp_path, runner, app):
    _pngs(tmp_path / "photos", 10)
    paths = [f"photos/r{i + 1:03d}.png" if i < 3 else f"gone/r{i + 1:03d}.png" for i in range(10)]
    table = _table(tmp_path, paths)
    result, report = _check(runner, app, str(table))
    assert result.exit_code == 0, result.stderr
    (warning,) = report["warnings"]
    assert (warning["rows"], warning["of"], warning["share"]) == (7, 10, 0.7)
    assert warning["every_row"] is False and "gone" in warning["example"]
    assert f"mmcli: warning: {warning['message']}" in result.stderr.splitlines()

    quiet, report = _check(runner, app, str(table), "--max-missing-fraction", "0.7")
    assert quiet.exit_code == 0 and report["warnings"] == []

    out = tmp_path / "prep"
    prepared = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "-q"])
    assert prepared.exit_code == 0, prepared.stderr
    summary = json.loads(prepared.stdout)
    assert summary["warnings"][0]["modality"] == "image"
    assert json.loads((out / "schema.json").read_text())["warnings"] == summary["warnings"]
    assert prepared.stderr.splitlines() == [f"mmcli: warning: {summary['warnings'][0]['message']}"]


def test_train_refuses_a_modality_lost_in_every_row(tmp_path, runner, app):
    table = _table(tmp_path, [f"missing/r{i + 1:03d}.png" for i in range(8)])
    result = runner.invoke(app, ["train", str(table), "--out", str(tmp_path / "m"),
                                 "--epochs", "1", "--image-size", "32", "--no-cache"])
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1].startswith("mmcli: error: image (image) is missing")
    assert "--allow-missing-modality" in result.stderr
    assert not (tmp_path / "m").exists()


def test_an_image_dir_file_of_another_type_is_decoded_or_named(tmp_path, runner, app):
    folder = tmp_path / "bydir"
    folder.mkdir()
    (folder / "a2.heic").write_bytes(b"not really an image")
    if "AVIF" in Image.registered_extensions().values():
        Image.new("RGB", (16, 16), (255, 255, 255)).save(folder / "a1.avif")
    else:
        (folder / "a1.avif").write_bytes(b"\x00\x00\x00\x1cftypavif")
    table = tmp_path / "t.csv"
    table.write_text("id,text,label\na1,x y,cat\na2,y z,dog\n", encoding="utf-8")
    result, report = _check(runner, app, str(table), "--image-dir", str(folder))
    rejects = {r["id"]: r for r in report["rejects"]}
    assert rejects["a2"]["reason"] == "unreadable" and "a2.heic" in rejects["a2"]["message"]
    if "AVIF" in Image.registered_extensions().values():
        assert "a1" not in rejects  # decoded
    else:
        assert rejects["a1"]["reason"] == "unreadable" and "a1.avif" in rejects["a1"]["message"]
    assert not any(r["reason"] == "missing" for r in report["rejects"])


def test_a_float_tiff_in_0_to_1_decodes_to_what_a_person_sees(tmp_path, runner, app):
    pixels = np.zeros((32, 32), dtype=np.float32)
    pixels[8:24, 8:24] = 1.0  # a white square on black
    Image.fromarray(pixels, mode="F").save(tmp_path / "f.tif")
    table = tmp_path / "t.csv"
    table.write_text("id,image,text,label\nf,f.tif,a walk,cat\n", encoding="utf-8")
    out = tmp_path / "prep"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "--image-size",
                                 "32", "-q"])
    assert result.exit_code == 0, result.stderr
    from mmcli.data.dataset import open_dataset

    image = open_dataset(out).all_shards()[0][0]
    assert image[16, 16].tolist() == [255, 255, 255] and image[2, 2].tolist() == [0, 0, 0]


def _png_with_a_pillow_warning(path: Path) -> None:
    """A PNG with an invalid APNG chunk: Pillow warns "Invalid APNG" and reads the image."""
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(buffer, "PNG")
    data = buffer.getvalue()
    body = struct.pack(">II", 0, 0)
    chunk = struct.pack(">I", 8) + b"acTL" + body + struct.pack(">I", zlib.crc32(b"acTL" + body))
    at = data.index(b"IDAT") - 4
    path.write_bytes(data[:at] + chunk + data[at:])


def test_a_pillow_warning_is_the_rows_note_not_a_raw_stderr_line(tmp_path):
    _png_with_a_pillow_warning(tmp_path / "w.png")
    Image.new("RGB", (16, 16)).save(tmp_path / "ok.png")
    table = tmp_path / "t.csv"
    table.write_text("id,image,text,label\nw,w.png,a b,cat\nk,ok.png,c d,dog\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mmcli", "check", str(table)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert "Warning" not in result.stderr and "APNG" not in result.stderr
    assert report["masked"] == 0 and report["issues"] == {"noted:file_note": 1}
    (note,) = report["rejects"]
    assert (note["id"], note["action"]) == ("w", "noted") and "APNG" in note["message"]


def test_a_parser_error_is_one_line_with_exit_2(runner, app):
    for args in (["train", "--epochs", "x"], ["check", "--no-such-flag", "t.csv"], ["nope"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert result.stderr.startswith("mmcli: error: ")


def test_every_command_accepts_quiet_and_completion_is_offered(runner, app):
    for command in ("preprocess", "check", "train", "evaluate", "predict", "inspect"):
        assert "--quiet" in runner.invoke(app, [command, "--help"]).stdout, command
    root_help = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in root_help and "--show-completion" in root_help
    # what the installed bash script asks: the words so far in, the completions out
    env = {"_MMCLI_COMPLETE": "complete_bash", "COMP_WORDS": "mmcli train --fus",
           "COMP_CWORD": "2"}
    completed = subprocess.run([sys.executable, "-c", "from mmcli.cli.app import main; main()"],
                               capture_output=True, text=True, cwd=ROOT, timeout=120,
                               env={**os.environ, **env})
    assert completed.returncode == 0 and completed.stdout.split() == ["--fusion"]


def test_stderr_lines_are_not_wrapped_off_a_terminal(tmp_path, runner, app):
    deep = tmp_path / ("a-rather-long-folder-name-" * 4)
    deep.mkdir()
    table = _table(deep, [f"missing/r{i + 1:03d}.png" for i in range(4)])
    result = runner.invoke(app, ["check", str(table), "--allow-missing-modality"])
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("mmcli: warning:")]
    assert str(deep / "missing" / "r001.png") in line and len(line) > 200


def test_csv_records_write_booleans_as_json_does():
    import io

    from mmcli.io.records import write_records

    stream = io.StringIO()
    write_records([{"id": "a", "image_present": True, "text_present": False}], stream, "csv")
    assert stream.getvalue().splitlines() == ["id,image_present,text_present", "a,true,false"]


def test_reports_draw_labels_literally_and_say_no_rows(tmp_path):
    from mmcli.report.markdown import single_label_page, write_report
    from mmcli.report.plots import plot_confusion, plot_per_class_f1, plot_reliability
    from mmcli.tasks.base import ReportPage

    labels = ["$", "$$", "$$$"]
    y = np.array([0, 0, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    from mmcli.metrics import full_metrics

    metrics = {"bundle": "b", "data": "d", "split": "test", **full_metrics(y, proba, labels)}
    page = ReportPage(single_label_page(metrics), {
        "confusion_matrix.png": plot_confusion, "reliability.png": plot_reliability,
        "per_class_f1.png": plot_per_class_f1})
    written = write_report(metrics, tmp_path / "rep", page).read_text()
    assert "| $$ | no rows | no rows | no rows | 0 |" in written
    assert "| $ | " in written and "| $$$ | " in written
    for name in ("confusion_matrix.png", "per_class_f1.png"):
        assert (tmp_path / "rep" / name).read_bytes()[:4] == b"\x89PNG"
