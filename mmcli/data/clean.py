"""Pure functions that clean raw text and label cells before anything else sees them.

Cleaning is idempotent: cleaning an already cleaned value returns it
unchanged, so a table can be cleaned twice (or cleaned text stored and read
back) without drift. Only the standard library is used.

Example:

>>> clean_text("<p>Red &amp; blue</p> see https://x.com")
'Red & blue see'
>>> clean_label(" Cat ", casefold=True)
'cat'
"""

from __future__ import annotations

import html
import math
import numbers
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

from mmcli.errors import UsageError

# A normalization pass that keeps changing the text this often is pathological
# (deeply nested entities or tags); the last pass is returned as is.
_MAX_PASSES = 32

# (start, end) of the blocks removed with their content: comments, scripts, styles.
_BLOCKS = (
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<script\b[^<>]*>", re.IGNORECASE), re.compile(r"</script\s*>", re.IGNORECASE)),
    (re.compile(r"<style\b[^<>]*>", re.IGNORECASE), re.compile(r"</style\s*>", re.IGNORECASE)),
)
_TAG_RE = re.compile(r"</?[A-Za-z][^<>]*>|<[!?][^<>]*>")
_URL_RE = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_MISSING_TYPE_NAMES = frozenset({"NAType", "NaTType"})


