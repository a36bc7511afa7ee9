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


class FileResolver:
    """:func:`resolve_file` for the many cells of one table: the same answer (the path, or the
    error) with less work a cell. The data root is resolved once, and each folder named in the
    cells once (its real path; whether it lies lexically inside the root); a cell in a known
    folder then costs one ``lstat`` of its file.

    The short way is taken only by a cell in a folder learnt from an earlier cell that
    :func:`resolve_file` accepted, whose file name is a plain one (not ``.``, ``..`` or
    empty; no NUL) and which names a regular file, not a symlink, inside the root (or
    anywhere with ``allow_outside_root``). Anything else, and any fault, goes through
    :func:`resolve_file` itself, so checks and messages are its own. Nothing is looked at
    that it would not look at: a known folder lies lexically inside the root, and its real
    path is what ``os.path.realpath`` gave :func:`resolve_file` for it.

    Args:
        root: Folder the paths are relative to.
        what: The kind of file, for messages (``"image"``, ``"audio"``).
        error: The :class:`CellError` subclass raised.
        allow_outside_root: Accept paths that resolve outside ``root``.
    """

    def __init__(self, root: Path, *, what: str, error: type[CellError] = CellError,
                 allow_outside_root: bool = False):
        self.root, self.what, self.error = root, what, error
        self.allow_outside_root = allow_outside_root
        self.base = _real_root(str(root))
        self.inside = self.base.rstrip(os.sep) + os.sep  # what a path inside starts with
        # a cell's folder as written, with its "/" (none: the root) -> its real path + "/"
        self.folders: dict[str, str] = {}

    def resolve(self, value: str) -> str:
        """The resolved absolute path of ``value``'s regular file (a ``str``).

        Raises:
            CellError (``error``): reason ``outside_root``, ``missing``, ``not_a_file`` or
                ``unreadable``, as :func:`resolve_file` raises them.
        """
        folder, sep, name = value.rpartition("/")
        real = self.folders.get(folder + sep)
        if real is None or name in _NOT_NAMES or "\x00" in name:
            return self._resolve_slowly(value)
        path = real + name
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return self._resolve_slowly(value)
        if stat.S_ISREG(mode) and (self.allow_outside_root or path.startswith(self.inside)):
            return path
        return self._resolve_slowly(value)

    def _resolve_slowly(self, value: str) -> str:
        """:func:`resolve_file`; the cell's folder learnt when a plain name in it may take
        the short way (it lies lexically inside the root, or ``allow_outside_root``)."""
        path = resolve_file(value, self.root, what=self.what, error=self.error,
                            allow_outside_root=self.allow_outside_root)
        folder, sep, name = value.rpartition("/")
        if name not in _NOT_NAMES and "\\" not in value and "\x00" not in value:
            head = os.path.split(os.path.join(self.base, value))[0]  # as _realpath splits
            if self.allow_outside_root or _inside(os.path.normpath(head), self.base):
                self.folders[folder + sep] = os.path.join(_real_folder(head), "")
        return path


_NOT_NAMES = ("", ".", "..")  # a last part that is no file's name (_realpath resolves it all)


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
