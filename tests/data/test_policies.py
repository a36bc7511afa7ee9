"""Pure policy functions: duplicates, label maps, the decode cut-over."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mmcli.data.duplicates import find_duplicates
from mmcli.data.labelmap import load_label_map
from mmcli.errors import DataError
from mmcli.io.decode import IN_PROCESS_BELOW, decode_workers

keys = st.lists(st.integers(0, 5), max_size=40)


@given(keys)
def test_keep_first_keeps_exactly_one_row_per_key(values):
    found = find_duplicates(None, values, "keep-first")
    kept = [v for i, v in enumerate(values) if i not in found]
    assert sorted(kept) == sorted(set(values))
    assert all(d.reason == "duplicate_row" for d in found.values())


@given(keys)
def test_reject_removes_every_repeated_key(values):
    found = find_duplicates(None, values, "reject")
    assert set(found) == {i for i, v in enumerate(values) if values.count(v) > 1}


@given(keys, keys)
def test_ids_and_rows_are_reported_once(ids, rows):
    n = min(len(ids), len(rows))
    ids, rows = ids[:n], [(r, i) for r, i in zip(rows[:n], ids[:n], strict=True)]
    found = find_duplicates(ids, rows, "keep-first")
    kept_ids = [v for i, v in enumerate(ids) if i not in found]
    assert len(kept_ids) == len(set(kept_ids)) == len(set(ids))


def test_error_policy_names_the_rows():
    with pytest.raises(DataError, match=r"row 3 has the same id as row 1"):
        find_duplicates(["a", "b", "a"], [1, 2, 3], "error")
    assert find_duplicates(["a", "b"], [1, 2], "error") == {}


def test_label_map_json_and_csv(tmp_path):
    as_json = tmp_path / "m.json"
    as_json.write_text(json.dumps({" Kitty ": "cat", "PUP": "Dog"}))
    assert load_label_map(as_json) == {"Kitty": "cat", "PUP": "Dog"}
    assert load_label_map(as_json, casefold=True) == {"kitty": "cat", "pup": "dog"}
    as_csv = tmp_path / "m.csv"
    as_csv.write_text("from,to\nkitty,cat\n\npuppy, dog \n")
    assert load_label_map(as_csv) == {"kitty": "cat", "puppy": "dog"}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("m.json", "[1, 2]", "expected a JSON object"),
        ("m.json", "{", "not valid JSON"),
        ("m.csv", "from,to\n", "at least one mapping line"),
        ("m.csv", "from,to\na,b,c\n", "line 2 has 3 columns"),
        ("m.csv", "from,to\na,\n", "empty label"),
        ("m.csv", "from,to\na,b\nA,c\n", None),
        ("m.json", '{"a": "b", " a": "c"}', "mapped both to 'b' and 'c'"),
    ],
)
def test_label_map_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    if message is None:  # 'a' and 'A' are different labels unless folded
        assert load_label_map(path) == {"a": "b", "A": "c"}
        with pytest.raises(DataError, match="mapped both"):
            load_label_map(path, casefold=True)
        return
    with pytest.raises(DataError, match=message):
        load_label_map(path)


def test_missing_label_map_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="cannot read label map"):
        load_label_map(tmp_path / "none.json")


def test_decode_workers_cut_over(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    assert decode_workers(IN_PROCESS_BELOW - 1, 0) == 1
    assert decode_workers(IN_PROCESS_BELOW, 0) == 8
    assert decode_workers(IN_PROCESS_BELOW, 3) == 3
    assert decode_workers(10**6, 1) == 1
