"""The fault corpus in a table: every faulty row ends as the policy says, with a reason.

One table holds one row per fault (broken images, unsafe paths, dirty text, bad labels,
duplicates, both modalities missing). It goes through ``mmcli preprocess`` and
``mmcli check``; rejects.csv, the examples and the JSON summary are checked row by row.
"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pandas as pd
import pytest
from PIL import Image

from mmcli.data.dataset import open_dataset

LONG = "word " * 1000
# (id, image, text, label) -> (action of the row, {(column, reason, action)})
KEPT = ("kept", set())


def _cases(corpus, outside):
    data = corpus["good_jpeg"].parent
    rel = {name: path.relative_to(data).as_posix() for name, path in corpus.items()
           if path.is_relative_to(data)}
    img = ("image", "masked")
    no_label = ("rejected", {("label", "missing_label", "rejected")})
    return [
        ("good", rel["good_jpeg"], "a red cat", "cat", KEPT),
        ("png", rel["good_png"], "a dog", "dog", KEPT),
        ("corrupt", rel["corrupt"], "x", "cat", ("kept", {("image", "unreadable", "masked")})),
        ("truncated", rel["truncated"], "x", "cat", ("kept", {("image", "truncated", "masked")})),
        ("zero", rel["zero_bytes"], "x", "cat", ("kept", {("image", "unreadable", "masked")})),
        ("notimg", rel["text"], "x", "cat", ("kept", {("image", "unreadable", "masked")})),
        ("wrongext", rel["png_named_jpg"], "x", "dog", KEPT),
        ("rgba", rel["rgba"], "x", "dog", KEPT),
        ("palette", rel["p_transparent"], "x", "dog", KEPT),
        ("cmyk", rel["cmyk"], "x", "dog", KEPT),
        ("gray16", rel["gray16"], "x", "dog", KEPT),
        ("gray", rel["gray_l"], "x", "dog", KEPT),
        ("mono", rel["mono"], "x", "dog", KEPT),
        ("exif", rel["exif_rotated"], "x", "dog", KEPT),
        ("bomb", rel["bomb"], "x", "cat", ("kept", {("image", "too_large", "masked")})),
        ("huge", rel["over_limit"], "x", "cat", ("kept", {("image", "too_large", "masked")})),
        ("tiny", rel["too_small"], "x", "cat", ("kept", {("image", "too_small", "masked")})),
        ("nofile", "does_not_exist.jpg", "x", "cat", ("kept", {(*img[:1], "missing", "masked")})),
        ("dir", rel["directory"], "x", "cat", ("kept", {("image", "not_a_file", "masked")})),
        ("traversal", "../outside/secret.jpg", "x", "cat",
         ("kept", {("image", "outside_root", "masked")})),
        ("absolute", str(outside), "x", "cat", ("kept", {("image", "outside_root", "masked")})),
        ("noimage", "", "only text", "cat", ("kept", {("image", "missing", "masked")})),
        ("html", rel["good_jpeg"], "<p>Red &amp; <b>blue</b></p><script>x()</script>", "cat",
         KEPT),
        ("control", rel["good_jpeg"], "a\x00b\x07c\u200bd", "cat", KEPT),
        ("emoji", rel["good_jpeg"], "猫 🐱 ねこ", "cat", KEPT),
        ("long", rel["good_jpeg"], LONG, "cat",
         ("kept", {("text", "text_truncated", "noted")})),  # cut to 2000, said
        ("notext", rel["good_jpeg"], "", "cat", ("kept", {("text", "missing", "masked")})),
        ("spacetext", rel["good_jpeg"], "  \t ", "cat", ("kept", {("text", "missing", "masked")})),
        ("tagsonly", rel["good_jpeg"], "<br/><p></p>", "cat",
         ("kept", {("text", "missing", "masked")})),
        ("nolabel", rel["good_jpeg"], "x", "", no_label),
        ("spacelabel", rel["good_jpeg"], "x", "  \t", no_label),
        ("nalabel", rel["good_jpeg"], "x", "NA", KEPT),  # a value, not a missing marker
        ("variant", rel["good_jpeg"], "x", "  cat ", KEPT),
        ("nothing", "", "", "cat", ("rejected", {("image", "missing", "rejected"),
                                                 ("text", "missing", "rejected"),
                                                 ("", "no_modality", "rejected")})),
        ("broken_both", rel["corrupt"], "<b></b>", "dog",
         ("rejected", {("image", "unreadable", "rejected"), ("text", "missing", "rejected"),
                       ("", "no_modality", "rejected")})),
        ("good", rel["good_png"], "a second row with id good", "dog",
         ("rejected", {("id", "duplicate_id", "rejected")})),
    ]


@pytest.fixture
def fault_table(corpus, tmp_path):
    data = corpus["good_jpeg"].parent
    outside_dir = tmp_path / "outside"
    outside_dir.mkdir()
    outside = outside_dir / "secret.jpg"
    Image.new("RGB", (20, 20)).save(outside)
    cases = _cases(corpus, outside)
    table = data / "table.csv"
    with open(table, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "text", "label"])
        for ident, image, text, label, _ in cases:
            writer.writerow([ident, image, text, label])
    return table, cases


def _masks(issues) -> bool:
    """Whether a case's issues mask a modality (a ``noted`` one keeps the value)."""
    return any(action == "masked" for *_, action in issues)


