"""A cache of prepared datasets, so training or evaluating twice on one raw table
prepares it once.

The key is a SHA-256 of: the table's bytes (and the ``--join`` table's), the label
map file, each file a cell names (its resolved path, size and modification time, or why it
cannot be used), the preparation settings (``workers`` and ``cache`` excepted: they
do not change the result), whether labels are required, and the dataset format.
Entries live in ``$MMCLI_CACHE_DIR`` (default ``~/.cache/mmcli``) under
``prepared/<key>/`` and are written atomically; delete the folder to reclaim space.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

from mmcli import __version__, layout, modalities
from mmcli.config import PrepConfig
from mmcli.data.inputs import Inputs
from mmcli.data.rows import data_root
from mmcli.modalities.base import TableContext

CACHE_ENV = "MMCLI_CACHE_DIR"
_IGNORED = ("workers", "cache")


def cache_root() -> Path:
    """``$MMCLI_CACHE_DIR``, else ``~/.cache/mmcli``."""
    given = os.environ.get(CACHE_ENV)
    return Path(given) if given else Path.home() / ".cache" / "mmcli"


def cache_key(inputs: Inputs, config: PrepConfig, *, need_label: bool | None) -> str:
    """The SHA-256 (hex) naming the prepared dataset of ``inputs`` under ``config``."""
    digest = hashlib.sha256()
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in _IGNORED}
    head = {
        "format": layout.DATASET_FORMAT,
        "mmcli": __version__,
        "table": inputs.table.sha256,
        "join": inputs.join_sha256,
        "need_label": need_label,
        "settings": settings,
        "label_map": _file_digest(config.label_map),
        "sources": inputs.roles.sources,  # the columns read (evaluate pins the trained ones)
        "roles": [inputs.roles.id, inputs.roles.label, inputs.roles.split],
    }
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for line in _file_stats(inputs, config):
        digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
    return digest.hexdigest()


def entry_path(key: str) -> Path:
    return cache_root() / "prepared" / key


def _file_digest(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def _file_stats(inputs: Inputs, config: PrepConfig):
    """What each modality's prepared values depend on beyond the table's bytes: e.g. each
    image file's resolved path, size and mtime (or the fault)."""
    roles, table = inputs.roles, inputs.table
    context = TableContext(data_root(table, config), config)
    for name, columns in roles.sources.items():
        cells = [table.column(c) for c in columns if c in table]
        yield from modalities.modality_of(name).file_references(cells, context)
