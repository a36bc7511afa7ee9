"""A cache of prepared datasets, so training or evaluating twice on one raw table
prepares it once.

The key is a SHA-256 of: the table's bytes (and the ``--join`` table's), the label
map file, every image file's resolved path, size and modification time (or why it
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

from mmcli import __version__, layout
from mmcli.config import PrepConfig
from mmcli.data.clean import is_missing
from mmcli.data.inputs import Inputs
from mmcli.data.rows import image_root
from mmcli.errors import ImageError
from mmcli.io.images import resolve_image_path

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
    }
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    for line in _image_stats(inputs, config):
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


def _image_stats(inputs: Inputs, config: PrepConfig):
    """One line per image reference: the resolved file's size and mtime, or the fault."""
    roles, frame = inputs.roles, inputs.table.frame
    root = image_root(inputs.table, config)
    if roles.image_dir is not None:
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except OSError as exc:
            yield f"dir {root}: {exc.strerror}"
            return
        for entry in entries:
            try:
                info = entry.stat()
            except OSError as exc:
                yield f"{entry.name}: {exc.strerror}"
                continue
            yield f"{entry.name}\t{info.st_size}\t{info.st_mtime_ns}"
        return
    columns = roles.image_columns or ((roles.image,) if roles.image else ())
    cells = (cell for column in columns for cell in frame[column])
    for cell in cells:
        if is_missing(cell):
            yield ""
            continue
        try:
            path = resolve_image_path(
                str(cell).strip(), root, allow_outside_root=config.allow_outside_root
            )
            info = path.stat()
        except ImageError as exc:
            yield f"{cell}: {exc.reason}"
            continue
        except OSError as exc:
            yield f"{cell}: {exc.strerror}"
            continue
        yield f"{path}\t{info.st_size}\t{info.st_mtime_ns}"
