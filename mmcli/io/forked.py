"""Start CPython's resource tracker and fork server as forks of this process, while it is
still small and has one thread, instead of as new interpreters.

CPython starts each of the two as a new interpreter (``spawnv_passfds``: exec, the
interpreter's start, ``site``, the multiprocessing modules), 0.03-0.05 CPU s apiece, at the
very moment the 2-core machine is busiest: this process imports the CLI and reads the table
while the server imports the decoders' modules, and the workers can start only once the
server is ready. Forked at the start of ``mmcli preprocess`` (:func:`mmcli.io.server.warm_start`)
they skip all that. Each child then runs CPython's own ``main`` of the tracker or the server
with only the file descriptors the spawned one would have (standard streams, its pipe or
socket), its signals as the spawned one has them, the garbage collector on, and ends with
``os._exit`` (never this process's ``atexit`` handlers); this process records them where
CPython records a spawned one, so everything else (workers, stopping, reaping) is CPython's.

Not done (:func:`start` returns False, and the caller spawns them as CPython does) where
there is no ``fork``, where this process has more than one thread, where either is running
already, or where CPython's private fields are not the ones of 3.11-3.12.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections.abc import Iterable, Set

_TRACKER_FIELDS = ("_lock", "_fd", "_pid")
_SERVER_FIELDS = ("_lock", "_forkserver_address", "_forkserver_alive_fd", "_forkserver_pid",
                  "_preload_modules")


def start(modules: Iterable[str]) -> bool:
    """Fork the resource tracker (unless running) and the fork server, the server importing
    ``modules``; True when done, False when not possible (nothing started then)."""
    if not hasattr(os, "fork") or sys.platform != "linux" or threading.active_count() != 1:
        return False
    from multiprocessing import forkserver, resource_tracker

    tracker, server = resource_tracker._resource_tracker, forkserver._forkserver
    if not all(hasattr(tracker, f) for f in _TRACKER_FIELDS) or \
            not all(hasattr(server, f) for f in _SERVER_FIELDS) or \
            server._forkserver_pid is not None or sys.version_info[:2] not in ((3, 11), (3, 12)):
        return False
    for stream in (sys.stdout, sys.stderr):  # nothing buffered twice in the children
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    with tracker._lock:
        if tracker._fd is None:
            _fork_tracker(tracker)
    with server._lock:
        _fork_server(server, sorted(modules))
    return True


def _fork_tracker(tracker: object) -> None:
    """``ResourceTracker.ensure_running`` with a fork: the child reads the pipe, and unlinks
    what this process (killed outright) left without CPython's "leaked ... objects"
    warnings, which came into the user's terminal after ``kill -9`` (4 lines)."""
    from multiprocessing import resource_tracker

    read, write = os.pipe()
    with _signals_blocked({signal.SIGINT, signal.SIGTERM}):  # as CPython's: until main()
        pid = os.fork()  # sets its handlers (ignored) and unblocks them
        if pid == 0:
            _child(lambda: _quietly(resource_tracker.main, read), keep={read})
    os.close(read)
    tracker._fd, tracker._pid = write, pid


def _fork_server(server: object, preload: list[str]) -> None:
    """``ForkServer.ensure_running`` with a fork: the child serves the socket, importing
    ``preload`` first, and ends when every holder of the "alive" pipe's other end is gone."""
    import socket
    from multiprocessing import connection, forkserver, util

    with socket.socket(socket.AF_UNIX) as listener:
        address = connection.arbitrary_address("AF_UNIX")
        listener.bind(address)
        if not util.is_abstract_socket_namespace(address):
            os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()
        with _signals_blocked({signal.SIGINT}):  # see mmcli.io.server._ensure_running
            pid = os.fork()
            if pid == 0:
                fd = listener.fileno()
                _child(lambda: forkserver.main(fd, alive_r, preload), keep={fd, alive_r})
        os.close(alive_r)
    server._preload_modules = preload
    server._forkserver_address, server._forkserver_alive_fd = address, alive_w
    server._forkserver_pid = pid


def _child(run, keep: Set[int]) -> None:
    """In a forked child: keep only the standard streams and ``keep`` open, SIGTERM as a
    new process has it, collection on; run; exit without this process's exit handlers."""
    code = 1
    try:
        _close_all_but({0, 1, 2, *keep})
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # this process's handler raises
        gc.enable()  # the console script pauses it while it starts
        run()
        code = 0
    except SystemExit as exc:  # the server's way out: no client left
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - a child must never return into the caller
        code = 1
    finally:
        os._exit(code)


def _quietly(run, *args: object) -> None:
    """``run(*args)`` with its ``UserWarning``s unsaid (the resource tracker's)."""
    import warnings

    warnings.simplefilter("ignore", UserWarning)
    run(*args)


def _close_all_but(keep: Set[int]) -> None:
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


class _signals_blocked:  # noqa: N801 - used as a context manager, like contextlib's
    """Block ``signals`` in this thread inside the block (inherited by a fork)."""

    def __init__(self, signals: set[int]):
        self.signals = signals

    def __enter__(self) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, self.signals)

    def __exit__(self, *exc: object) -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, self.signals)
