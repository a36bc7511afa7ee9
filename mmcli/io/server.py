"""The fork server that decoding pools fork their workers from (:mod:`mmcli.io.decode`):
started with the decoders' modules imported, early when the caller knows a pool will come
(:func:`start_server`), and stopped when its last user is done."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_POOLS = [0]  # users of the fork server now: pools (threads of this process may run
# several), early starts (start_server) and a guessed start (warm_start)
_POOLS_LOCK = threading.Lock()
_WARM: list[frozenset[str] | None] = [None]  # what a guessed start preloads, while it is held


@contextlib.contextmanager
def using_server(forked: bool) -> Iterator[None]:
    """Count a user of the fork server; the last one out stops it (:func:`_stop_forkserver`)."""
    if not forked:
        yield
        return
    with _POOLS_LOCK:
        _POOLS[0] += 1
    try:
        yield
    finally:
        with _POOLS_LOCK:
            _POOLS[0] -= 1
            if _POOLS[0] == 0:  # another thread's pool may still use the server
                _stop_forkserver()


@contextlib.contextmanager
def start_server(modules: Iterable[str]) -> Iterator[None]:
    """Start the fork server now, importing ``modules`` (the decoders' modules) in it while
    this process goes on (planning rows ...), so that a pool made inside finds it ready
    instead of waiting for its start (0.3 s of a 2-core machine's wall time). Stopped on
    exit unless a pool still uses it. Nothing happens where there is no fork server."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    wanted = {"mmcli.io.decode", *modules}
    with using_server(True):
        with _POOLS_LOCK:
            warm, _WARM[0] = _WARM[0], None
            if warm is not None:  # this start takes over the guessed one's hold
                _POOLS[0] -= 1
                if not wanted <= warm and _POOLS[0] == 1:  # guessed other decoders
                    _stop_forkserver()
                    warm = None
            if _POOLS[0] == 1 and warm is None:  # no pool of another thread runs it
                context.set_forkserver_preload(sorted(wanted))
                forkserver.ensure_running()  # returns at once; the server imports meanwhile
        yield


@contextlib.contextmanager
def warm_start(modules: Iterable[str]) -> Iterator[None]:
    """Start the fork server at once, on a guess that a decoding pool will come
    (:mod:`mmcli.cli.warm`: ``mmcli preprocess`` of a large table), importing ``modules`` (the
    decoders' modules) while this process imports the CLI and reads the table: 0.1-0.2 s
    earlier than :func:`start_server` can. The guess is held until :func:`start_server`
    takes it over (restarting the server if it guessed other decoders) or
    :func:`release_warm` drops it (no pool after all), at the latest when the block ends;
    the last user stops the server, so a wrong guess leaves no process behind."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    from multiprocessing import forkserver

    preload = frozenset({"mmcli.io.decode", *modules})
    with _POOLS_LOCK:
        _POOLS[0] += 1
        _WARM[0] = preload if _POOLS[0] == 1 else frozenset()  # else: another's modules
        if _POOLS[0] == 1:
            multiprocessing.get_context("forkserver").set_forkserver_preload(sorted(preload))
            forkserver.ensure_running()
    try:
        yield
    finally:
        release_warm()


def release_warm() -> None:
    """Drop the hold of a guessed start (:func:`warm_start`), if one is still held: the
    server stops now unless a pool uses it."""
    with _POOLS_LOCK:
        if _WARM[0] is None:
            return
        _WARM[0] = None
        _POOLS[0] -= 1
        if _POOLS[0] == 0:
            _stop_forkserver()


def pool_context(chunk: list[tuple[Any, Any]]) -> Any:
    """The workers' start method: "forkserver" where the platform has it, else "spawn".

    A spawned worker starts a new interpreter and imports the decoders' modules itself
    (NumPy and Pillow, or soundfile and soxr: 0.12-0.15 CPU s a worker on the 2-core
    machine). A fork server imports them once (``set_forkserver_preload``: the decode module and
    the modules of the first chunk's decoders, a decoder's ``preload`` where it names the one
    doing its work) and forks each worker from itself. This
    process is never forked: it has threads (the shard syncer) and pandas/pyarrow state.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    modules = {"mmcli.io.decode", *(getattr(decoder, "preload", None)
                                    or getattr(decoder, "__module__", None)
                                    for decoder, _ in chunk)}
    context.set_forkserver_preload(sorted(m for m in modules if isinstance(m, str)))
    return context


def _stop_forkserver() -> None:
    """Stop the fork server once the last pool's workers are gone: this process then reaps
    it (and with it the CPU time of the workers it reaped, as a spawned worker's is counted),
    no idle process stays behind, and the next pool's server preloads that pool's decoders."""
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:  # CPython's (private) stop; absent elsewhere: the server exits
        stop()  # with this process instead
