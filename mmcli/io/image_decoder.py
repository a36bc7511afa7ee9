"""The image decoder as the process that plans rows sees it: its options and a picklable
decoder job, light to import (no NumPy, no Pillow), so that preprocess starts its decoding
pool before it imports either (0.1 s of a 2-core machine's start-up). The decoding itself
is :mod:`mmcli.io.images` (``preload``), which the pool's fork server imports once and
its forked workers inherit.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from mmcli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from mmcli.io.decode import Noted


@dataclasses.dataclass(frozen=True)
class ImageOptions:
    """How images are decoded.

    Args:
        size: Side of the square output, in pixels.
        max_pixels: Largest ``width * height`` accepted, read from the header
            before any pixel is decoded (decompression-bomb guard). Pillow itself
            refuses headers above twice its own limit (178,956,970 pixels).
        min_side: Images narrower or shorter than this are rejected.
        background: RGB colour that transparent pixels are composited over.
    """

    size: int = 64
    max_pixels: int = 89_478_485
    min_side: int = 8
    background: tuple[int, int, int] = (255, 255, 255)

    def __post_init__(self) -> None:
        for name in ("size", "max_pixels", "min_side"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(
                    f"Expected a positive integer for `{name}`. Received: {name}={value!r}"
                )
        bg = self.background
        if (
            not isinstance(bg, (tuple, list))
            or len(bg) != 3
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in bg)
        ):
            raise UsageError(
                f"Expected 3 integers in 0..255 for `background`. Received: background={bg!r}"
            )
        object.__setattr__(self, "background", tuple(bg))

    def to_dict(self) -> dict:
        """Returns: the options as a JSON-ready dict (``from_dict`` rebuilds them)."""
        return {**dataclasses.asdict(self), "background": list(self.background)}

    @classmethod
    def from_dict(cls, data: dict) -> ImageOptions:
        """Args: data: a dict from ``to_dict``. Returns: the ``ImageOptions``."""
        unknown = sorted(set(data) - {field.name for field in dataclasses.fields(cls)})
        if unknown:
            raise UsageError(f"Unknown image option(s): {', '.join(unknown)}")
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class ImageDecoder:
    """A picklable decoder job for :func:`mmcli.io.decode.decode_jobs`: ``decoder(path)`` is
    :func:`mmcli.io.images.load_image_noted` with these options."""

    options: ImageOptions
    what = "image"
    preload: ClassVar[str] = "mmcli.io.images"  # the module doing the work (the fork server's)

    def __call__(self, path: Path | str) -> np.ndarray | Noted:
        from mmcli.io.images import load_image_noted

        return load_image_noted(path, self.options)

    def chunk(self) -> AbstractContextManager[None]:
        """One warnings-filter context for a chunk of files decoded by this decoder alone
        (:func:`mmcli.io.decode.decode_chunk`; :func:`mmcli.io.images.chunk_warnings`)."""
        from mmcli.io.images import chunk_warnings

        return chunk_warnings()
