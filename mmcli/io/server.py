"""The fork server that decoding pools fork their workers from (:mod:`mmcli.io.decode`):
started with the decoders' modules imported, early when the caller knows a pool will come
(:func:`start_server`, or :func:`warm_start` on a guess at the start of the process), and
stopped when its last user is done."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_POOLS = [0]  # users of the fork server now: pools (threads of this process may run
# several) and the early start not yet taken over by a pool (_HELD)
_POOLS_LOCK = threading.Lock()


class _Hold:
    """An early start's use of the server (:func:`start_server`, :func:`warm_start`): one
    count in ``_POOLS`` until a later user takes it over or its owner releases it."""

    def __init__(self, modules: frozenset[str], guess: bool):
        self.modules = modules  # what the running server preloaded (empty: not known)
        self.guess = guess


_HELD: list[_Hold | None] = [None]  # the early start whose count no one has taken over
_REAPING: list[list[threading.Thread] | None] = [None]  # see reaping_later


@contextlib.contextmanager
def using_server(forked: bool) -> Iterator[None]:
    """Count a user of the fork server (a pool); the last one out stops it
    (:func:`_stop_forkserver`). The first pool takes over an early start's count, so the
    server stops when that pool ends, not when the early start's block does."""
    if not forked:
        yield
        return
    with _POOLS_LOCK:
        if _HELD[0] is None:
            _POOLS[0] += 1
        _HELD[0] = None
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
    instead of waiting for its start (0.3 s of a 2-core machine's wall time). A server
    started on a guess (:func:`warm_start`) is taken over, or restarted if it guessed other
    decoders. Stopped when the first pool inside ends, or on exit when none came. Nothing
    happens where there is no fork server."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    wanted = frozenset({"mmcli.io.decode", *modules})
    with _POOLS_LOCK:
        held = _HELD[0]
        if held is None:
            _POOLS[0] += 1
        elif not wanted <= held.modules and _POOLS[0] == 1:  # guessed other decoders
            _stop_forkserver()
            held = None
        if held is None:
            started = _POOLS[0] == 1  # else another thread's pool runs it with its modules
            if started:
                _ensure_running(wanted)
            held = _Hold(wanted if started else frozenset(), guess=False)
        else:
            held = _Hold(held.modules, guess=False)
        _HELD[0] = held
    try:
        yield
    finally:
        _release(held)


@contextlib.contextmanager
def warm_start(modules: Iterable[str], fork: bool = False) -> Iterator[None]:
    """Start the fork server at once, on a guess that a decoding pool will come
    (:mod:`mmcli.cli.warm`: ``mmcli preprocess`` of a large table), importing ``modules`` (the
    decoders' modules) while this process imports the CLI and reads the table: 0.1-0.2 s
    earlier than :func:`start_server` can. Its count is held until :func:`start_server` takes
    it over or :func:`release_warm` drops it (no pool after all), at the latest when the
    block ends; the last user stops the server, so a wrong guess leaves no process behind.
    ``fork``: the server and the resource tracker are forks of this process, not new
    interpreters (:mod:`mmcli.io.forked`; for a process at its very start: the console
    script)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        yield
        return
    preload = frozenset({"mmcli.io.decode", *modules})
    with _POOLS_LOCK:
        _POOLS[0] += 1
        alone = _POOLS[0] == 1 and _HELD[0] is None
        if alone:
            _ensure_running(preload, fork=fork)
        hold = _Hold(preload if alone else frozenset(), guess=True)
        if _HELD[0] is None:
            _HELD[0] = hold
        else:  # another's early start holds the slot: ours is a plain count
            hold = None
    try:
        yield
    finally:
        if hold is None:
            with _POOLS_LOCK:
                _POOLS[0] -= 1
                if _POOLS[0] == 0:
                    _stop_forkserver()
        else:
            _release(hold)


def release_warm() -> None:
    """Drop the count of a start on a guess (:func:`warm_start`) if no one took it over: the
    server stops now unless a pool uses it."""
    held = _HELD[0]
    if held is not None and held.guess:
        _release(held)


@contextlib.contextmanager
def reaping_later() -> Iterator[None]:
    """Inside, a stopped fork server exits while this process goes on (writing the last
    rows, renaming the output: its exit, 0.03 s, is then off the critical path); it is
    reaped (with the CPU time of the workers it reaped) when the block ends, so that no
    process outlives the block. For a process about to end (the ``mmcli`` command)."""
    _REAPING[0] = []
    try:
        yield
    finally:
        reapers, _REAPING[0] = _REAPING[0] or [], None
        for reaper in reapers:
            reaper.join()


def _release(hold: _Hold) -> None:
    with _POOLS_LOCK:
        if _HELD[0] is not hold:  # taken over: its count is the taker's
            return
        _HELD[0] = None
        _POOLS[0] -= 1
        if _POOLS[0] == 0:
            _stop_forkserver()


def _ensure_running(modules: Iterable[str], fork: bool = False) -> None:
    """Start the fork server, importing ``modules``, with SIGINT blocked from its start (the
    mask is inherited through its exec; here it is only deferred). CPython's server ignores
    SIGINT only once its imports are done: a Ctrl-C, which reaches the terminal's whole
    process group, printed the server's traceback when it came during them (the first
    0.3 s of a preprocess since the warm start). Its workers inherit the mask. The same
    technique as CPython's resource tracker (``multiprocessing/resource_tracker.py``).
    ``fork`` (the console script's warm start, this process still small and
    single-threaded): the server and the resource tracker are forks of this process
    (:mod:`mmcli.io.forked`) where possible, not new interpreters."""
    import signal
    from multiprocessing import forkserver, resource_tracker

    if fork:
        from mmcli.io import forked

        if forked.start(modules):
            return

    multiprocessing.get_context("forkserver").set_forkserver_preload(sorted(modules))
    # first: its own start unblocks SIGINT when done; started with CPython's "leaked ...
    # objects" warnings off (it unlinks them after a kill -9 all the same), as a forked one
    sys.warnoptions.append(_TRACKER_QUIET)  # passed to the new interpreter as -W
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(_TRACKER_QUIET)
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is not None:
        mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        forkserver.ensure_running()  # returns at once; the server imports meanwhile
    finally:
        if mask is not None:
            mask(signal.SIG_UNBLOCK, {signal.SIGINT})


_TRACKER_QUIET = "ignore::UserWarning:multiprocessing.resource_tracker"


def pool_context(chunk: list[tuple[Any, Any]]) -> Any:
    """The workers' start method: "forkserver" where the platform has it, else "spawn".

    A spawned worker starts a new interpreter and imports the decoders' modules itself
    (NumPy and Pillow, or soundfile and soxr: 0.12-0.15 CPU s a worker on the 2-core
    machine). A fork server imports them once (``set_forkserver_preload``: the decode module and
    the modules of the first chunk's decoders, a decoder's ``preload`` where it names the one
    doing its work) and forks each worker from itself.
    Workers are never forked from this process itself: it has threads (the shard syncer) and
    pandas/pyarrow state by then (only the warm start forks it, at the process start, into
    the fork server: :mod:`mmcli.io.forked`).
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
    no idle process stays behind, and the next pool's server preloads that pool's decoders.
    Inside :func:`reaping_later`, the server is told to stop and reaped by a thread."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    reapers = _REAPING[0]
    pid = getattr(server, "_forkserver_pid", None)
    if reapers is not None and pid is not None and _told_to_stop(server):
        reaper = threading.Thread(target=os.waitpid, args=(pid, 0), name="mmcli-reaper",
                                  daemon=True)
        reaper.start()
        reapers.append(reaper)
        return
    stop = getattr(server, "_stop", None)
    if stop is not None:  # CPython's (private) stop; absent elsewhere: the server exits
        stop()  # with this process instead


def _told_to_stop(server: Any) -> bool:
    """CPython's ``ForkServer._stop_unlocked`` without its wait: the server's "alive" pipe
    closed (it exits), its socket removed. False where its fields differ (another Python)."""
    from multiprocessing import util

    fields = ("_lock", "_forkserver_alive_fd", "_forkserver_pid", "_forkserver_address")
    if not all(hasattr(server, name) for name in fields):
        return False
    with server._lock:
        if server._forkserver_pid is None:
            return False
        os.close(server._forkserver_alive_fd)
        address = server._forkserver_address
        server._forkserver_alive_fd = server._forkserver_pid = None
        server._forkserver_address = None
        if not util.is_abstract_socket_namespace(address):
            os.unlink(address)
    return True
