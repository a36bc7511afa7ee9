"""Tests for mmcli.data.clean: examples first, then properties checked with hypothesis."""

from __future__ import annotations

import decimal
import math
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mmcli.data.clean as clean_module
from mmcli.data.clean import TextOptions, clean_label, clean_text, is_missing
from mmcli.errors import UsageError

# Fragments that make the steps interact: entities, tags, URL pieces, zero-width
# and control characters, full-width letters, characters whose case mapping grows.
_TRICKY = (
    "&amp;|&lt;|&gt;|&#|x200b;|<b>|</p>|<|>|!--|-->|<script>|</script>|http|s://|www|.|x.com/a?b=1"
    "|\u200b|\u00a0|\u3000|\t|\n|\x00|\x85|Ｆｕｌｌ|ﬁ|İ|ß|Σ|ǰ|猫|🐈|e\u0301| |a|B"
).split("|")
tricky_text = st.lists(st.sampled_from(_TRICKY), max_size=30).map("".join)
any_text = st.one_of(st.text(), tricky_text)
any_cell = st.one_of(
    any_text,
    st.none(),
    st.just(float("nan")),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
options = st.builds(
    TextOptions,
    lowercase=st.booleans(),
    strip_html=st.booleans(),
    strip_urls=st.booleans(),
    max_chars=st.integers(min_value=1, max_value=60),
)


def _is_control(char: str) -> bool:
    return unicodedata.category(char).startswith("C")


# --- TextOptions ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -3, 1.5, "10", True, None])
def test_text_options_rejects_bad_max_chars(bad):
    with pytest.raises(UsageError, match="Expected a positive integer for `max_chars`"):
        TextOptions(max_chars=bad)


def test_text_options_message_names_value():
    with pytest.raises(UsageError) as info:
        TextOptions(max_chars=0)
    assert str(info.value) == "Expected a positive integer for `max_chars`. Received: max_chars=0"


def test_text_options_rejects_non_boolean_flag():
    with pytest.raises(UsageError, match="Expected a boolean for `lowercase`"):
        TextOptions(lowercase="yes")


def test_text_options_round_trip():
    opts = TextOptions(lowercase=True, strip_urls=False, max_chars=12)
    assert TextOptions.from_dict(opts.to_dict()) == opts


def test_text_options_from_dict_rejects_unknown_key():
    with pytest.raises(UsageError, match="max_chars"):
        TextOptions.from_dict({"max_char": 3})


# --- is_missing -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        float("nan"),
        np.nan,
        np.float32("nan"),
        np.datetime64("NaT"),
        decimal.Decimal("NaN"),
        "",
        " ",
        "\t\n",
        "\u00a0\u3000",
    ],
)
def test_is_missing_true(value):
    assert is_missing(value)


@pytest.mark.parametrize(
    "value", [0, 0.0, False, "a", " a ", "nan", np.array([1.0, float("nan")]), b"", [], "\u200b"]
)
def test_is_missing_false(value):
    assert not is_missing(value)


def test_is_missing_pandas_like_types_by_name():
    na_type = type("NAType", (), {"__bool__": lambda self: 1 / 0, "__ne__": lambda s, o: s})
    nat_type = type("NaTType", (), {})
    assert is_missing(na_type())
    assert is_missing(nat_type())


