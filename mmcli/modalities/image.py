"""The image kind: a path cell (or ``--image-dir``'s ``<id>.<ext>``), decoded once with Pillow
to a square ``(S, S, 3)`` uint8 RGB array (``--image-size`` S) and stored in shards.

Path checks (missing, outside the data root, not a file) happen while rows are planned;
decoding (EXIF, modes, size limits, the decompression-bomb guard) runs in worker processes:
:mod:`mmcli.io.images`. Several image columns are one modality each (``image``, ``image_2``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from mmcli.modalities.base import Fault, Job, Modality, Outcome, Ready, ShardSpec, TableContext

if TYPE_CHECKING:
    import pandas as pd

    from mmcli.config import PrepConfig

IMAGE_DIR_SOURCE = "<image-dir>"  # the image "column" when images come from --image-dir
SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff", ".avif")


class ImageModality(Modality):
    """An image file per row (absent: no path, or a file that cannot be used)."""

    kind: ClassVar[str] = "image"
    column_names: ClassVar[tuple[str, ...]] = (
        "image", "image_path", "img", "image_file", "filename", "file", "path", "picture",
    )
    config_field: ClassVar[str | None] = "image_col"
    encoders: ClassVar[str] = "mmcli.model.image_encoders"

    decodes: ClassVar[bool] = True

    def named_columns(self, config: PrepConfig) -> tuple[str, ...]:
        if config.image_dir is not None:
            return (IMAGE_DIR_SOURCE,)
        return super().named_columns(config)

    def virtual_source(self, config: PrepConfig) -> str | None:
        return IMAGE_DIR_SOURCE if config.image_dir is not None else None

    def match_score(self, values: pd.Series) -> float | None:
        """Most of the first 50 values end in an image suffix (``.jpg``, ``.png`` ...)."""
        head = values.str.lower().head(50)
        return 1.0 if len(head) and head.str.endswith(SUFFIXES).mean() > 0.8 else None

    def role_notes(self, config: PrepConfig) -> dict[str, Any]:
        return {"image_dir": config.image_dir} if config.image_dir is not None else {}

    def preparer(self, context: TableContext) -> Callable[[Sequence[Any], str, bool], Outcome]:
        from mmcli.errors import CellError, ImageError, UsageError
        from mmcli.io.images import ImageDecoder, ImageOptions, index_image_dir
        from mmcli.io.paths import resolve_file

        config = context.config
        decoder = ImageDecoder(ImageOptions(size=config.image_size, max_pixels=config.max_pixels,
                                            min_side=config.min_image_side))
        root = context.root

        def resolve(value: str) -> Outcome:
            try:
                path = resolve_file(value, root, what="image", error=ImageError,
                                    allow_outside_root=config.allow_outside_root)
            except CellError as exc:
                return Fault(exc.reason, str(exc))
            return Job(decoder, path)

        if config.image_dir is None:
            from mmcli.data.clean import is_missing

            def from_column(cells: Sequence[Any], row_id: str, rejected: bool) -> Outcome:
                if is_missing(cells[0]):
                    return Fault("missing", "no image path")
                return Ready(None) if rejected else resolve(str(cells[0]).strip())

            return from_column
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

    def shard_spec(self, name: str, config: PrepConfig) -> ShardSpec:
        size = config.image_size
        return ShardSpec("images" + name[len(self.kind):], (size, size, 3), "uint8")

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
        from mmcli.data.clean import is_missing
        from mmcli.errors import CellError
        from mmcli.io.images import resolve_image_path

        root, config = context.root, context.config
        if config.image_dir is not None:
            yield from _listing(root)
            return
        for cell in (cell for cells in columns for cell in cells):
            if is_missing(cell):
                yield ""
                continue
            try:
                path = resolve_image_path(str(cell).strip(), root,
                                          allow_outside_root=config.allow_outside_root)
                info = path.stat()
            except CellError as exc:
                yield f"{cell}: {exc.reason}"
                continue
            except OSError as exc:
                yield f"{cell}: {exc.strerror}"
                continue
            yield f"{path}\t{info.st_size}\t{info.st_mtime_ns}"


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
