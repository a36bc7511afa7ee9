"""Checks the configuration dataclasses (:mod:`mmcli.config`) run in ``__post_init__``: each
raises :class:`~mmcli.errors.UsageError` with a message of the form "Expected ... for `name`.
Received: name=value"."""

from __future__ import annotations

from typing import Any

from mmcli.errors import UsageError


def positive(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise UsageError(
                f"Expected a positive integer for `{name}`. Received: {name}={value!r}"
            )


def fraction(owner: object, name: str, *, high: float = 1.0) -> None:
    value = getattr(owner, name)
    if not isinstance(value, (int, float)) or not 0.0 <= value < high:
        raise UsageError(
            f"Expected a number in [0, {high}) for `{name}`. Received: {name}={value!r}"
        )


def choice(owner: object, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(owner, name)
    if value not in choices:
        raise UsageError(
            f"Unknown {name.replace('_', ' ')} {value!r}. Choose one of: {', '.join(choices)}"
        )


def as_tuple(value) -> tuple[str, ...]:
    return () if value is None else (value,) if isinstance(value, str) else tuple(value)


def check_audio(config: Any) -> None:
    rate = config.audio_rate
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1000:
        raise UsageError("Expected an integer >= 1000 for `audio_rate`. "
                         f"Received: audio_rate={config.audio_rate!r}")
    for name in ("audio_seconds", "max_audio_seconds"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise UsageError(f"Expected a positive number for `{name}`. Received: {name}={value!r}")


def check_tabular_columns(config: Any) -> None:
    """Normalise the tabular and ignored columns to tuples (None stays None: detected) and
    refuse a column named twice, or named and ignored."""
    for name in ("numeric_col", "category_col", "ignore_col"):
        value = getattr(config, name)
        if value is not None:
            value = (value,) if isinstance(value, str) else tuple(str(c) for c in value)
            object.__setattr__(config, name, value)
    tabular = (config.numeric_col or ()) + (config.category_col or ())
    if len(set(tabular)) != len(tabular):
        raise UsageError(f"a column is named twice in numeric_col/category_col: "
                         f"{', '.join(tabular)}")
    named = {*tabular, *config.image_cols, *config.text_cols,
             *(c for c in (config.id_col, config.label_col, config.split_col) if c)}
    clash = sorted(named & set(config.ignore_col or ()))
    if clash:
        raise UsageError(f"--ignore-col {', '.join(clash)}: also named for another role")


def columns(value):
    """One column as a string, several as a tuple, none as None (a list from TOML/JSON too)."""
    if isinstance(value, (list, tuple)):
        columns = tuple(str(c) for c in value)
        if not columns:
            return None
        return columns[0] if len(columns) == 1 else columns
    return value
