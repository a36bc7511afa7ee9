"""A DATA argument (a prepared folder or a raw table) opened as a prepared dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mmcli.config import PrepConfig
from mmcli.data.dataset import Dataset, is_dataset, open_dataset
from mmcli.data.prepare import prepare


def open_source(
    data: str | Path,
    config: PrepConfig,
    workdir: Path,
    *,
    fmt: str | None = None,
    on_start: Callable[[int], None] | None = None,
    on_row: Callable[[], None] | None = None,
) -> Dataset:
    """Open ``data`` as a prepared dataset; a raw table is prepared into ``workdir`` first,
    with the same code as ``mmcli preprocess``."""
    path = Path(data)
    if str(data) != "-" and is_dataset(path):
        return open_dataset(path)
    target = Path(workdir) / "prepared"
    prepare(data, config, target, fmt=fmt, on_start=on_start, on_row=on_row)
    return open_dataset(target)
