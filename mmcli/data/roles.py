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
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Roles:
    """Column names for each role; ``None`` when the table has no such column."""

    id: str | None
    image: str | None
    text: str | None
    label: str | None
    split: str | None

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(m for m in ("image", "text") if getattr(self, m) is not None)

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def detect_roles(frame: pd.DataFrame, config: PrepConfig, *, name: str = "table") -> Roles:
    """Assign roles: a flag names its column, else a known column name, else content.

    Raises:
        DataError: a named column is missing, or no image or text column is found.
    """
    columns = list(frame.columns)
    lower = {c.lower(): c for c in columns}
    given = {
        "id": config.id_col,
        "image": config.image_col,
        "text": config.text_col,
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
    taken = {c for c in chosen.values() if c}
    if chosen["image"] is None and config.image_col is None:
        chosen["image"] = _find_image_column(frame, taken)
        taken.discard(None)
        taken |= {chosen["image"]} - {None}
    if chosen["text"] is None and config.text_col is None:
        chosen["text"] = _find_text_column(frame, taken)
    if chosen["image"] is None and chosen["text"] is None:
        raise DataError(
            f"{name}: found no image or text column (columns: {', '.join(columns)}); "
            "name them with --image-col / --text-col"
        )
    return Roles(**chosen)


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
