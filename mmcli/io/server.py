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
# several) and warm starts (start_server)
_POOLS_LOCK = threading.Lock()


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
    with using_server(True):
        with _POOLS_LOCK:
            if _POOLS[0] == 1:  # no pool of another thread runs it with its own modules
                context.set_forkserver_preload(sorted({"mmcli.io.decode", *modules}))
                forkserver.ensure_running()  # returns at once; the server imports meanwhile
        yield


def pool_context(chunk: list[tuple[Any, Any]]) -> Any:
    """The workers' start method: "forkserver" where the platform has it, else "spawn".

    A spawned worker starts a new interpreter and imports the decoders' modules itself
    (NumPy and Pillow, or soundfile and soxr: 0.12-0.15 CPU s a worker on the 2-core
    machine). A fork server imports them once (``set_forkserver_preload``: the decode module and
    the modules of the first chunk's decoders) and forks each worker from itself. This
    process is never forked: it has threads (the shard syncer) and pandas/pyarrow state.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    modules = {"mmcli.io.decode", *(getattr(decoder, "__module__", None) for decoder, _ in chunk)}
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
