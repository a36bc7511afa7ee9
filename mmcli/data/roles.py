"""Which column plays which role (id, image, text, label, split): from flags, else detected."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from mmcli.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

    from mmcli.config import PrepConfig

_CANDIDATES = {
    "id": ("id", "uid", "key", "example_id", "item_id", "product_id"),
    "image": ("image", "image_path", "img", "image_file", "filename", "file", "path", "picture"),
    "text": ("text", "description", "caption", "title", "sentence", "name", "display_name"),
    "label": ("label", "labels", "class", "target", "category", "y"),
    "split": ("split", "fold", "subset"),
}
IMAGE_DIR_ROLE = "<image-dir>"  # the image "column" when images come from --image-dir
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Roles:
    """Column names for each role; ``None`` when the table has no such column."""

    id: str | None
    image: str | None
    text: str | None
    label: str | None
    split: str | None
    text_columns: tuple[str, ...] = ()  # when several text columns are joined into ``text``
    image_dir: str | None = None  # images found as <id>.<ext> in this folder

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m in ("image", "text") if getattr(self, m) is not None)

    @property
    def text_sources(self) -> tuple[str, ...]:
        """The table columns the text modality is made of."""
        if self.text_columns:
            return self.text_columns
        return (self.text,) if self.text else ()

    def to_dict(self) -> dict[str, str | None]:
        data = asdict(self)
        if not self.text_columns:
            del data["text_columns"]
        else:
            data["text_columns"] = list(self.text_columns)
        if self.image_dir is None:
            del data["image_dir"]
        return data


def detect_roles(frame: pd.DataFrame, config: PrepConfig, *, name: str = "table") -> Roles:
    """Assign roles: a flag names its column, else a known column name, else content.

    Raises:
        DataError: a named column is missing, or no image or text column is found.
    """
    columns = list(frame.columns)
    lower = {c.lower(): c for c in columns}
    text_columns = config.text_cols
    for column in text_columns:
        if column not in frame.columns:
            raise DataError(
                f"{name}: no column {column!r} for the text (columns: {', '.join(columns)})"
            )
    given = {
        "id": config.id_col,
        "image": config.image_col,
        "text": text_columns[0] if len(text_columns) == 1 else None,
        "label": config.label_col,
        "split": config.split_col,
    }
    chosen: dict[str, str | None] = {}
    for role, column in given.items():
        if column is not None:
            if column not in frame.columns:
                raise DataError(
                    f"{name}: no column {column!r} for the {role} (columns: {', '.join(columns)})"
                )
            chosen[role] = column
        else:
            chosen[role] = next((lower[c] for c in _CANDIDATES[role] if c in lower), None)
    if len(text_columns) > 1:
        chosen["text"] = "+".join(text_columns)
    extra: dict = {"text_columns": text_columns if len(text_columns) > 1 else ()}
    if config.image_dir is not None:
        if chosen["id"] is None:
            raise DataError(f"{name}: --image-dir needs an id column (name it with --id-col)")
        chosen["image"] = IMAGE_DIR_ROLE
        extra["image_dir"] = config.image_dir
    taken = {c for c in chosen.values() if c} | set(text_columns)
    if chosen["image"] is None and config.image_col is None:
        chosen["image"] = _find_image_column(frame, taken)
        taken.discard(None)
        taken |= {chosen["image"]} - {None}
    if chosen["text"] is None and not text_columns:
        chosen["text"] = _find_text_column(frame, taken)
    if chosen["image"] is None and chosen["text"] is None:
        raise DataError(
            f"{name}: found no image or text column (columns: {', '.join(columns)}); "
            "name them with --image-col / --text-col"
        )
    return Roles(**chosen, **extra)


def _is_textual(series: pd.Series) -> bool:
    from pandas.api.types import is_object_dtype, is_string_dtype

    return is_string_dtype(series) or is_object_dtype(series)


def _find_image_column(frame: pd.DataFrame, taken: set[str | None]) -> str | None:
    for column in frame.columns:
        if column in taken or not _is_textual(frame[column]):
            continue
        values = frame[column].dropna().astype(str).str.lower().head(50)
        if len(values) and values.str.endswith(_IMAGE_SUFFIXES).mean() > 0.8:
            return column
    return None


def _find_text_column(frame: pd.DataFrame, taken: set[str | None]) -> str | None:
    best, best_len = None, 0.0
    for column in frame.columns:
        if column in taken or not _is_textual(frame[column]):
            continue
        values = frame[column].dropna().astype(str).head(200)
        mean_len = values.str.len().mean() if len(values) else 0.0
        if values.str.contains(" ").mean() > 0.5 and mean_len > best_len:
            best, best_len = column, mean_len
    return best
