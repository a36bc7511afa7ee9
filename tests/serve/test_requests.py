"""Request bodies to rows, without a server or TensorFlow: what is accepted, and the status
and field of what is refused."""

from __future__ import annotations

import base64
import json

import pytest

from mmcli.serve.requests import Inputs, LocalPath, RequestError, Upload, parse_form, parse_json
from mmcli.serve.settings import ServeConfig

INPUTS = Inputs({"image": "image"}, ("text", "price"), "id")
CONFIG = ServeConfig(max_rows=3, max_text_chars=10)


def _parse(document, config: ServeConfig = CONFIG):
    return parse_json(json.dumps(document).encode(), INPUTS, config)


def test_numbers_stay_as_written_and_files_are_decoded():
    body = b'{"rows": [{"id": 7, "price": 1.10, "text": true, "image": "aGk="}]}'
    (row,) = parse_json(body, INPUTS, CONFIG)
    assert row == {"id": "7", "price": "1.10", "text": True, "image": Upload(b"hi")}


def test_file_cells_take_b64_data_urls_paths_and_null(tmp_path):
    config = ServeConfig(allow_paths=tmp_path)
    rows = _parse({"rows": [{"image": {"b64": "aGk="}}, {"image": "data:image/png;base64,aGk="},
                            {"image": {"path": "a.png"}}, {"image": None}, {"image": ""}]},
                  config)
    assert [r["image"] for r in rows] == [Upload(b"hi"), Upload(b"hi"), LocalPath("a.png"),
                                          None, None]


@pytest.mark.parametrize(("body", "status", "field"), [
    (b"{", 400, "body"),
    (b'{"rows": [{"text": "a", "text": "b"}]}', 400, "body"),
    (b"[]", 422, "rows"),
    (b'{"rows": []}', 422, "rows"),
    (b'{"rows": [{"text": "a"}, {"text": "a"}, {"text": "a"}, {"text": "a"}]}', 413, "rows"),
    (b'{"rows": [{"text": "a"}, "x"]}', 422, "rows[1]"),
    (b'{"rows": [{"other": "a"}]}', 422, "rows[0]"),
    (b'{"rows": [{"text": "01234567890"}]}', 422, "rows[0].text"),
    (b'{"rows": [{"text": {"a": 1}}]}', 422, "rows[0].text"),
    (b'{"rows": [{"image": "not base64!"}]}', 422, "rows[0].image"),
    (b'{"rows": [{"image": 5}]}', 422, "rows[0].image"),
    (b'{"rows": [{"image": {"path": "a.png"}}]}', 403, "rows[0].image"),
])
def test_refusals_name_status_and_field(body, status, field):
    with pytest.raises(RequestError) as caught:
        parse_json(body, INPUTS, CONFIG)
    assert (caught.value.status, caught.value.field) == (status, field)


def test_a_form_is_one_row_with_uploads_for_file_columns():
    (row,) = parse_form([("text", "a boat"), ("image", b"\x89PNG"), ("price", b"3")], INPUTS,
                        CONFIG)
    assert row == {"text": "a boat", "image": Upload(b"\x89PNG"), "price": "3"}
    for fields, field in ([("text", "a"), ("text", "b")], "text"), ([("x", "1")], "form"), \
            ([("text", b"\xff")], "text"), ([("image", base64.b64encode(b"x").decode() + "%")],
                                            "image"):
        with pytest.raises(RequestError) as caught:
            parse_form(fields, INPUTS, CONFIG)
        assert caught.value.field == field
