"""The image kind: a path cell (or ``--image-dir``'s ``<id>.<ext>``), decoded once with Pillow
to a square ``(S, S, 3)`` uint8 RGB array (``--image-size`` S) and stored in shards.

Path checks (missing, outside the data root, not a file) happen while rows are planned, as
for every file kind (:class:`~mmcli.modalities.files.FileModality`); decoding (EXIF, modes,
size limits, the decompression-bomb guard) runs in worker processes: :mod:`mmcli.io.images`.
Several image columns are one modality each (``image``, ``image_2``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.base import Fault, Outcome, Ready, TableContext
from mmcli.modalities.files import FileModality

if TYPE_CHECKING:
    from mmcli.config import PrepConfig

IMAGE_DIR_SOURCE = "<image-dir>"  # the image "column" when images come from --image-dir
SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".avif")


class ImageModality(FileModality):
    """An image file per row (absent: no path, or a file that cannot be used); the path from
    the image column, or the file named after the row's id in ``--image-dir``."""

    kind: ClassVar[str] = "image"
    column_names: ClassVar[tuple[str, ...]] = (
        "image", "image_path", "img", "image_file", "filename", "file", "path", "picture",
    )
    config_field: ClassVar[str | None] = "image_col"
    encoders: ClassVar[str] = "mmcli.model.image_encoders"
    suffixes: ClassVar[tuple[str, ...]] = SUFFIXES
    shard_folder: ClassVar[str] = "images"
    decoder_module: ClassVar[str | None] = "mmcli.io.images"  # ImageDecoder.preload

    def named_columns(self, config: PrepConfig) -> tuple[str, ...]:
        if config.image_dir is not None:
            return (IMAGE_DIR_SOURCE,)
        return super().named_columns(config)

    def virtual_source(self, config: PrepConfig) -> str | None:
        return IMAGE_DIR_SOURCE if config.image_dir is not None else None

    def role_notes(self, config: PrepConfig) -> dict[str, Any]:
        return {"image_dir": config.image_dir} if config.image_dir is not None else {}

    def decoder(self, config: PrepConfig) -> Callable[[str], Any]:
        from mmcli.io.image_decoder import ImageDecoder, ImageOptions  # no Pillow or NumPy

        return ImageDecoder(ImageOptions(size=config.image_size, max_pixels=config.max_pixels,
                                         min_side=config.min_image_side))

    def preparer(self, context: TableContext) -> Callable[[Sequence[Any], str, bool], Outcome]:
        """A path column as any file kind; with ``--image-dir``, the file named ``<id>.<ext>``
        there (``ambiguous`` when several are)."""
        config, root = context.config, context.root
        if config.image_dir is None:
            return super().preparer(context)
        from mmcli.errors import UsageError
        from mmcli.io.image_paths import index_image_dir  # no Pillow or NumPy here

        resolve = self.path_resolver(context)
        if not root.is_dir():
            raise UsageError(f"--image-dir {config.image_dir!r} is not a folder")
        by_id, ambiguous = index_image_dir(root)

        def from_folder(cells: Sequence[Any], row_id: str, rejected: bool) -> Outcome:
            if row_id in ambiguous:
                return Fault("ambiguous", f"several files named {row_id}.* in {config.image_dir}")
            if row_id not in by_id:
                return Fault("missing", f"no image {row_id}.<ext> in {config.image_dir}")
            return Ready(None) if rejected else resolve(by_id[row_id].name)

        return from_folder

    def input_spec(self, config: PrepConfig) -> tuple[tuple[int, ...], str]:
        return (config.image_size, config.image_size, 3), "uint8"

    def absent(self, config: PrepConfig) -> Any:
        return 0

    def encoder_choices(self) -> tuple[str, ...]:
        from mmcli.registry import IMAGE_ENCODERS

        return tuple(IMAGE_ENCODERS)

    def file_references(self, columns: Sequence[Sequence[Any]],
                        context: TableContext) -> Iterator[str]:
        """Each image's resolved path, size and mtime (or why it cannot be used); for
        ``--image-dir`` the folder's listing."""
        if context.config.image_dir is not None:
            return _listing(context.root)
        return super().file_references(columns, context)


def _listing(root) -> Iterator[str]:
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError as exc:
        yield f"dir {root}: {exc.strerror}"
        return
    for entry in entries:
        try:
            info = entry.stat()
        except OSError as exc:
            yield f"{entry.name}: {exc.strerror}"
            continue
        yield f"{entry.name}\t{info.st_size}\t{info.st_mtime_ns}"