def _rejects(folder):
    with open(folder / "rejects.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_every_fault_ends_as_the_policy_says(runner, app, fault_table, tmp_path):
    table, cases = fault_table
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "--image-size", "16"])
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    rejects = _rejects(out)
    by_row: dict[int, set] = {}
    for line in rejects:
        assert line["message"], line
        seen = (line["column"], line["reason"], line["action"])
        by_row.setdefault(int(line["row"]), set()).add(seen)
    data = open_dataset(out)
    kept_rows = set(data.examples["row"])
    for number, (ident, _, _, _, (verdict, issues)) in enumerate(cases, start=1):
        assert by_row.get(number, set()) == issues, (ident, by_row.get(number))
        assert (number in kept_rows) == (verdict == "kept"), ident
    rejected = sum(1 for *_, (verdict, _) in cases if verdict == "rejected")
    assert summary["rows"] == len(cases) and summary["rejected"] == rejected
    assert summary["kept"] == len(cases) - rejected
    assert summary["masked"] == sum(1 for *_, (v, i) in cases if v == "kept" and _masks(i))
    want = Counter(f"{a}:{r}" for *_, (_, issues) in cases for (_, r, a) in issues)
    assert summary["issues"] == dict(want)

    examples = data.examples.set_index("id")
    assert examples.loc["html", "text"] == "Red & blue"
    assert examples.loc["control", "text"] == "abcd"
    assert examples.loc["emoji", "text"] == "猫 🐱 ねこ"
    assert len(examples.loc["long", "text"]) <= 2000
    assert examples.loc["variant", "label"] == "cat"
    assert examples.loc["good", "text"] == "a red cat"  # the first of the duplicate ids
    assert not examples.loc["bomb", "image_present"] and examples.loc["cmyk", "image_present"]


def test_on_missing_drop_rejects_every_masked_row(runner, app, fault_table, tmp_path):
    table, cases = fault_table
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                 "--image-size", "16", "--on-missing", "drop"])
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["masked"] == 0
    assert summary["kept"] == sum(1 for *_, (v, i) in cases if v == "kept" and not _masks(i))
    assert all(line["action"] in ("rejected", "noted") for line in _rejects(out))
    assert {line["reason"] for line in _rejects(out) if line["action"] == "noted"} == {
        "text_truncated"}  # a note rejects nothing


def test_on_missing_error_stops_at_the_first_fault(runner, app, fault_table, tmp_path):
    table, _ = fault_table
    out = tmp_path / "prepared"
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                 "--on-missing", "error"])
    assert result.exit_code == 3
    assert result.stderr.strip().startswith("mmcli: error: row 3 (id corrupt): image:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and not out.exists()


def test_check_reports_the_same_as_preprocess(runner, app, fault_table, tmp_path):
    table, cases = fault_table
    before = sorted(p.name for p in table.parent.iterdir())
    result = runner.invoke(app, ["check", str(table), "--image-size", "16",
                                 "--max-reject-fraction", "0.5"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(p.name for p in table.parent.iterdir()) == before  # nothing written
    rejected = sum(1 for *_, (v, _) in cases if v == "rejected")
    assert report["rejected"] == rejected and report["passed"] is True
    assert report["reject_fraction"] == pytest.approx(rejected / len(cases), abs=1e-6)
    lines = {(r["row"], r["reason"], r["action"]) for r in report["rejects"]}
    assert (3, "unreadable", "masked") in lines and (30, "missing_label", "rejected") in lines

    strict = runner.invoke(app, ["check", str(table), "--image-size", "16"])
    assert strict.exit_code == 5
    assert json.loads(strict.stdout)["passed"] is False
    assert "more than --max-reject-fraction" in strict.stderr


def test_label_case_folding_and_map(runner, app, fault_table, tmp_path):
    table, _ = fault_table
    frame = pd.read_csv(table, dtype=str, keep_default_na=False)
    frame.loc[frame["id"] == "png", "label"] = "DOG"
    frame.loc[frame["id"] == "rgba", "label"] = "Doggy"
    frame.to_csv(table, index=False)
    mapping = tmp_path / "labels.json"
    mapping.write_text(json.dumps({"doggy": "dog"}))
    out = tmp_path / "prepared"
    plain = runner.invoke(app, ["check", str(table), "--max-reject-fraction", "1"])
    assert set(json.loads(plain.stdout)["labels"]) == {"cat", "dog", "DOG", "Doggy", "NA"}
    result = runner.invoke(app, ["preprocess", str(table), "--out", str(out), "--image-size", "16",
                                 "--label-case", "fold", "--label-map", str(mapping)])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["labels"] == ["cat", "dog", "na"]


def test_a_process_pool_gives_the_same_dataset(runner, app, fault_table, tmp_path, monkeypatch):
    table, _ = fault_table
    outputs = {}
    for workers in ("1", "2"):
        if workers == "2":
            monkeypatch.setattr("mmcli.io.decode.IN_PROCESS_BELOW", 0)  # force the pool
        out = tmp_path / f"w{workers}"
        result = runner.invoke(app, ["preprocess", str(table), "--out", str(out),
                                     "--image-size", "16", "--workers", workers])
        assert result.exit_code == 0, result.stderr
        data = open_dataset(out)
        images = data.values("image", range(len(data.examples)))
        outputs[workers] = (_rejects(out), data.examples, images)
    (r1, e1, i1), (r2, e2, i2) = outputs["1"], outputs["2"]
    assert r1 == r2
    pd.testing.assert_frame_equal(e1, e2)
    assert (i1 == i2).all()
