"""The search space of ``mmcli tune``: one TOML table per setting, read once into
:class:`Space` (no Optuna, no TensorFlow).

A setting is named ``section.key`` as in ``--set`` (``model.fusion``, ``train.learning_rate``)
and given either ``choices = [...]`` or a range ``low``/``high`` (integers when both are
integers; ``log = true`` for a log scale, ``step`` for a grid)::

    [model.fusion]
    choices = ["gated", "late"]

    [train.learning_rate]
    low = 3e-4
    high = 1e-2
    log = true
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmcli.config import RunConfig
from mmcli.config_io import SECTIONS, _typed, read_toml
from mmcli.errors import UsageError

# Never searched: they choose the validation rows (every trial must score the same ones).
FIXED = frozenset({"train.seed", "train.val_fraction"})

DEFAULT_SPACE = """\
# mmcli tune's default search space. prep.image_size is searched only when DATA is a raw
# table (a prepared folder has one image size).
[model.fusion]
choices = ["gated", "late", "attention", "concat"]

[model.text_encoder]
choices = ["bow", "embedding", "cnn"]

[model.image_encoder]
choices = ["mobilenet", "small_cnn"]

[prep.image_size]
choices = [64, 96, 128]

[train.learning_rate]
low = 3e-4
high = 1e-2
log = true

[model.dropout]
low = 0.0
high = 0.5

[model.modality_dropout]
low = 0.0
high = 0.4

[model.embed_dim]
choices = [32, 64, 128]

[train.epochs]
low = 5
high = 40
step = 5
"""


@dataclass(frozen=True)
class Param:
    """One searched setting.

    Attributes:
        name: ``section.key``.
        choices: the values to pick from, or None for a range.
        low, high: the range's bounds (inclusive); ints when both are ints.
        log: sample the range on a log scale.
        step: the grid step of the range, or None.
    """

    name: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def integer(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)


@dataclass(frozen=True)
class Space:
    """The searched settings, in file order."""

    params: tuple[Param, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def without(self, names: set[str] | frozenset[str]) -> Space:
        """The space less the settings in ``names`` (fixed by --config/--set/flags)."""
        return Space(tuple(p for p in self.params if p.name not in names))


def read_space(path: str | Path | None = None) -> Space:
    """The space in the TOML file ``path``, or :data:`DEFAULT_SPACE`.

    Raises:
        UsageError: unreadable TOML, an unknown section or key, a table with neither
            ``choices`` nor ``low``/``high``, bounds out of order, or a searched seed or
            validation fraction.
    """
    data = read_toml(path) if path is not None else tomllib.loads(DEFAULT_SPACE)
    where = str(path) if path is not None else "the default space"
    params = []
    for section, table in data.items():
        if section not in SECTIONS or not isinstance(table, dict):
            raise UsageError(f"unknown section {section!r} in {where}; "
                             f"valid sections: {', '.join(SECTIONS)}")
        fields = set(SECTIONS[section].__dataclass_fields__)
        for key, spec in table.items():
            name = f"{section}.{key}"
            if key not in fields:
                raise UsageError(f"unknown setting {name} in {where}. Valid keys in "
                                 f"[{section}]: {', '.join(sorted(fields))}")
            if name in FIXED:
                raise UsageError(f"{name} cannot be searched: it chooses the validation rows, "
                                 "which every trial must share")
            params.append(_param(name, spec, where))
    if not params:
        raise UsageError(f"{where} names no setting to search")
    return Space(tuple(params))


def _param(name: str, spec: Any, where: str) -> Param:
    if not isinstance(spec, dict):
        raise UsageError(f"{name} in {where} must be a table with choices, or low and high")
    unknown = set(spec) - {"choices", "low", "high", "log", "step"}
    if unknown:
        raise UsageError(f"{name} in {where}: unknown key(s) {', '.join(sorted(unknown))}; "
                         "expected choices, or low, high, log, step")
    if "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise UsageError(f"{name} in {where}: choices must be a non-empty list")
        return Param(name, choices=tuple(choices))
    low, high = spec.get("low"), spec.get("high")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not low < high:
        raise UsageError(f"{name} in {where}: expected numbers low < high. "
                         f"Received: low={low!r}, high={high!r}")
    log = bool(spec.get("log", False))
    if log and low <= 0:
        raise UsageError(f"{name} in {where}: a log scale needs low > 0. Received: low={low!r}")
    return Param(name, low=low, high=high, log=log, step=spec.get("step"))


def given_names(file_values: Mapping[str, Any], flags: Mapping[str, Mapping[str, Any]],
                sets: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The ``section.key`` names set by a config file, flags (None: not given) or --set."""
    names = set()
    for layer in (file_values, flags, sets):
        for section, values in layer.items():
            if isinstance(values, Mapping):
                names |= {f"{section}.{k}" for k, v in values.items() if v is not None}
    return names


def apply(config: RunConfig, values: dict[str, Any]) -> RunConfig:
    """``config`` with the ``section.key`` settings in ``values`` replaced.

    Raises:
        UsageError: a value the config rejects (wrong type, out of range, unknown choice).
    """
    data = config.to_dict()
    for name, value in values.items():
        section, key = name.split(".", 1)
        data[section][key] = _typed(section, key, value, "the search space")
    return RunConfig.from_dict(data)


def check(space: Space, config: RunConfig) -> None:
    """Every choice and both bounds of every range make a valid config, checked before any
    trial runs.

    Raises:
        UsageError: naming the setting and the value the config rejects.
    """
    for param in space.params:
        for value in param.choices if param.choices is not None else (param.low, param.high):
            if param.choices is None and not param.integer:
                value = float(value)
            apply(config, {param.name: value})
