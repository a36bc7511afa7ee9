"""Help text built from the one place that defines each thing: defaults from the config
dataclasses, choice lists from the tuples that define the choices.

Rich reads ``[default: ...]`` as markup and drops it; everything shown in brackets here is
escaped, so it reaches the terminal as typed (:func:`escape`, rich's own rule without importing
rich: the help is built by every run, and rich is needed only to print it).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

_PLAIN = re.compile(r"[\w.+-]+")  # shown bare; anything else (' | ', '|') is quoted
_TAG = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")  # rich.markup's: what rich would read as a tag


def escape(markup: str) -> str:
    """``markup`` with every ``[tag]`` rich would read escaped (``\\[tag]``): what
    ``rich.markup.escape`` returns (tests/cli/test_help.py compares them), without importing
    rich (0.015 CPU s: ``mmcli preprocess --quiet`` never prints through rich)."""
    markup = _TAG.sub(lambda match: f"{match[1]}{match[1]}\\{match[2]}", markup)
    if markup.endswith("\\") and not markup.endswith("\\\\"):
        return markup + "\\"
    return markup


def one_of(choices: Iterable[str], notes: Mapping[str, str] | None = None) -> str:
    """The choices as help text, in their order: ``"a (note), b or c"``.

    Every choice is listed, noted or not, so a choice added where the tuple is defined shows
    up in the help without an edit here; a note for a choice that no longer exists is dropped.
    """
    notes = notes or {}
    items = [f"{c} ({notes[c]})" if c in notes else str(c) for c in choices]
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


def literal(text: str) -> str:
    """``text`` for a help string, shown as typed: rich markup would read ``[model.fusion]``
    or ``'mmcli[hub]'`` as a style tag and drop it."""
    return escape(text)


def shown_default(text: str) -> str:
    """``text`` as the default a help line shows, escaped for rich: ``\\[default: text]``."""
    return escape(f"[default: {text}]")


def value_text(value: Any) -> str:
    """How a default value reads in help: ``64``, ``0.003``, ``keep-first``, ``' | '``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and not _PLAIN.fullmatch(value):
        return f"'{value}'"
    return str(value)


def field_default(config: type, name: str) -> Any:
    """The default of field ``name`` of the dataclass ``config``.

    Raises:
        KeyError: ``config`` has no field ``name`` (or it has no plain default).
    """
    for item in dataclasses.fields(config):
        if item.name == name and item.default is not dataclasses.MISSING:
            return item.default
    raise KeyError(f"{config.__name__} has no field {name!r} with a default")


def switch_default(decls: Iterable[str], value: bool) -> str | None:
    """The default of an on/off flag, as the flag that selects it (``--cache/--no-cache``, True:
    ``cache``); None for a lone flag (off unless given), as Click shows them."""
    for decl in decls:
        if "/" in decl:
            on, off = (part.strip().lstrip("-") for part in decl.split("/", 1))
            return on if value else off
    return None