def test_clean_module_imports_neither_pandas_nor_tensorflow():
    code = (
        "import sys, mmcli.data.clean; print(sorted({'pandas', 'tensorflow'} & set(sys.modules)))"
    )
    root = str(Path(clean_module.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@given(st.text(alphabet=" \t\n\r\u00a0\u3000\u2028\x0b\x0c"))
def test_is_missing_whitespace_only(text):
    assert is_missing(text)


# --- clean_text: examples -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<p>Red &amp; blue</p>", "Red & blue"),
        ("see https://x.com/a?b=1 now", "see now"),
        ("visit www.example.org/page today", "visit today"),
        ("Ｆｕｌｌ", "Full"),
        ("猫 🐈", "猫 🐈"),
        ("\x00a\tb\n", "a b"),
        ("zero\u200bwidth", "zerowidth"),
        ("a<br>b", "a b"),
        ("I &lt;3 cats", "I <3 cats"),
        ("x <script>alert(1)</script> y <style>p{}</style> z", "x y z"),
        ("keep <!-- hidden --> this", "keep this"),
        ("&amp;amp;", "&"),
        ("ht\u200btps://x.com tail", "tail"),
        ("  many   spaces\r\n here ", "many spaces here"),
        (None, ""),
        (float("nan"), ""),
        ("   ", ""),
        (42, "42"),
        (3.0, "3"),
        (b"caf\xc3\xa9", "café"),
    ],
)
def test_clean_text_examples(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_keeps_html_and_urls_when_asked():
    opts = TextOptions(strip_html=False, strip_urls=False)
    assert clean_text("<b>x</b> http://a.b", opts) == "<b>x</b> http://a.b"


def test_clean_text_lowercase_after_nfkc():
    assert clean_text("ＨＥＬＬＯ World", TextOptions(lowercase=True)) == "hello world"


def test_clean_text_truncates_at_word_boundary():
    text = "alpha beta gamma delta"
    assert clean_text(text, TextOptions(max_chars=12)) == "alpha beta"
    assert clean_text(text, TextOptions(max_chars=10)) == "alpha beta"


def test_clean_text_truncates_long_word_hard():
    assert clean_text("a " + "x" * 50, TextOptions(max_chars=10)) == "a " + "x" * 8


def test_clean_text_truncates_very_long_text():
    text = " ".join(["word"] * 5000)
    cleaned = clean_text(text)
    assert len(cleaned) <= 2000
    assert cleaned.endswith("word") and len(cleaned) > 1990


# --- clean_text: properties -----------------------------------------------------------


@given(any_cell, options)
def test_clean_text_output_is_clean(value, opts):
    out = clean_text(value, opts)
    assert isinstance(out, str)
    assert len(out) <= opts.max_chars
    assert out == out.strip()
    assert "  " not in out
    assert not any(_is_control(char) for char in out)
    assert all(char == " " or not char.isspace() for char in out)


@given(any_text, options)
def test_clean_text_is_idempotent(text, opts):
    once = clean_text(text, opts)
    assert clean_text(once, opts) == once


@given(any_text, st.integers(min_value=1, max_value=60))
def test_clean_text_lowercase_output_is_lowercase(text, max_chars):
    out = clean_text(text, TextOptions(lowercase=True, max_chars=max_chars))
    assert out == out.lower()


@given(any_text)
def test_clean_text_is_nfkc_normalized(text):
    out = clean_text(text)
    assert unicodedata.normalize("NFKC", out) == out


@given(st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=30))
def test_clean_text_keeps_plain_words(word):
    normalized = " ".join(unicodedata.normalize("NFKC", word).split())
    assert clean_text(word) == "".join(c for c in normalized if not _is_control(c))


# --- clean_label ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", [" Cat ", "cat\u00a0", "CAT", "Ｃａｔ", "c\u200bat"])
def test_clean_label_casefold_variants(raw):
    assert clean_label(raw, casefold=True) == "cat"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Cat ", "Cat"),
        ("red  happy", "red happy"),
        (3.0, "3"),
        (3, "3"),
        (np.float32(7.0), "7"),
        (2.5, "2.5"),
        (True, "True"),
    ],
)
def test_clean_label_examples(raw, expected):
    assert clean_label(raw) == expected


@pytest.mark.parametrize("raw", [None, float("nan"), np.nan, "", "   ", "\u200b"])
def test_clean_label_missing(raw):
    assert clean_label(raw) is None


def test_clean_label_mapping():
    mapping = {"kitty": "cat", "empty": "  "}
    assert clean_label(" Kitty ", casefold=True, mapping=mapping) == "cat"
    assert clean_label("kitty", mapping=mapping) == "cat"
    assert clean_label("Kitty", mapping=mapping) == "Kitty"
    assert clean_label("dog", mapping=mapping) == "dog"
    assert clean_label("empty", mapping=mapping) is None


def test_clean_label_mapped_value_is_cleaned():
    assert clean_label("kitty", casefold=True, mapping={"kitty": " Cat\t"}) == "cat"


@given(any_cell, st.booleans())
def test_clean_label_never_empty_and_idempotent(value, casefold):
    label = clean_label(value, casefold=casefold)
    assert label != ""
    if label is not None:
        assert label == label.strip()
        assert clean_label(label, casefold=casefold) == label
    if is_missing(value):
        assert label is None


@given(any_text)
def test_clean_label_idempotent_with_mapping(text):
    mapping = {"kitty": "cat", "pup": "dog"}
    label = clean_label(text, casefold=True, mapping=mapping)
    assert label != ""
    if label is not None:
        assert clean_label(label, casefold=True, mapping=mapping) == label


@given(st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x.is_integer()))
def test_clean_label_integral_floats_print_as_integers(number):
    assert clean_label(number) == str(int(number))


def test_clean_label_nan_is_none():
    assert clean_label(math.nan) is None
