"""Resolve a file path named in a table cell under the data root, for any file kind (images,
audio ...), refusing a path outside the root before the file is opened or stat-ed."""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from mmcli.errors import CellError
from mmcli.io.decode import describe


def resolve_path(value: str, root: Path, *, what: str, error: type[CellError] = CellError,
                 allow_outside_root: bool = False) -> Path:
    """Resolve a table cell to a regular file under ``root``.

    Relative values are taken from ``root``; absolute values must lie inside it. A relative
    value written with Windows separators (``photos\\a.png``) is the file with ``/`` in their
    place when no file has the name as written. The path is first normalised lexically
    (``..`` removed without touching the file system) and refused when that already leads
    outside ``root``: nothing outside is stat-ed, lstat-ed or opened, so the answer says
    nothing about files there. A path lexically inside is then resolved (only the symlinks
    on the way inside ``root`` are read), and refused when a symlink leads out.

    Args:
        value: The cell text, e.g. ``"imgs/a.jpg"``.
        root: Folder the paths are relative to (usually the table's folder).
        what: The kind of file, for messages (``"image"``, ``"audio"``).
        error: The :class:`CellError` subclass raised.
        allow_outside_root: Accept paths that resolve outside ``root``.

    Returns:
        The resolved absolute path of an existing regular file.

    Raises:
        CellError (``error``): reason ``outside_root``, ``missing``, ``not_a_file`` or
            ``unreadable``.
    """
    return Path(resolve_file(value, root, what=what, error=error,
                             allow_outside_root=allow_outside_root))


def resolve_file(value: str, root: Path, *, what: str, error: type[CellError] = CellError,
                 allow_outside_root: bool = False) -> str:
    """:func:`resolve_path`, the path as a ``str`` (no ``Path`` made per row: the preparers
    hand it to worker processes as it is)."""
    try:
        return _resolve(value, root, what, error, allow_outside_root)
    except CellError as exc:
        if exc.reason != "missing" or "\\" not in value or os.sep == "\\":
            raise
        posix = value.replace("\\", "/")
        if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
            raise  # an absolute Windows path: no such file here
        try:
            return _resolve(posix, root, what, error, allow_outside_root)
        except CellError:
            raise exc from None


def _resolve(value: str, root: Path, what: str, error: type[CellError],
             allow_outside_root: bool) -> str:
    if not value or not value.strip() or "\x00" in value:
        raise error("missing", f"invalid {what} path {value!r}: empty or contains a NUL byte")
    base = _real_root(str(root))
    joined = os.path.join(base, value)  # an absolute value replaces base
    skip = allow_outside_root or (".." not in value and not os.path.isabs(value))
    if not skip and not _inside(os.path.normpath(joined), base):  # (a relative value
        raise _outside(value, base, what, error)  # without ".." is lexically inside)
    path, mode = _realpath(joined)
    if not allow_outside_root and not _inside(path, base):
        raise _outside(value, base, what, error)
    try:
        mode = os.stat(path).st_mode if mode is None else mode
    except (FileNotFoundError, NotADirectoryError):
        raise error("missing", f"{what} {value!r} not found (looked for '{path}')") from None
    except OSError as exc:
        raise error("unreadable", f"cannot read {what} {value!r}: {describe(exc)}") from None
    if not stat.S_ISREG(mode):
        raise error("not_a_file", f"{what} path {value!r} is not a regular file")
    return path


def _outside(value: str, base: str, what: str, error: type[CellError]) -> CellError:
    """The ``outside_root`` error (made only when raised: most paths are inside)."""
    return error("outside_root", f"{what} path {value!r} is outside the data folder '{base}'")


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def _realpath(joined: str) -> tuple[str, int | None]:
    """``os.path.realpath(joined)`` (which only lstat-s and reads symlinks; Path.resolve would
    also stat the target), with its folder resolved once for all the files in it, and the
    file's mode when that lstat already tells it (a regular file, not a symlink)."""
    head, tail = os.path.split(joined)
    if tail in ("", ".", ".."):
        return os.path.realpath(joined), None
    candidate = os.path.join(_real_folder(head), tail)
    try:
        mode = os.lstat(candidate).st_mode
    except OSError:
        return candidate, None  # does not exist (or cannot be read): stat says which
    if stat.S_ISLNK(mode):
        return os.path.realpath(candidate), None
    return candidate, mode


@functools.lru_cache(maxsize=4096)
def _real_folder(folder: str) -> str:
    """A folder's resolved path (cached: a table's files share a few folders)."""
    return os.path.realpath(folder)


@functools.lru_cache(maxsize=64)
def _real_root(root: str) -> str:
    """The resolved data root (cached: every row of a table shares it)."""
    return os.path.realpath(root)
