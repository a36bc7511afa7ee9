"""How a table's cells will be decoded: in this process or in a pool of worker processes
(:func:`mmcli.io.decode.decode_workers`), and the pool's fork server started early."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from mmcli import modalities
from mmcli.io.decode import decode_workers

if TYPE_CHECKING:
    from mmcli.config import PrepConfig
    from mmcli.data.roles import Roles
    from mmcli.io.tables import Table

T = TypeVar("T")


def workers_for(table: Table, roles: Roles, config: PrepConfig) -> int:
    """The decoding processes for the table: 1 (this process) below ``IN_PROCESS_BELOW``
    cells to decode (every cell of every decoding modality counted), else ``--workers``."""
    decoding = [m for m in roles.modalities if modalities.modality_of(m).decodes]
    return decode_workers(len(table) * len(decoding), config.workers)


def early_server(table: Table, roles: Roles, config: PrepConfig) -> Any:
    """A context in which the fork server of the coming decoding pool starts now, its
    decoders' modules imported while this process plans rows
    (:func:`mmcli.io.server.start_server`); nothing for a table decoded in this process (a
    small table pays nothing; a server started on a guess, :mod:`mmcli.cli.warm`, stops)."""
    from mmcli.io.server import release_warm, start_server

    if workers_for(table, roles, config) <= 1:
        release_warm()
        return contextlib.nullcontext()

    found = set()
    for name in roles.modalities:
        kind = modalities.modality_of(name)
        if not kind.decodes:
            continue
        module = getattr(kind, "decoder_module", None)  # named: not imported here first
        if module is None and hasattr(kind, "decoder"):
            try:
                decoder = kind.decoder(config)
                module = getattr(decoder, "preload", None) or type(decoder).__module__
            except Exception:  # noqa: BLE001 - bad settings are reported where rows decode
                continue
        if module is not None:
            found.add(module)
    return start_server(sorted(found))


def started(rows: Iterable[T], imports: Sequence[str] = ()) -> Iterator[T]:
    """``rows`` with the first one pulled now: the decoding pool behind them (if any) is
    started and its first chunk decoded before the caller goes on to what it needs only for
    the rows' results. Meanwhile a thread imports ``imports`` (the modules the caller needs
    then: NumPy and pyarrow, 0.1-0.15 s), mostly while this process waits for the workers'
    first results with the GIL released, instead of before the workers could start. Closing
    the returned iterator closes ``rows``.

    Raises:
        whatever pulling the first row raises, or a Ctrl-C while waiting for the imports
        (``rows`` closed then: its pool ends now, not whenever it is garbage-collected,
        where a second Ctrl-C during the pool's shutdown printed "Exception ignored").
    """
    thread = None
    if imports:
        thread = threading.Thread(target=_import, args=(imports,), name="mmcli-imports",
                                  daemon=True)
        thread.start()
    iterator = iter(rows)
    try:
        try:
            first = next(iterator, _END)
        finally:
            if thread is not None:  # done, or nearly: the caller imports them next anyway
                thread.join()
    except BaseException:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
        raise
    return iter(()) if first is _END else _chained(first, iterator)


_END = object()  # started: no first row


def _import(modules: Sequence[str]) -> None:
    for module in modules:
        with contextlib.suppress(Exception):  # a failure shows where the caller imports it
            importlib.import_module(module)


def _chained(first: T, rest: Iterator[T]) -> Iterator[T]:
    try:
        yield first
        yield from rest
    finally:
        close = getattr(rest, "close", None)
        if close is not None:
            close()
