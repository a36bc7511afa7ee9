"""Read image files named in a table: decode them, report faults (their paths are resolved by
:mod:`mmcli.io.image_paths`, re-exported here).

Each image becomes a ``(size, size, 3)`` ``uint8`` RGB array. The image is stretched
to the square (aspect ratio is not kept), after its EXIF orientation is applied and
any alpha is composited over a background colour. Every fault in one file becomes an
``ImageError`` with a stable ``reason`` (see ``mmcli.errors``), so callers can reject
that row and carry on. Only ``FORMATS`` (JPEG, PNG, GIF, BMP, TIFF, WEBP, and AVIF when this
Pillow reads it) are opened: other Pillow plugins (EPS, for one, runs Ghostscript) are never
tried. The warnings Pillow raises while reading a file never reach stderr: they become the
file's notes (:func:`load_image_noted`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import stat
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mmcli.errors import ImageError
from mmcli.io.decode import Noted, decode_jobs, describe
from mmcli.io.image_decoder import ImageDecoder as ImageDecoder  # light: the planning side
from mmcli.io.image_decoder import ImageOptions as ImageOptions
from mmcli.io.image_paths import IMAGE_SUFFIXES as IMAGE_SUFFIXES  # path resolution lives there
from mmcli.io.image_paths import index_image_dir as index_image_dir
from mmcli.io.image_paths import resolve_image_path as resolve_image_path

# JPEG includes MPO (phone photos); AVIF only where this Pillow has the plugin (Pillow >= 11.2)
FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP", "AVIF")
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError)


def load_image(path: Path | str, options: ImageOptions) -> np.ndarray:
    """Decode one image file into a square RGB array.

    Args:
        path: The image file.
        options: Output size, limits and background colour.

    Returns:
        A C-contiguous ``(options.size, options.size, 3)`` ``uint8`` array. The image is
        stretched to the square; its aspect ratio is not kept.

    Raises:
        ImageError: reason ``missing``, ``not_a_file``, ``unreadable``, ``truncated``,
            ``too_large`` or ``too_small``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check max_pixels
        return _load(path, options)


def _load(path: Path | str, options: ImageOptions) -> np.ndarray:
    """:func:`load_image` without its warnings filter (the caller sets one)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # never open a FIFO or device: it may block
            raise _error("not_a_file", path, "not a regular file")
        with Image.open(path, formats=_known_formats()) as img:
            return _to_array(img, path, options)
    except ImageError:
        raise
    except (FileNotFoundError, NotADirectoryError):
        raise _error("missing", path, "file not found") from None
    except IsADirectoryError:  # only if it changed since the stat above
        raise _error("not_a_file", path, "is a directory") from None
    except Image.DecompressionBombError as exc:
        raise _error("too_large", path, _describe(exc)) from None
    except UnidentifiedImageError:
        raise _error(
            "unreadable", path, "cannot identify image file (not a supported image format)"
        ) from None
    except _DECODE_ERRORS as exc:
        reason = "truncated" if "truncated" in str(exc).lower() else "unreadable"
        raise _error(reason, path, _describe(exc)) from None


def load_image_noted(path: Path | str, options: ImageOptions) -> np.ndarray | Noted:
    """:func:`load_image`, with the warnings Pillow raised while reading the file (a corrupt
    EXIF block, a palette with transparency in bytes ...) caught instead of printed.

    Returns:
        The array, or a :class:`~mmcli.io.decode.Noted` of the array and one note per
        distinct warning (``"<path>: <warning>"``) when there were some.

    Raises:
        ImageError: as :func:`load_image`.
    """
    if _chunk_warnings is not None:  # inside chunk_warnings(): its filter context
        start = len(_chunk_warnings)
        try:
            array = _load(path, options)
            caught = _chunk_warnings[start:]
        finally:
            del _chunk_warnings[start:]
    else:
        with _recording() as caught:  # one filter context per file
            array = _load(path, options)
    notes = tuple(dict.fromkeys(f"{path}: {' '.join(str(w.message).split())}" for w in caught))
    return Noted(array, notes) if notes else array


_chunk_warnings: list | None = None  # the warnings of the chunk being decoded, if any


@contextlib.contextmanager
def _recording() -> Iterator[list]:
    """Catch every warning raised inside (none printed), in a list."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check max_pixels
        yield caught


@contextlib.contextmanager
def chunk_warnings() -> Iterator[None]:
    """One warnings-filter context for a chunk of files (:meth:`ImageDecoder.chunk`): each
    file's notes are the warnings it raised, as with a context per file, without the cost of
    one per file."""
    global _chunk_warnings
    if _chunk_warnings is not None:  # already inside one
        yield
        return
    with _recording() as caught:
        _chunk_warnings = caught
        try:
            yield
        finally:
            _chunk_warnings = None


