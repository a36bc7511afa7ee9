"""Option groups: options declared once and added to each command that takes them.

As sqlite-utils' shared option decorators, with Typer's own API: :func:`adds` puts a group's
``Annotated`` parameters into a command's signature (``__signature__``, which Typer reads) in
place of one placeholder parameter, and calls the command with ONE value for the whole group
there, built from the flags the user gave (None: not given). Each option shows the default of
the config dataclass field of its name, so help text never restates a default.

Example::

    @adds(group(PrepConfig, image_size=ImageSize, on_missing=OnMissing), into="cleaning")
    def check(table: str, cleaning: dict = FROM_GROUP) -> None: ...
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from mmcli.cli.helptext import field_default, shown_default, switch_default, value_text


class _FromGroup:
    def __repr__(self) -> str:
        return "FROM_GROUP"


FROM_GROUP: Any = _FromGroup()
"""The default of a placeholder parameter: :func:`adds` fills it from its group."""


@dataclass(frozen=True)
class OptionGroup:
    """Options shared by several commands. Build one with :func:`group`.

    Attributes:
        options: ``(parameter name, Annotated[type, typer.Option(help=...)])`` in help order;
            help is prose without a default. Every option defaults to None (not given).
        defaults: the default each option shows, by name (none shown when absent).
        fields: the options that set a config field of their name.
    """

    options: tuple[tuple[str, Any], ...]
    defaults: Mapping[str, str] = field(default_factory=dict)
    fields: frozenset[str] = frozenset()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.options)

    def __add__(self, other: OptionGroup) -> OptionGroup:
        clash = set(self.names) & set(other.names)
        if clash:
            raise ValueError(f"options in both groups: {', '.join(sorted(clash))}")
        return OptionGroup(self.options + other.options, {**self.defaults, **other.defaults},
                           self.fields | other.fields)

    def without(self, *names: str) -> OptionGroup:
        """The group less some options (a command that cannot use them)."""
        return dataclasses.replace(self, options=tuple(
            (n, a) for n, a in self.options if n not in _known(self, names)))

    def replacing(self, **annotated: Any) -> OptionGroup:
        """The group with some options declared otherwise (other flag names, other help); each
        keeps its default."""
        _known(self, annotated)
        return dataclasses.replace(self, options=tuple(
            (n, annotated.get(n, a)) for n, a in self.options))

    def hiding(self, *names: str) -> OptionGroup:
        """The group with some options accepted but not shown in help."""
        return self.replacing(**{n: _changed(a, hidden=True) for n, a in self.options
                                 if n in _known(self, names)})

    def overriding(self, note: str) -> OptionGroup:
        """The group on a command where the config fields come from a saved config (a bundle's)
        and the flags override it: each field shows ``note`` as its default."""
        return dataclasses.replace(self, defaults={
            **self.defaults, **{n: note for n in self.names if n in self.fields}})

    def parameters(self) -> list[inspect.Parameter]:
        """The group as keyword parameters defaulting to None, help ending in its default."""
        params = []
        for name, annotated in self.options:
            if name in self.defaults:
                info = _info(annotated)
                help_text = f"{info.help or ''} {shown_default(self.defaults[name])}".strip()
                annotated = _changed(annotated, help=help_text)
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                            annotation=annotated))
        return params


def group(config: type | None = None, unset: Mapping[str, str] | None = None,
          **options: Any) -> OptionGroup:
    """An option group; an option named as a field of the dataclass ``config`` shows that
    field's default (on/off flags: the flag that gives it), or for a None default what
    ``unset`` says None means (``unset`` may also describe options that are not fields)."""
    unset = unset or {}
    names = {f.name for f in dataclasses.fields(config)} if config is not None else set()
    defaults = {}
    for name, annotated in options.items():
        text = None
        if name in unset:
            text = unset[name]
        elif name in names:
            value = field_default(config, name)
            if isinstance(value, bool):
                text = switch_default(_decls(_info(annotated)), value)
            elif value is not None:
                text = value_text(value)
        if text is not None:
            defaults[name] = text
    return OptionGroup(tuple(options.items()), defaults, frozenset(names & set(options)))


def adds(group: OptionGroup, *, into: str,
         value: Callable[[dict[str, Any]], Any] = dict) -> Callable[[Callable], Callable]:
    """Decorator: the command takes ``group``'s options in place of its parameter ``into``
    (whose default is :data:`FROM_GROUP`), and receives ``value(given)`` there, ``given``
    mapping each option's name to what the user gave (None: not given).

    Raises:
        TypeError: the command has no parameter ``into``, or one named as an option.
    """

    def decorate(command: Callable) -> Callable:
        signature = inspect.signature(command, eval_str=True)
        params = list(signature.parameters.values())
        names = [p.name for p in params]
        if into not in names or signature.parameters[into].default is not FROM_GROUP:
            raise TypeError(f"{command.__name__} needs a parameter `{into} = FROM_GROUP`")
        clash = set(names) & set(group.names)
        if clash:
            raise TypeError(f"{command.__name__} already has {', '.join(sorted(clash))}")
        at = names.index(into)
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
                  for p in params[:at] + group.parameters() + params[at + 1:]]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            given = {name: kwargs.pop(name, None) for name in group.names}
            return command(**kwargs, **{into: value(given)})

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        wrapper.__annotations__["return"] = signature.return_annotation
        return wrapper

    return decorate


def _known(owner: OptionGroup, names: Iterable[str]) -> set[str]:
    unknown = set(names) - set(owner.names)
    if unknown:
        raise KeyError(f"no option {', '.join(sorted(unknown))} in the group")
    return set(names)


def _info(annotated: Any) -> Any:
    return typing.get_args(annotated)[1]


def _decls(info: Any) -> list[str]:
    """An option's flag names. In ``Annotated``, Typer keeps the first one as ``default``."""
    first = [info.default] if isinstance(info.default, str) else []
    return first + list(info.param_decls or ())


def _changed(annotated: Any, **changes: Any) -> Any:
    """``Annotated[type, typer.Option(...)]`` with some of the option's settings changed."""
    kind, info = typing.get_args(annotated)[:2]
    info = copy.copy(info)
    for key, item in changes.items():
        setattr(info, key, item)
    return Annotated[kind, info]
