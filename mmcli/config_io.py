"""Resolving a RunConfig from layers, and writing it as TOML.

Precedence, lowest first: the dataclass defaults, a TOML file (``--config run.toml``),
the command's own flags, then ``--set section.key=value`` (repeatable). Each layer is
checked: an unknown section or key, or a value of the wrong type, is a :class:`UsageError`
that names the valid ones. Standard library only (``tomllib``): no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mmcli.config import ModelConfig, PrepConfig, RunConfig, TrainConfig
from mmcli.errors import UsageError

SECTIONS: dict[str, type] = {"prep": PrepConfig, "model": ModelConfig, "train": TrainConfig}


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a run configuration file (TOML with ``[prep]``, ``[model]``, ``[train]`` tables).

    Raises:
        UsageError: the file is missing, unreadable or not valid TOML.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML: {exc}") from exc


def parse_sets(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``["train.epochs=5", "model.fusion=concat"]`` -> ``{"train": {"epochs": 5}, ...}``.

    Values are TOML scalars (``5``, ``0.1``, ``true``, ``"a|b"``); a value that is not valid
    TOML is taken as a bare string (``model.fusion=concat``).
    """
    parsed: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, text = item.partition("=")
        section, dot, key = name.strip().partition(".")
        if not sep or not dot or not section or not key:
            raise UsageError(
                f"--set expects section.key=value (e.g. train.epochs=5). Received: {item!r}"
            )
        parsed.setdefault(section, {})[key] = _scalar(text.strip(), item)
    return parsed


def _scalar(text: str, item: str) -> Any:
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
    if isinstance(value, dict):
        raise UsageError(f"--set takes a value or an array, not a table. Received: {item!r}")
    return value


def resolve_config(
    *,
    file: str | Path | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
    sets: Iterable[str] = (),
) -> RunConfig:
    """The RunConfig from defaults < ``file`` < ``flags`` (None = not given) < ``sets``."""
    layers = [
        (str(file), read_toml(file) if file is not None else {}),
        ("flags", flags or {}),
        ("--set", parse_sets(sets)),
    ]
    merged: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for source, layer in layers:
        for section, values in layer.items():
            if section not in SECTIONS:
                raise UsageError(
                    f"unknown config section {section!r} (in {source}). "
                    f"Valid sections: {', '.join(SECTIONS)}"
                )
            if not isinstance(values, Mapping):
                raise UsageError(f"config section [{section}] (in {source}) must be a table")
            for key, value in values.items():
                if value is not None:
                    merged[section][key] = _typed(section, key, value, source)
    return RunConfig.from_dict(merged)


def _typed(section: str, key: str, value: Any, source: str) -> Any:
    kind = SECTIONS[section]
    hints = typing.get_type_hints(kind)
    if key not in hints:
        raise UsageError(
            f"unknown setting {section}.{key} (in {source}). Valid keys in [{section}]: "
            f"{', '.join(f.name for f in dataclasses.fields(kind))}"
        )
    accepted = {t for t in typing.get_args(hints[key]) if t is not type(None)} or {hints[key]}
    if bool in accepted and isinstance(value, bool):
        return value
    if int in accepted and isinstance(value, int) and not isinstance(value, bool):
        return value
    if float in accepted and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if str in accepted and isinstance(value, str):
        return value
    lists = any(typing.get_origin(t) is tuple for t in accepted)
    if lists and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)  # several columns: --text-col a --text-col b, or a TOML list
    names = " or ".join(sorted(
        "list of str" if typing.get_origin(t) is tuple else t.__name__ for t in accepted))
    raise UsageError(f"{section}.{key} expects {names}. Received: {value!r} (in {source})")


def to_toml(config: RunConfig) -> str:
    """The config as a TOML document that :func:`read_toml` reads back to the same config.

    A setting that is None (a column detected from the table) is written as a comment.
    """
    lines = ["# mmcli run configuration: use with `mmcli train --config FILE`"]
    for section, values in config.to_dict().items():
        lines += ["", f"[{section}]"]
        for key, value in values.items():
            if value is None:
                lines.append(f"# {key} = (not set: detected)")
            else:
                lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
