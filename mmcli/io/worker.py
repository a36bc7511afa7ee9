"""What a decoding worker process does first (the pool's ``initializer``): ignore Ctrl-C,
and end when the process it decodes for ends.

Why the second: a pool's workers wait for their next chunk on a pipe they also hold the
writing end of, and the fork server they come from waits until no process holds the pipe
its clients keep open, which the workers do too. A main process killed outright
(``kill -9``, the kernel's out-of-memory killer) therefore left the server, the workers
(a decoder's memory each) and, through them, the shared-memory ring and the resource
tracker, for good. A worker now watches the main process (a Linux pidfd, no polling) and
exits when it ends; the server then sees its clients gone and exits, and the resource
tracker unlinks what was left. Where there is no pidfd (macOS, Linux before 5.3) nothing is
watched.
"""

from __future__ import annotations

import os
import select
import signal
import threading


def start_worker(main_pid: int) -> None:
    """In a worker, first: :func:`ignore_interrupts`, and exit once process ``main_pid`` has
    ended (at once if it already has)."""
    ignore_interrupts()
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:
        return
    try:
        pidfd = pidfd_open(main_pid)
    except ProcessLookupError:  # ended before this worker started
        os._exit(1)
    except OSError:  # no pidfd in this kernel, or not allowed: not watched
        return
    threading.Thread(target=_exit_after, args=(pidfd,), name="mmcli-watch-main",
                     daemon=True).start()


def ignore_interrupts() -> None:
    """Ignore SIGINT. Ctrl-C reaches the terminal's whole process group, workers included;
    the main process handles it (the pool shut down, ``mmcli: interrupted``), while a
    worker interrupted waiting for its next chunk printed a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _exit_after(pidfd: int) -> None:
    select.select([pidfd], [], [])  # readable once the process has ended
    os._exit(1)
