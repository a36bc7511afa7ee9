"""Files sent with a request (images, audio): checked that they decode as their kind, then
written to the request's spool folder, where the row path reads them like any table's file.

The spool folder is private to the server (``mkdtemp``) and each request's files are removed
once its rows are decoded.
"""

from __future__ import annotations

import io
from pathlib import Path

from mmcli.serve.requests import RequestError


def file_suffix(kind: str, data: bytes, field: str) -> str:
    """The file name suffix for an upload of ``kind`` (``.png``, ``.wav`` ...), after a
    check that the bytes are a file of that kind (only its header is read).

    Raises:
        RequestError: 422 the bytes are not an image (audio) mmcli reads.
    """
    if kind == "image":
        return _image_suffix(data, field)
    if kind == "audio":
        return _audio_suffix(data, field)
    return ".bin"  # another kind's decoder judges it (a fault becomes the row's issue)


def _image_suffix(data: bytes, field: str) -> str:
    from PIL import Image, UnidentifiedImageError

    from mmcli.io.images import FORMATS

    Image.init()
    known = [name for name in FORMATS if name in Image.OPEN]  # as mmcli.io.images opens files
    try:
        with Image.open(io.BytesIO(data), formats=known) as image:
            found = image.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise RequestError(422, field, f"not an image mmcli can decode ({type(exc).__name__}; "
                                       f"formats: {', '.join(known)})") from None
    return "." + found.lower()


def _audio_suffix(data: bytes, field: str) -> str:
    import soundfile

    try:
        info = soundfile.info(io.BytesIO(data))
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise RequestError(422, field, f"not an audio file mmcli can decode ({exc})") from None
    return "." + str(info.format).lower()


def spool(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder / name`` (a fresh file) and return its path."""
    path = folder / name
    with open(path, "xb") as handle:
        handle.write(data)
    return path
