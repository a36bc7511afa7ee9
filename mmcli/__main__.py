"""``python -m mmcli`` and the ``mmcli`` console script (``[project.scripts]``).

The CLI is imported inside :func:`main`, not here: a decoding worker started by
multiprocessing re-runs the console script under another name, and would otherwise import
the whole CLI (Typer, rich, every command module: ~0.12 CPU s a worker) for nothing.
"""

import signal
import sys


class Terminated(SystemExit):
    """SIGTERM (``kill PID``): raised in the main thread so that every ``finally`` runs as
    for Ctrl-C (the decoding pool and its fork server stopped, the shared memory unlinked,
    the temporary output removed). Killed outright instead, the process left the fork
    server, its workers and their shared memory running for good, holding stderr open."""


def _terminated(signum: int, frame: object) -> None:
    from mmcli.errors import EXIT_TERMINATED

    _stopping()
    raise Terminated(EXIT_TERMINATED)


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: ``KeyboardInterrupt``, as Python's own handler, once (see :func:`_stopping`)."""
    _stopping()
    raise KeyboardInterrupt


def _stopping() -> None:
    """The command is stopping and cleaning up: a second Ctrl-C or SIGTERM (a hurried user,
    ``timeout -s INT``, which signals the command and then its group) raised inside that
    cleanup broke it off half-way: the pool's shutdown, a generator's or finalizer's
    "Exception ignored" traceback on stderr, the shared memory left to the resource tracker.
    From now on they are ignored (``kill -9`` still ends the process at once)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) in (_interrupted, _terminated):
            signal.signal(signum, _ignored)


def _ignored(signum: int, frame: object) -> None:
    """A handler that does nothing (not ``SIG_IGN``, which a program started later would
    inherit)."""


def _null_for_closed_streams() -> None:
    """/dev/null for a standard stream closed when the process started (``>&-``, ``2>&-``):
    Python leaves it None, so every write (and the final flush) raised AttributeError, and a
    run that succeeded ended with exit 1 and a traceback. Its descriptor is taken too, or
    the next file opened would get it (and a child its content as its stdout)."""
    import os

    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        setattr(sys, name, open(fd, "r" if fd == 0 else "w", encoding="utf-8",
                                errors="backslashreplace" if fd == 2 else "strict",
                                closefd=False))


def main() -> None:
    """Console-script entry point: run the ``mmcli`` command. A preprocess that will likely
    decode in a pool starts the pool's fork server first (:mod:`mmcli.cli.warm`). The
    process then ends without the interpreter's teardown
    (:func:`mmcli.cli.quick_exit.quick_exit`), once the warm start's server is reaped. The
    garbage collector is off until the command runs (:mod:`mmcli.cli.collector`)."""
    from mmcli.cli.collector import pause

    pause()
    _null_for_closed_streams()
    from mmcli.cli.quick_exit import quick_exit
    from mmcli.cli.warm import warm

    code: object = 0
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup)
        signal.signal(signal.SIGINT, _interrupted)
    try:
        with warm(sys.argv[1:]):
            from mmcli.cli.app import main as run

            run()
    except Terminated as exc:
        sys.stderr.write("mmcli: terminated\n")
        code = exc.code
    except SystemExit as exc:
        code = exc.code
    except KeyboardInterrupt:  # Ctrl-C before the command's own handler: while importing
        from mmcli.errors import EXIT_INTERRUPTED  # the CLI (mmcli.cli.errors has the rest)

        sys.stderr.write("mmcli: interrupted\n")
        code = EXIT_INTERRUPTED
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the cleanup is done: a kill now ends it
    quick_exit(code)


if __name__ == "__main__":
    main()
