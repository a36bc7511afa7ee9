"""mmcli as a Python library: one function per command, usable without the CLI.

Each command of the CLI (``mmcli.cli``) parses its options, calls one function here and
renders what it returns. Importing this package is cheap; each function imports what it
needs (pandas, TensorFlow) when it is called::

    from mmcli import api
    schema = api.prepare("data.csv", PrepConfig(), Path("prepared"))
    meta = api.train("prepared", RunConfig(), Path("model"))
    metrics = api.evaluate("model", "prepared")
    for record in api.predict_records(api.read_bundle("model"), "new.csv"):
        ...

Modules: ``prepare`` (preprocess), ``check``, ``source`` (a DATA argument: prepared folder
or raw table, through the cache), ``train``, ``evaluate``, ``predict``, ``inspect``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "prepare": "mmcli.api.prepare",
    "check_table": "mmcli.api.check",
    "open_source": "mmcli.api.source",
    "train": "mmcli.api.train",
    "evaluate": "mmcli.api.evaluate",
    "run_evaluation": "mmcli.api.evaluate",
    "predict_records": "mmcli.api.predict",
    "inspect": "mmcli.api.inspect",
    "read_bundle": "mmcli.bundle",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mmcli.api' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
