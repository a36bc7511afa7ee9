"""Where a table's image cells point: a path resolved under the data root, or the files of an
``--image-dir`` indexed by id. Nothing here opens an image (:mod:`mmcli.io.images` decodes).
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path

from mmcli.errors import ImageError, UsageError
from mmcli.io.decode import describe

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".avif")


def index_image_dir(folder: Path) -> tuple[dict[str, Path], set[str]]:
    """Index a folder of images named ``<id>.<ext>`` (not recursive).

    A stem with no file of an image suffix but one other file (``a.heic``) maps to that
    file, so decoding it names the real cause (``unreadable``) instead of "no image".

    Returns:
        ``(stem -> path, ambiguous stems)``: a stem with several image files (``a.jpg``
        and ``a.png``) is listed as ambiguous and maps to none of them.

    Raises:
        UsageError: ``folder`` is not a readable folder.
    """
    found: dict[str, Path] = {}
    ambiguous: set[str] = set()
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        raise UsageError(f"--image-dir {str(folder)!r}: {describe(exc)}") from None
    others: dict[str, list[Path]] = {}
    for entry in entries:
        stem, dot, ext = entry.name.rpartition(".")
        if not dot or not stem:
            continue
        if f".{ext.lower()}" not in IMAGE_SUFFIXES:
            others.setdefault(stem, []).append(Path(entry.path))
            continue
        if stem in found or stem in ambiguous:
            ambiguous.add(stem)
            found.pop(stem, None)
            continue
        found[stem] = Path(entry.path)
    for stem, paths in others.items():
        if stem not in found and stem not in ambiguous and len(paths) == 1:
            found[stem] = paths[0]
    return found, ambiguous


def resolve_image_path(value: str, root: Path, *, allow_outside_root: bool = False) -> Path:
    """Resolve a table cell to an image file under ``root``.

    Relative values are taken from ``root``; absolute values must lie inside it. A relative
    value written with Windows separators (``photos\\a.png``) is the file with ``/`` in their
    place when no file has the name as written.
    The path is first normalised lexically (``..`` removed without touching the file
    system) and refused when that already leads outside ``root``: nothing outside is
    stat-ed, lstat-ed or opened, so the answer says nothing about files there. A path
    lexically inside is then resolved (only the symlinks on the way inside ``root`` are
    read), and refused when a symlink leads out.

    Args:
        value: The cell text, e.g. ``"imgs/a.jpg"``.
        root: Folder the paths are relative to (usually the table's folder).
        allow_outside_root: Accept paths that resolve outside ``root``.

    Returns:
        The resolved absolute path of an existing regular file.

    Raises:
        ImageError: reason ``outside_root``, ``missing``, ``not_a_file`` or ``unreadable``.
    """
    try:
        return _resolve(value, root, allow_outside_root)
    except ImageError as exc:
        if exc.reason != "missing" or "\\" not in value or os.sep == "\\":
            raise
        posix = value.replace("\\", "/")
        if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
            raise  # an absolute Windows path: no such file here
        try:
            return _resolve(posix, root, allow_outside_root)
        except ImageError:
            raise exc from None


def _inside(path: str, base: str) -> bool:
    return path == base or path.startswith(base.rstrip(os.sep) + os.sep)


def _resolve(value: str, root: Path, allow_outside_root: bool) -> Path:
    if not value or not value.strip() or "\x00" in value:
        raise ImageError("missing", f"invalid image path {value!r}: empty or contains a NUL byte")
    base = _real_root(str(root))
    joined = os.path.join(base, value)  # an absolute value replaces base
    outside = ImageError(
        "outside_root", f"image path {value!r} is outside the data folder '{base}'"
    )
    # Lexically first (``..`` removed without touching the file system): a path that already
    # leads outside is never stat-ed, lstat-ed or opened. Then symlinks inside the root are
    # resolved, and a symlink leading out is refused too.
    if not allow_outside_root and not _inside(os.path.normpath(joined), base):
        raise outside
    path, mode = _realpath(joined)
    if not allow_outside_root and not _inside(path, base):
        raise outside
    try:
        mode = os.stat(path).st_mode if mode is None else mode
    except (FileNotFoundError, NotADirectoryError):
        raise ImageError("missing", f"image {value!r} not found (looked for '{path}')") from None
    except OSError as exc:
        raise ImageError("unreadable", f"cannot read image {value!r}: {describe(exc)}") from None
    if not stat.S_ISREG(mode):
        raise ImageError("not_a_file", f"image path {value!r} is not a regular file")
    return Path(path)


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
    """A folder's resolved path (cached: a table's images share a few folders)."""
    return os.path.realpath(folder)


@functools.lru_cache(maxsize=64)
def _real_root(root: str) -> str:
    """The resolved data root (cached: every row of a table shares it)."""
    return os.path.realpath(root)