@dataclass(frozen=True)
class TextOptions:
    """How `clean_text` cleans one text cell.

    Args:
        lowercase: Lowercase the text (after Unicode normalization).
        strip_html: Unescape HTML entities and remove tags, comments and
            `<script>`/`<style>` blocks with their content.
        strip_urls: Remove `http://`, `https://` and `www.` addresses.
        max_chars: Maximum length of the cleaned text, in characters.

    Raises:
        UsageError: When a field has the wrong type or `max_chars < 1`.
    """

    lowercase: bool = False
    strip_html: bool = True
    strip_urls: bool = True
    max_chars: int = 2000

    def __post_init__(self) -> None:
        for name in ("lowercase", "strip_html", "strip_urls"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise UsageError(f"Expected a boolean for `{name}`. Received: {name}={value!r}")
        max_chars = self.max_chars
        if isinstance(max_chars, bool) or not isinstance(max_chars, int) or max_chars < 1:
            raise UsageError(
                f"Expected a positive integer for `max_chars`. Received: max_chars={max_chars!r}"
            )

    def to_dict(self) -> dict[str, object]:
        """Return the options as a JSON-ready dict (the inverse of `from_dict`)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> TextOptions:
        """Build options from a dict written by `to_dict`.

        Args:
            data: Field names mapped to values; missing fields take defaults.

        Returns:
            The validated options.

        Raises:
            UsageError: On an unknown key or an invalid value.
        """
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(
                f"Unknown text option(s): {', '.join(unknown)}. Valid: {', '.join(sorted(known))}"
            )
        return cls(**data)


def is_missing(value: object) -> bool:
    """Tell whether a table cell holds no value.

    Args:
        value: A cell as read from a table: None, a float or numpy NaN, a
            pandas NA/NaT (recognised without importing pandas), a string...

    Returns:
        True for None, NaN, NA, NaT and strings that are empty or whitespace
        only; False otherwise.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if type(value).__name__ in _MISSING_TYPE_NAMES:
        return True
    try:
        return bool(value != value)  # NaN (float, numpy, Decimal) and numpy NaT
    except (TypeError, ValueError, ArithmeticError):  # arrays, exotic objects
        return False


def cell_text(value: object) -> str | None:
    """A cell as text, as pandas' ``astype(str)`` spells it: None for a null (None, NaN,
    NaT, NA; a blank string is text), bytes decoded as UTF-8, anything else ``str()``."""
    if type(value) is str:
        return value
    if value is None or is_missing(value):
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def clean_text(value: object, options: TextOptions = TextOptions()) -> str:
    """Return one text cell cleaned for a tokenizer.

    Steps, in order: `str()` (bytes are decoded as UTF-8; floats holding an integer such as
    `3.0` become `"3"`); unescape HTML entities and remove tags (when `strip_html`); remove
    URLs (when `strip_urls`); Unicode NFKC; control and format characters (category C*)
    removed, except whitespace ones such as tab and newline, which become spaces; whitespace
    runs collapsed to one space and stripped; lowercase (when `lowercase`). These steps
    repeat until the text stops changing (a removed zero-width space can join `ht` and
    `tps://...` into a URL), so the result is idempotent. Last, the text is cut to
    `max_chars`, at a word boundary unless that would drop more than half of it
    (:func:`clean_text_cut` also gives the length before the cut).

    Args:
        value: A text cell; missing values (see `is_missing`) give `""`.
        options: How to clean.

    Returns:
        The cleaned text: no control characters, no leading, trailing or
        repeated spaces, at most `options.max_chars` characters.

    Example:
    >>> clean_text("\\x00a\\tb\\n")
    'a b'
    """
    return clean_text_cut(value, options)[0]


def clean_text_cut(value: object, options: TextOptions = TextOptions()) -> tuple[str, int]:
    """``(clean_text(value, options), length)``: ``length`` the cleaned text's characters
    before the cut to ``options.max_chars`` (above it when the text was cut)."""
    if (type(value) is str and value.isascii() and value.isprintable() and "&" not in value
            and "<" not in value and ("." not in value and ":" not in value  # a URL has one
                                      or _URL_RE.search(value) is None)):
        # the same result: no entity, tag, URL, control to remove, NFKC is the identity: 1 pass
        text = " ".join(value.split())
        text, length = text.lower() if options.lowercase else text, len(text)
        return text if length <= options.max_chars else _truncate(text, options.max_chars), length
    if is_missing(value):
        return "", 0
    text = to_str(value)
    for _ in range(_MAX_PASSES):
        cleaned = _clean_pass(text, options)
        if cleaned == text:
            break
        text = cleaned
    return _truncate(text, options.max_chars), len(text)


def clean_label(
    value: object, *, casefold: bool = False, mapping: Mapping[str, str] | None = None
) -> str | None:
    """Return one label cell cleaned, or None when it holds no label.

    Steps: `str()` (floats holding an integer, as pandas reads an integer
    column with gaps, become integers: `3.0` -> `"3"`); Unicode NFKC; control
    characters removed; whitespace collapsed and stripped; casefold (when
    `casefold`). Then, if the result is a key of `mapping`, it is replaced by
    the mapped value, itself cleaned the same way (but not mapped again).

    Args:
        value: A label cell.
        casefold: Compare labels caselessly (`"CAT"` -> `"cat"`).
        mapping: Optional renames applied to cleaned labels, e.g.
            `{"kitty": "cat"}`.

    Returns:
        The cleaned label, never empty; None when the cell is missing or
        cleans to nothing.
    """
    if is_missing(value):
        return None
    label = _clean_label_text(to_str(value), casefold)
    if mapping is not None and label in mapping:
        label = _clean_label_text(to_str(mapping[label]), casefold)
    return label or None


def to_str(value: object) -> str:
    """Convert a non-missing cell to text; `3.0` -> `"3"`, bytes decoded as UTF-8."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        try:
            number = float(value)
        except (OverflowError, ValueError):
            return str(value)
        if math.isfinite(number) and number.is_integer():
            return str(int(number))
    return str(value)


def _clean_pass(text: str, options: TextOptions) -> str:
    """Run every cleaning step but truncation once."""
    if options.strip_html:
        text = _strip_html(text)
    if options.strip_urls:
        text = _URL_RE.sub(" ", text)
    text = _normalize(text)
    if options.lowercase:
        text = text.lower()
    return text


def _clean_label_text(text: str, casefold: bool) -> str:
    """NFKC, controls removed, whitespace collapsed, optional casefold; to a fixed point."""
    for _ in range(_MAX_PASSES):
        cleaned = _normalize(text)
        if casefold:
            cleaned = cleaned.casefold()
        if cleaned == text:
            break
        text = cleaned
    return text


def _strip_html(text: str) -> str:
    """Unescape entities, then replace blocks and tags by spaces, until nothing changes."""
    for _ in range(_MAX_PASSES):
        cleaned = html.unescape(text)
        for start, end in _BLOCKS:
            cleaned = _remove_blocks(cleaned, start, end)
        cleaned = _TAG_RE.sub(" ", cleaned)
        if cleaned == text:
            break
        text = cleaned
    return text


def _remove_blocks(text: str, start: re.Pattern[str], end: re.Pattern[str]) -> str:
    """Replace each `start ... end` block by a space; an unclosed block is kept.

    Linear time: once no `end` follows a `start`, none follows a later one.
    """
    parts = []
    position = 0
    while (opening := start.search(text, position)) is not None:
        closing = end.search(text, opening.end())
        if closing is None:
            break
        parts.append(text[position : opening.start()])
        parts.append(" ")
        position = closing.end()
    parts.append(text[position:])
    return "".join(parts)


def _normalize(text: str) -> str:
    """NFKC, then drop control/format characters and collapse whitespace."""
    if text.isascii() and text.isprintable():  # fast path: NFKC is the identity, no controls
        return " ".join(text.split())
    text = unicodedata.normalize("NFKC", text)
    kept = "".join(
        char for char in text if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    return " ".join(kept.split())


def _truncate(text: str, max_chars: int) -> str:
    """Cut `text` to at most `max_chars`, preferring the last space in the first half or later."""
    if len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]
    space = head.rfind(" ")
    if space >= max_chars // 2 and space > 0:
        return head[:space].rstrip()
    return text[:max_chars].rstrip()
