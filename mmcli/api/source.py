"""A DATA argument (a prepared folder or a raw table) opened as a prepared dataset."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mmcli.api.prepare import prepare
from mmcli.config import PrepConfig
from mmcli.data.cache import cache_key, entry_path
from mmcli.data.dataset import Dataset, is_dataset, open_dataset
from mmcli.data.inputs import load_inputs
from mmcli.data.parts import expand_data, open_parts
from mmcli.errors import DataError, UsageError


def open_source(
    data: str | Path | Sequence[str | Path],
    config: PrepConfig,
    workdir: Path,
    *,
    fmt: str | None = None,
    need_label: bool | None = None,
    notify: Callable[[str], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_row: Callable[[], None] | None = None,
    trained_roles: Mapping[str, Any] | None = None,
    on_absent: Callable[[dict[str, tuple[str, ...]]], None] | None = None,
) -> Dataset:
    """Open ``data`` as a prepared dataset.

    A raw table is prepared with the same code as ``mmcli preprocess``: into the cache
    (``mmcli.data.cache``) when ``config.cache`` is on, reusing an entry made from the
    same table, images and settings; else into ``workdir``. ``notify`` receives one-line
    messages about the cache (default: standard error). ``trained_roles`` (a bundle's roles)
    pins the columns read (:func:`mmcli.data.inputs.load_inputs`); a trained input's column
    that the table lacks is masked in every row, and given to ``on_absent`` (kind -> the
    columns missing).

    Several DATA (a list, or a glob pattern) must be prepared folders, read as one dataset
    (:mod:`mmcli.data.parts`: their settings must match; a table's ``--shard`` parts all given).

    Raises:
        UsageError: several DATA that are not all prepared folders, or that do not match.
    """
    sources = expand_data(data)
    if len(sources) > 1:
        raw = [s for s in sources if s == "-" or not is_dataset(Path(s))]
        if raw:
            raise UsageError(f"several DATA must all be prepared folders (mmcli preprocess); "
                             f"{raw[0]} is not")
        return open_parts(sources)
    data = sources[0]
    path = Path(data)
    if str(data) != "-" and is_dataset(path):
        return open_dataset(path)
    say = notify or _to_stderr
    inputs = load_inputs(data, config, fmt=fmt, trained_roles=trained_roles)
    if on_absent is not None and inputs.absent:
        on_absent(dict(inputs.absent))
    if not config.cache:
        target = Path(workdir) / "prepared"
        prepare(data, config, target, need_label=need_label, inputs=inputs,
                on_start=on_start, on_row=on_row)
        return open_dataset(target)
    target = entry_path(cache_key(inputs, config, need_label=need_label))
    if is_dataset(target):
        try:
            dataset = open_dataset(target)
        except DataError:
            say(f"cached prepared data in {target} is damaged; preparing again")
        else:
            say(f"reusing prepared data from the cache ({target}); --no-cache to prepare again")
            return dataset
    prepare(data, config, target, force=True, need_label=need_label, inputs=inputs,
            on_start=on_start, on_row=on_row)
    say(f"prepared data cached in {target}")
    return open_dataset(target)


def _to_stderr(message: str) -> None:
    sys.stderr.write(f"mmcli: {message}\n")
