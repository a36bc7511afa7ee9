"""Where a table's image cells point: a path resolved under the data root, or the files of an
``--image-dir`` indexed by id. Nothing here opens an image (:mod:`mmcli.io.images` decodes).
"""

from __future__ import annotations

import os
from pathlib import Path

from mmcli.errors import ImageError, UsageError
from mmcli.io.decode import describe
from mmcli.io.paths import resolve_path

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
    """Resolve a table cell to an image file under ``root``: :func:`mmcli.io.paths.resolve_path`
    (Windows separators resolved; a path outside ``root`` refused before anything outside is
    looked at).

    Raises:
        ImageError: reason ``outside_root``, ``missing``, ``not_a_file`` or ``unreadable``.
    """
    return resolve_path(value, root, what="image", error=ImageError,
                        allow_outside_root=allow_outside_root)
