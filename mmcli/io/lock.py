"""One writer per output: an exclusive, non-blocking ``flock`` on a sibling lock file.

``<parent>/.<name>.lock`` is locked while a command writes ``<name>`` (and its checkpoints).
A second mmcli process that wants the same output is refused at once with
:class:`~mmcli.errors.OutputLockedError`. The kernel releases a ``flock`` when its holder
dies, so a process killed with ``kill -9`` never leaves a lock that blocks: its lock file
may remain, but the next run locks it again and removes it when done.

The lock is re-entrant within one process (train holds it for the whole run, and the
atomic writers it calls take it again).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mmcli.errors import OutputLockedError, UsageError

_HELD: dict[Path, list[int]] = {}  # lock path -> [fd, depth], for re-entry in this process


def lock_path(target: Path) -> Path:
    """The lock file of an output path."""
    target = Path(target)
    return target.parent / f".{target.name}.lock"


@contextmanager
def output_lock(target: Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``target`` for the block.

    Raises:
        OutputLockedError: another process holds it (the message names its pid).
        UsageError: the lock (``target``'s folder) cannot be made there: under a file,
            without permission, on a read-only file system ...
    """
    path = lock_path(Path(target)).absolute()
    held = _HELD.get(path)
    if held is not None:
        held[1] += 1
        try:
            yield path
        finally:
            held[1] -= 1
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = _acquire(path, Path(target))
    except OutputLockedError:
        raise
    except OSError as exc:  # its folder cannot be made (under a file, in /proc ...)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # out of resources (exit 7)
            raise
        why = (f"{exc.filename} is a file, not a folder"
               if exc.errno in (errno.EEXIST, errno.ENOTDIR) and exc.filename
               else f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}")
        raise UsageError(f"cannot write {target}: {why}; choose another --out") from None
    _HELD[path] = [fd, 1]
    try:
        yield path
    finally:
        del _HELD[path]
        _release(fd, path)


def _acquire(path: Path, target: Path) -> int:
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = _holder(path)
            raise OutputLockedError(
                f"{target} is being written by another mmcli process"
                f"{f' (pid {holder})' if holder else ''}; wait for it to finish or "
                "choose another --out"
            ) from None
        # The previous holder may have removed the file between our open and flock:
        # then we hold a lock on an unlinked inode, and must start again.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _release(fd: int, path: Path) -> None:
    try:
        path.unlink(missing_ok=True)  # while still locked: no one can be holding it
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
