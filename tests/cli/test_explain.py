"""``mmcli explain``: per-row modality attributions that add up, words and pixels that are the
ones the sample data's label depends on, the page, the errors."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf

MOOD_WORDS = {"happy", "joyful", "cheerful", "glad", "delighted",
              "sad", "gloomy", "unhappy", "somber", "miserable"}
BROKEN = ["ex0001", "ex0002", "ex0003"]  # no image file, corrupt image, no text
FIELDS = {"id", "label", "true_label", "target", "target_probability", "empty_probability",
          "shapley", "tokens", "columns", "files"}


def test_ids(n: int) -> list[str]:
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        return [r["id"] for r in csv.DictReader(handle) if r["split"] == "test"][:n]


test_ids.__test__ = False  # a helper, not a test


@pytest.fixture(scope="module")
def explained(runner, app, trained, tmp_path_factory):
    """The broken rows and 60 held-out rows of sample_data, explained."""
    out = tmp_path_factory.mktemp("explain") / "why"
    ids = BROKEN + test_ids(60)
    result = runner.invoke(app, ["explain", str(trained["bundle"]), str(SAMPLE), "--out",
                                 str(out), "--ids", ",".join(ids)])
    assert result.exit_code == 0, result.stderr
    lines = (out / "explanations.jsonl").read_text(encoding="utf-8").splitlines()
    records = {r["id"]: r for r in map(json.loads, lines)}
    return {"out": out, "records": records, "ids": ids, "summary": json.loads(result.stdout)}


def test_one_record_per_row_in_the_order_asked(explained):
    assert list(explained["records"]) == explained["ids"]
    assert explained["summary"]["rows"] == len(explained["ids"])
    for record in explained["records"].values():
        assert FIELDS <= set(record)
        assert record["target"] == record["label"]  # --target predicted (the default)


def test_shapley_values_add_up_to_all_minus_none_on_every_row(explained):
    for record in explained["records"].values():
        total = sum(record["shapley"].values())
        gap = record["target_probability"] - record["empty_probability"]
        assert abs(total - gap) < 1e-5, record["id"]


def test_a_masked_modality_gets_exactly_zero(explained):
    records = explained["records"]
    for row in ("ex0001", "ex0002"):  # image masked
        assert records[row]["shapley"]["image"] == 0.0
        assert not any("image" in f for f in records[row]["files"])
    assert records["ex0003"]["shapley"]["text"] == 0.0  # text masked
    assert "text" not in records["ex0003"]["tokens"]
    assert records[explained["ids"][3]]["shapley"]["image"] != 0.0

    # which modality each row lacked, and what reading the table did, are said
    assert [records[r]["absent"] for r in BROKEN] == [["image"], ["image"], ["text"]]
    assert records[explained["ids"][3]]["absent"] == []
    read = explained["summary"]["data_issues"]
    assert read["issues"] == {"masked:missing": 2, "masked:unreadable": 1}
    assert read["rows"] == 480 and read["rejected"] == 0


def test_the_mood_word_is_the_top_token_of_correct_predictions(explained):
    right = [r for r in explained["records"].values()
             if r["id"] not in BROKEN and r["label"] == r["true_label"]]
    assert len(right) >= 45  # the fused model gets most held-out rows right
    top = [r["tokens"]["text"][0][0] in MOOD_WORDS for r in right]
    assert sum(top) / len(top) >= 0.9


def test_each_image_row_has_its_picture_and_overlay(explained):
    for record in explained["records"].values():
        if record["id"] in ("ex0001", "ex0002"):
            continue
        assert len(record["files"]) == 2
        for file in record["files"]:
            assert (explained["out"] / file).read_bytes().startswith(b"\x89PNG")


class Cards(HTMLParser):
    """The cards of index.html: id, modality bars, embedded pictures, scored tokens."""

    def __init__(self):
        super().__init__()
        self.cards: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "div" and a.get("class") == "card":
            self.cards.append({"id": a["data-id"], "bars": [], "images": [], "tokens": 0})
        elif tag == "div" and a.get("class") == "bar":
            self.cards[-1]["bars"].append(a["data-modality"])
        elif tag == "img":
            self.cards[-1]["images"].append(a["src"])
        elif tag == "span" and "data-score" in a:
            self.cards[-1]["tokens"] += 1


def test_index_html_has_a_card_per_row_and_is_self_contained(explained):
    page = (explained["out"] / "index.html").read_text(encoding="utf-8")
    parser = Cards()
    parser.feed(page)
    assert [c["id"] for c in parser.cards] == explained["ids"]
    for c in parser.cards:
        assert c["bars"] == ["image", "text"]
        for src in c["images"]:
            assert src.startswith("data:image/png;base64,")
            assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG")
    by_id = {c["id"]: c for c in parser.cards}
    first = by_id[explained["ids"][3]]
    assert len(first["images"]) == 2 and first["tokens"] > 3
    assert "http://" not in page and "https://" not in page and "<script" not in page


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no headless Chromium")
def test_index_html_opens_in_headless_chromium(explained):
    dom = subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--dump-dom",
                          (explained["out"] / "index.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    parser = Cards()
    parser.feed(dom)
    assert len(parser.cards) == len(explained["ids"])


def test_target_true_and_a_named_label(runner, app, trained, tmp_path):
    for target in ("true", "red_sad"):
        out = tmp_path / target
        result = runner.invoke(app, ["explain", str(trained["bundle"]), str(SAMPLE), "--out",
                                     str(out), "--rows", "3", "--target", target, "-q"])
        assert result.exit_code == 0, result.stderr
        records = [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]
        assert len(records) == 3
        for r in records:
            assert r["target"] == (r["true_label"] if target == "true" else "red_sad")
            total = sum(r["shapley"].values())
            assert abs(total - (r["target_probability"] - r["empty_probability"])) < 1e-5


def test_usage_and_data_errors(runner, app, trained, tmp_path):
    base = ["explain", str(trained["bundle"]), str(SAMPLE), "--out"]
    taken = tmp_path / "taken"
    taken.mkdir()
    assert runner.invoke(app, [*base, str(taken)]).exit_code == 2  # exists, no --force
    result = runner.invoke(app, [*base, str(tmp_path / "a"), "--target", "green_calm"])
    assert result.exit_code == 2 and "green_calm" in result.stderr
    result = runner.invoke(app, [*base, str(tmp_path / "b"), "--ids", "ex0004,nope"])
    assert result.exit_code == 3 and "nope" in result.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_ids_are_matched_as_written_then_without_surrounding_spaces(runner, app, trained,
                                                                   tmp_path):
    """An id with a leading space is an id of its own (chosen as written); "a, b" still means
    a and b."""
    table = tmp_path / "spaced.csv"
    text = SAMPLE.read_text(encoding="utf-8").replace("\nex0101,", '\n" ex0101",', 1)
    assert '" ex0101"' in text
    table.write_text(text, encoding="utf-8")
    (tmp_path / "images").symlink_to(SAMPLE.parent / "images")
    out = tmp_path / "why"
    result = runner.invoke(app, ["explain", str(trained["bundle"]), str(table), "--out",
                                 str(out), "--ids", " ex0101, ex0102", "-q"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == [" ex0101", "ex0102"]


def test_force_replaces_and_the_same_call_gives_the_same_records(runner, app, trained,
                                                                  tmp_path):
    out = tmp_path / "why"
    args = ["explain", str(trained["bundle"]), str(SAMPLE), "--out", str(out), "--rows", "4",
            "-q"]
    assert runner.invoke(app, args).exit_code == 0
    first = (out / "explanations.jsonl").read_text()
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0
    assert (out / "explanations.jsonl").read_text() == first


def test_a_one_modality_model_skips_what_does_not_apply(runner, app, tmp_path):
    """A text-only bundle: no pictures, no image bar; the one Shapley value is the whole gap
    between all modalities and none (efficiency with M = 1), and the mood words still decide."""
    bundle, out = tmp_path / "bundle", tmp_path / "why"
    result = runner.invoke(app, ["train", str(SAMPLE), "--ignore-col", "image", "--out",
                                 str(bundle), "--epochs", "8", "--seed", "0", "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["modalities"] == ["text"]
    ids = test_ids(12)
    result = runner.invoke(app, ["explain", str(bundle), str(SAMPLE), "--out", str(out),
                                 "--ids", ",".join(ids), "-q"])
    assert result.exit_code == 0, result.stderr
    records = [json.loads(x) for x in (out / "explanations.jsonl").read_text().splitlines()]
    assert [r["id"] for r in records] == ids
    for r in records:
        assert list(r["shapley"]) == ["text"] and r["files"] == [] and not r["columns"]
        gap = r["target_probability"] - r["empty_probability"]
        assert abs(r["shapley"]["text"] - gap) < 1e-5
        assert list(r["tokens"]) == ["text"]
    # the text tells the mood, not the colour: the mood word decides whichever colour won
    assert sum(r["tokens"]["text"][0][0] in MOOD_WORDS for r in records) >= 11
    assert not list(out.glob("*.png")) and not list(out.glob("**/*.png"))
    parser = Cards()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    assert [c["id"] for c in parser.cards] == ids
    assert all(c["bars"] == ["text"] and c["images"] == [] and c["tokens"] > 3
               for c in parser.cards)
