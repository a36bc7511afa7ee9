"""``mmcli serve`` as users meet it: a subprocess on a free loopback port called over real
HTTP (httpx). Its records equal ``mmcli predict``'s for the same rows; every bad input is a
4xx naming the field and the server answers on after it; a tampered bundle is refused before
anything listens; a full queue is 503 with Retry-After; SIGTERM lets a request in flight
finish, then exits 0."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import SAMPLE
from tests.serve.server import ROOT, running, serve_command, with_issues

pytestmark = pytest.mark.tf

SAMPLE_DIR = SAMPLE.parent
LIMITS = ("--max-rows", "40", "--max-text-chars", "300", "--max-body-bytes", "400000")


def _sample_rows(count: int) -> list[dict]:
    with open(SAMPLE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:count]
    return [{"id": r["id"], "image": r["image"], "text": r["text"]} for r in rows]


def _decodes(path: Path) -> bool:
    try:
        with Image.open(path) as image:
            image.load()
        return True
    except Exception:
        return False


def _predict(runner, app, bundle: Path, rows: list[dict], tmp_path: Path) -> list[dict]:
    """mmcli predict --format jsonl on the same rows (a JSON Lines table, images under the
    sample folder), each record with its row's --rejects lines as serve's ``issues``."""
    table, rejects = tmp_path / "rows.jsonl", tmp_path / "rejects.csv"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["predict", str(bundle), str(table), "--image-root",
                                 str(SAMPLE_DIR), "--format", "jsonl", "--quiet",
                                 "--rejects", str(rejects), "--force"])
    assert result.exit_code == 0, result.stderr
    return with_issues([json.loads(line) for line in result.stdout.splitlines()], rejects)


@pytest.fixture(scope="module")
def server(trained):
    with running(trained["bundle"], "--allow-paths", str(SAMPLE_DIR), *LIMITS) as started:
        yield started


def _post(server, **kwargs) -> httpx.Response:
    return httpx.post(server.url + "/predict", timeout=60, **kwargs)


def test_records_equal_predict_for_paths_and_uploads(server, trained, runner, app, tmp_path):
    rows = _sample_rows(30) + [{"id": "empty", "image": None, "text": None}]
    expected = _predict(runner, app, trained["bundle"], rows, tmp_path)
    as_paths = [{**r, "image": r["image"] and {"path": r["image"]}} for r in rows]
    response = _post(server, json={"rows": as_paths})
    assert response.status_code == 200, response.text
    assert response.json()["records"] == expected
    assert expected[-1]["error"] and expected[-1]["label"] is None
    assert {i["reason"] for i in expected[-1]["issues"]} == {"missing", "no_modality"}
    assert any(r["issues"] == [] for r in expected)
    assert any(r["image_present"] for r in expected)
    assert any(not r["image_present"] and r["error"] is None for r in expected)  # masked

    good = [i for i, r in enumerate(rows[:-1]) if _decodes(SAMPLE_DIR / r["image"])]
    uploads = [{**rows[i], "image": base64.b64encode((SAMPLE_DIR / rows[i]["image"])
                                                     .read_bytes()).decode()} for i in good]
    response = _post(server, json={"rows": uploads})
    assert response.status_code == 200, response.text
    assert response.json()["records"] == [expected[i] for i in good]

    first = rows[good[0]]
    form = _post(server, data={"id": first["id"], "text": first["text"]},
                 files={"image": ("x.jpg", (SAMPLE_DIR / first["image"]).read_bytes())})
    assert form.status_code == 200, form.text
    assert form.json()["records"] == [expected[good[0]]]


def test_concurrent_one_row_requests_read_together_equal_predict(server, trained, runner,
                                                                  app, tmp_path):
    rows = _sample_rows(24)
    expected = _predict(runner, app, trained["bundle"], rows, tmp_path)
    answers: dict[int, httpx.Response] = {}

    def call(i: int) -> None:
        answers[i] = _post(server, json={"rows": [{**rows[i], "image": {"path":
                                                                          rows[i]["image"]}}]})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(rows))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    got = [answers[i].json()["records"][0] for i in range(len(rows))]
    # One-row requests are batched together as they arrive, not as predict batches the
    # table: float32 sums over a different batch may move the 6th decimal by one unit.
    assert [_rounding_free(r) for r in got] == [_rounding_free(r) for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        for label, value in theirs["probabilities"].items():
            assert mine["probabilities"][label] == pytest.approx(value, abs=1.01e-6)


def _rounding_free(record: dict) -> dict:
    """A record less its probabilities (which may differ by one unit of the 6th decimal)."""
    return {**{k: v for k, v in record.items() if k not in ("probability", "probabilities")},
            "top_k": [t["label"] for t in record["top_k"]]}


def test_metadata_health_and_docs(server, trained):
    meta = httpx.get(server.url + "/metadata", timeout=30).json()
    bundle = json.loads((trained["bundle"] / "bundle.json").read_text())
    assert meta["labels"] == bundle["labels"]
    assert meta["modalities"] == ["image", "text"]
    assert meta["inputs"] == {"files": {"image": "image"}, "values": ["text"], "id": "id"}
    assert meta["files"] == bundle["files"] and meta["versions"]["tensorflow"]
    assert httpx.get(server.url + "/health", timeout=30).json()["status"] == "ok"
    assert httpx.get(server.url + "/docs", timeout=30).status_code == 200
    spec = httpx.get(server.url + "/openapi.json", timeout=30).json()
    assert "/predict" in spec["paths"]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


BAD = [  # (name, request kwargs, status, field)
    ("malformed JSON", {"content": b'{"rows": [', "headers": {"content-type":
                                                                "application/json"}}, 400, "body"),
    ("no rows field", {"json": {"row": []}}, 422, "rows"),
    ("rows not a list", {"json": {"rows": "x"}}, 422, "rows"),
    ("a row not an object", {"json": {"rows": [5]}}, 422, "rows[0]"),
    ("a row with no input column", {"json": {"rows": [{"colour": "red"}]}}, 422, "rows[0]"),
    ("not base64", {"json": {"rows": [{"image": "%%%"}]}}, 422, "rows[0].image"),
    ("base64 of no image", {"json": {"rows": [{"text": "a", "image": {"b64": base64.b64encode(
        b"plain text, not a picture").decode()}}]}}, 422, "rows[0].image"),
    ("text over --max-text-chars", {"json": {"rows": [{"text": "a" * 301}]}}, 422,
     "rows[0].text"),
    ("a list as text", {"json": {"rows": [{"text": ["a"]}]}}, 422, "rows[0].text"),
    ("rows over --max-rows", {"json": {"rows": [{"text": "a"}] * 41}}, 413, "rows"),
    ("body over --max-body-bytes", {"json": {"rows": [{"text": "a" * 200}] * 2100}}, 413,
     "body"),
    ("a path outside --allow-paths", {"json": {"rows": [{"image": {"path": "../README.md"}}]}},
     403, "rows[0].image"),
    ("an absolute path outside", {"json": {"rows": [{"image": {"path": "/etc/hostname"}}]}},
     403, "rows[0].image"),
    ("an unknown content type", {"content": b"text", "headers": {"content-type":
                                                                 "text/plain"}}, 415,
     "content-type"),
    ("an upload that is no image", {"files": {"image": ("a.png", b"GIF89a broken")}}, 422,
     "image"),
    ("a form's text over --max-text-chars", {"data": {"text": "a" * 301},
                                              "files": {"note": ("n.txt", b"x")}}, 422, "text"),
    ("a non-UTF-8 upload for text", {"files": {"text": ("t.txt", b"\xff\xfe\x00")}}, 422,
     "text"),
]


@pytest.mark.parametrize(("request_kwargs", "status", "field"),
                         [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_input_is_a_4xx_naming_the_field_and_the_server_lives(server, request_kwargs,
                                                                   status, field):
    response = _post(server, **request_kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["field"] == field and body["error"]
    after = _post(server, json={"rows": [{"text": "a red boat"}]})
    assert after.status_code == 200 and after.json()["records"][0]["error"] is None


def test_an_unpredictable_row_is_an_error_record_with_its_issues_counted(server):
    upload = base64.b64encode(_png()).decode()
    before = httpx.get(server.url + "/health", timeout=30).json()
    response = _post(server, json={"rows": [{"id": "a", "text": None, "image": None},
                                            {"id": "b", "text": "", "image": upload}]})
    assert response.status_code == 200, response.text
    first, second = response.json()["records"]
    assert first["id"] == "a" and first["label"] is None and first["error"]
    assert second["id"] == "b" and second["error"] is None and second["image_present"]
    # each row's problems by column and reason (predict's rejects lines), counted in /health
    assert [(i["column"], i["reason"], i["action"]) for i in first["issues"]] == [
        ("image", "missing", "rejected"), ("text", "missing", "rejected"),
        ("", "no_modality", "rejected")]
    assert [(i["column"], i["reason"], i["action"]) for i in second["issues"]] == [
        ("text", "missing", "masked")]
    after = httpx.get(server.url + "/health", timeout=30).json()
    assert after["rows"] - before["rows"] == 2
    assert Counter(after["issues"]) - Counter(before["issues"]) == Counter(
        {"rejected:missing": 2, "rejected:no_modality": 1, "masked:missing": 1})


def test_a_tampered_bundle_is_refused_before_listening(trained, tmp_path):
    bundle = tmp_path / "bundle"
    shutil.copytree(trained["bundle"], bundle)
    with open(bundle / "model.keras", "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    done = subprocess.run(serve_command(bundle), capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 4
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "model.keras" in lines[0] and "SHA-256" in lines[0]


def test_full_queue_is_503_and_sigterm_finishes_the_request_in_flight(trained):
    with running(trained["bundle"], "--queue", "1", "--batch-wait-ms", "6000") as server:
        answers: list[httpx.Response] = []
        first = threading.Thread(target=lambda: answers.append(_post(
            server, json={"rows": [{"id": "slow", "text": "a red boat"}]})))
        first.start()
        deadline = time.monotonic() + 30
        while httpx.get(server.url + "/health", timeout=30).json()["queued"] < 1:
            assert time.monotonic() < deadline, "the first request never queued"
            time.sleep(0.05)
        busy = _post(server, json={"rows": [{"text": "a blue boat"}]})
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"].isdigit()
        server.process.terminate()  # SIGTERM while the first request waits for its batch
        first.join(60)
        assert server.process.wait(60) == 0
    (answer,) = answers
    assert answer.status_code == 200, answer.text
    assert answer.json()["records"][0]["id"] == "slow"