def decode_images(
    paths: Iterable[Path], options: ImageOptions, *, workers: int = 1, chunk_size: int = 64
) -> Iterator[tuple[int, np.ndarray | ImageError]]:
    """Decode many images, in input order, returning faults (``ImageError``) in place of
    arrays; see :func:`mmcli.io.decode.decode_jobs` for ``workers`` and ``chunk_size``."""
    decoder = ImageDecoder(options)
    results = decode_jobs(((decoder, path) for path in paths), workers=workers,
                          chunk_size=chunk_size, error=ImageError)
    return ((i, r.value if isinstance(r, Noted) else r) for i, r in results)


def _to_array(img: Image.Image, path: Path, options: ImageOptions) -> np.ndarray:
    """Check the header size, then decode, orient, flatten to RGB and resize."""
    width, height = img.size
    if width * height > options.max_pixels:
        limit = f"more than --max-pixels {options.max_pixels}"
        raise _error("too_large", path, f"{width}x{height} pixels is {limit}")
    if min(width, height) < options.min_side:
        limit = f"under --min-image-side {options.min_side} on a side"
        raise _error("too_small", path, f"{width}x{height} pixels is {limit}")
    img.draft("RGB", (options.size, options.size))  # JPEG only: decode at a reduced scale
    img.load()
    if img.format != "JPEG" or any(key in img.info for key in _ORIENTATION_KEYS):
        ImageOps.exif_transpose(img, in_place=True)  # no copy when there is nothing to undo
    rgb = _to_rgb(img, options.background)
    rgb = rgb.resize((options.size, options.size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    if rgb.mode == "RGB":  # the bytes as they are: np.asarray's array interface costs more
        return np.frombuffer(rgb.tobytes(), np.uint8).reshape(options.size, options.size, 3)
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


# Where a JPEG can carry an orientation (Image.getexif reads these): a JPEG with none of them
# has orientation 1, so exif_transpose (a fifth of a small image's decoding) is skipped.
_ORIENTATION_KEYS = ("exif", "Raw profile type exif", "XML:com.adobe.xmp", "xmp")


def _to_rgb(img: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Convert any mode to RGB; alpha is composited over ``background``.

    16-bit (``I;16*``) and ``I`` pixels are read as 0..65535 and divided by 256;
    ``F`` (32-bit float) pixels are read as 0..1 when none exceeds 1 (as scientific and HDR
    tools write them: 1.0 is white), else as 0..255, and clipped.
    """
    if img.mode in _SIXTEEN_BIT_MODES:
        pixels = np.clip(np.asarray(img, dtype=np.int64), 0, 65535) >> 8
        return Image.fromarray(pixels.astype(np.uint8)).convert("RGB")
    if img.mode == "F":
        pixels = np.nan_to_num(np.asarray(img, dtype=np.float64), posinf=0.0, neginf=0.0)
        if pixels.size and pixels.max() <= 1.0:
            pixels = pixels * 255.0
        pixels = np.clip(pixels, 0, 255)
        return Image.fromarray(np.rint(pixels).astype(np.uint8)).convert("RGB")
    if "A" in img.getbands() or "a" in img.getbands() or "transparency" in img.info:
        layer = img.convert("RGBA")
        canvas = Image.new("RGBA", img.size, (*background, 255))
        return Image.alpha_composite(canvas, layer).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")  # resize makes the copy


# The plugin module of each of FORMATS that Image.preinit() does not import (JPEG, PNG, GIF,
# BMP are imported by it).
_PLUGINS = ("TiffImagePlugin", "WebPImagePlugin", "AvifImagePlugin")


@functools.lru_cache(maxsize=1)
def _known_formats() -> tuple[str, ...]:
    """Returns: the ``FORMATS`` this Pillow can open (an unknown name makes it raise).

    Only their plugins are imported: ``Image.init()`` would import all of Pillow's ~45 plugins
    (a third of a second of CPU in every decoding process), and no other is ever tried.
    """
    Image.preinit()
    for module in _PLUGINS:
        try:
            importlib.import_module(f"PIL.{module}")
        except ImportError:  # AVIF before Pillow 11.2: not among the formats then
            pass
    return tuple(name for name in FORMATS if name in Image.OPEN)


def _error(reason: str, path: Path, cause: str) -> ImageError:
    """Returns: an ``ImageError`` whose one-line message names the file and the cause."""
    return ImageError(reason, f"cannot decode image '{path}': {cause}")


_describe = describe


_known_formats()  # once in the fork server the decoding workers are forked from, not in each
