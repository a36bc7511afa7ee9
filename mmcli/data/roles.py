"""Which column plays which role (id, image, text, label, split): from flags, else detected."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from mmcli import modality
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
    text_columns: tuple[str, ...] = ()  # when several text columns make ``text``
    image_dir: str | None = None  # images found as <id>.<ext> in this folder
    image_columns: tuple[str, ...] = ()  # when several image columns (``image`` is the first)
    text_inputs: str = "join"  # several text columns: joined into one text, or "separate"

    @property
    def sources(self) -> dict[str, tuple[str, ...]]:
        """Each modality (see :mod:`mmcli.modality`) and the table columns it is made of:
        images first, then texts."""
        out: dict[str, tuple[str, ...]] = {}
        images = self.image_columns or ((self.image,) if self.image else ())
        for i, column in enumerate(images):
            out[modality.name(modality.IMAGE, i)] = (column,)
        if self.text_inputs == "separate" and self.text_columns:
            for i, column in enumerate(self.text_columns):
                out[modality.name(modality.TEXT, i)] = (column,)
        elif self.text:
            out[modality.TEXT] = self.text_sources
        return out

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(self.sources)

    def column(self, name: str) -> str:
        """How reports name a modality's column (several joined columns as ``a+b``)."""
        return "+".join(self.sources[name])

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
        if not self.image_columns:
            del data["image_columns"]
        else:
            data["image_columns"] = list(self.image_columns)
        if self.text_inputs == "join":
            del data["text_inputs"]
        return data


def detect_roles(frame: pd.DataFrame, config: PrepConfig, *, name: str = "table") -> Roles:
    """Assign roles: a flag names its column, else a known column name, else content.

    Raises:
        DataError: a named column is missing, or no image or text column is found.
    """
    columns = list(frame.columns)
    lower = {c.lower(): c for c in columns}
    text_columns = config.text_cols
    image_columns = config.image_cols
    named = [(c, "text") for c in text_columns] + [(c, "image") for c in image_columns]
    for column, role in named:
        if column not in frame.columns:
            raise DataError(
                f"{name}: no column {column!r} for the {role} (columns: {', '.join(columns)})"
            )
    given = {
        "id": config.id_col,
        "image": image_columns[0] if image_columns else None,
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
    extra: dict = {
        "text_columns": text_columns if len(text_columns) > 1 else (),
        "image_columns": image_columns if len(image_columns) > 1 else (),
        "text_inputs": config.text_inputs,
    }
    if config.image_dir is not None:
        if chosen["id"] is None:
            raise DataError(f"{name}: --image-dir needs an id column (name it with --id-col)")
        chosen["image"] = IMAGE_DIR_ROLE
        extra["image_dir"] = config.image_dir
    taken = {c for c in chosen.values() if c} | set(text_columns) | set(image_columns)
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
