"""Option values converted without pydantic when they are plain (start-up cost).

Typer (>= 0.29) converts every option value through a pydantic ``TypeAdapter``, built on first
use. Importing pydantic and building the adapters of one command's ~45 options costs 0.09-0.11
CPU s (measured 2026-11-30 on the 2-core machine: pydantic 0.07-0.09 s, 40 adapters 0.02 s),
a tenth of ``mmcli preprocess`` over 1,000 audio files. The values mmcli's options take in
their plain form are converted here, giving what Typer gives:

- an option not given (None): None, or ``()`` for a repeatable option (Typer's own rule);
- a string for a ``str``; strings for a ``list[str]`` (a list, as Typer returns);
- ASCII digits (``-?(0|[1-9][0-9]*)``, at most 18) for an ``int``, the same with an optional
  ``.digits`` for a ``float``, within the option's ``min`` / ``max``;
- a string for a ``Path`` that ``Path`` keeps as written (``Path(value)``, then Typer's own
  path checks).

Anything else (``007``, ``1e3``, a bound not met, a clamp, a custom parser, files, other
types) goes through Typer's own conversion, pydantic and its error messages included.
:func:`install` puts this in front of Typer's ``typer.core.build_runtime_param``, the one
place Typer builds a parameter's converter; if a Typer release moves it, nothing is changed
and Typer converts everything itself (slower, same values).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_INT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,17})?")
_NOT_PLAIN = object()


def plain_value(annotation: Any, info: Any, value: Any) -> Any:
    """``value`` converted for a parameter of type ``annotation`` (Typer's ``ParameterInfo``
    ``info``) when it is in a plain form, else ``_NOT_PLAIN``. Never raises."""
    if getattr(info, "parser", None) is not None:
        return _NOT_PLAIN
    if annotation is str:
        return value if isinstance(value, str) else _NOT_PLAIN
    if annotation is list[str]:
        plain = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        return list(value) if plain else _NOT_PLAIN
    if annotation in (int, float) and isinstance(value, str) and not info.clamp:
        if not (_INT if annotation is int else _FLOAT).fullmatch(value):
            return _NOT_PLAIN
        number = annotation(value)
        low, high = info.min, info.max
        if (low is not None and number < low) or (high is not None and number > high):
            return _NOT_PLAIN  # Typer's message names the bound
        return number
    return _NOT_PLAIN


class PlainFirst:
    """A parameter's converter (Typer's ``RuntimeParam`` interface: ``coerce``): plain values
    here, the rest by Typer's converter, built only when first needed."""

    def __init__(self, descriptor: Any, build: Any) -> None:
        self._descriptor = descriptor
        self._build = build  # Typer's build_runtime_param
        self._typer: Any = None

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None:  # as Typer's RuntimeParam.coerce
            return () if param.multiple or param.nargs == -1 else None
        descriptor = self._descriptor
        if descriptor.file_annotation is None:
            if descriptor.annotation is Path and isinstance(value, str) and _plain_path(
                    descriptor.parameter_info, value):
                from typer._param_types import coerce_cli_path

                return coerce_cli_path(Path(value), descriptor.parameter_info, path_type=Path,
                                       param=param, ctx=ctx)
            result = plain_value(descriptor.annotation, descriptor.parameter_info, value)
            if result is not _NOT_PLAIN:
                return result
        if self._typer is None:
            self._typer = self._build(descriptor)
        return self._typer.coerce(value, param=param, ctx=ctx)


def _plain_path(info: Any, value: str) -> bool:
    """A path Typer's messages would show as given: ``Path(value)`` prints as ``value``."""
    return info.parser is None and info.path_type is None and str(Path(value)) == value


def install() -> bool:
    """Put :class:`PlainFirst` in front of Typer's converters (once). Returns whether Typer
    has the seam (``typer.core.build_runtime_param``, called by
    ``_TyperParameter.get_runtime_param``)."""
    import typer.core

    build = getattr(typer.core, "build_runtime_param", None)
    parameter = getattr(typer.core, "_TyperParameter", None)
    if build is None or not hasattr(parameter, "get_runtime_param"):
        return False
    if getattr(build, "_mmcli_plain_first", False):
        return True
    original = build

    def build_runtime_param(descriptor: Any) -> Any:
        return PlainFirst(descriptor, original)

    build_runtime_param._mmcli_plain_first = True  # type: ignore[attr-defined]
    build_runtime_param._original = original  # type: ignore[attr-defined]
    typer.core.build_runtime_param = build_runtime_param
    return True
