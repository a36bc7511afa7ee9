"""Option definitions shared by several commands, so each flag reads the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

COLUMNS = "Columns"
PREP = "Preprocessing"
OUTPUT = "Output"
CHECK = "Check"

IdCol = Annotated[str | None, typer.Option(help="Column with row ids \\[default: detected, e.g. 'id'; else the row number].", rich_help_panel=COLUMNS)]
ImageCol = Annotated[list[str] | None, typer.Option(help="Column with image paths, relative to the table \\[default: detected]. Repeat for several image columns: each is its own model input (image, image_2, ...).", rich_help_panel=COLUMNS)]
TextCol = Annotated[list[str] | None, typer.Option(help="Column with text \\[default: detected]. Repeat for several: joined into one text (with --text-sep), or separate inputs with --text-inputs separate.", rich_help_panel=COLUMNS)]
TextInputs = Annotated[str | None, typer.Option(help="Several --text-col columns: join them into one text input, or keep each as a separate input (text, text_2, ...) with its own encoder \\[default: join].", rich_help_panel=COLUMNS)]
LabelCol = Annotated[str | None, typer.Option(help="Column with labels \\[default: detected, e.g. 'label'].", rich_help_panel=COLUMNS)]
SplitCol = Annotated[str | None, typer.Option(help="Column with train/val/test \\[default: 'split' if present].", rich_help_panel=COLUMNS)]
Encoding = Annotated[str | None, typer.Option(help="Text encoding of a CSV/TSV/JSONL table, e.g. latin-1 \\[default: utf-8].", rich_help_panel=COLUMNS)]
TextSep = Annotated[str | None, typer.Option(help="Separator between several --text-col columns \\[default: ' | '].", rich_help_panel=COLUMNS)]
ImageRoot = Annotated[str | None, typer.Option(help="Folder image paths are relative to (and must stay inside) \\[default: the table's folder].", rich_help_panel=COLUMNS)]
ImageDir = Annotated[str | None, typer.Option(help="Folder of images named <id>.<ext> (jpg, png, ...), used instead of an image column.", rich_help_panel=COLUMNS)]
Join = Annotated[str | None, typer.Option(help="A second table whose columns are added by id (left join); ids found in only one table are reported.", rich_help_panel=COLUMNS)]
InputFormat = Annotated[str | None, typer.Option("--input-format", "--format", help="Table format: csv, tsv, jsonl, parquet; --format is the same flag \\[default: from the extension; csv for stdin].", rich_help_panel=COLUMNS)]
# predict keeps --format for its output format, so its input format has only the long name.
PredictInputFormat = Annotated[str | None, typer.Option("--input-format", help="Format of INPUT: csv, tsv, jsonl, parquet (--format is the output format here) \\[default: from the extension; csv for stdin].", rich_help_panel=COLUMNS)]

ImageSize = Annotated[int | None, typer.Option(help="Side of the square images, in pixels \\[default: 64].", min=8, rich_help_panel=PREP)]
OnMissing = Annotated[str | None, typer.Option(help="A row whose image or text is missing or broken: keep (mask it), drop, or error \\[default: keep].", rich_help_panel=PREP)]
Lowercase = Annotated[bool | None, typer.Option("--lowercase/--no-lowercase", help="Lowercase text while cleaning \\[default: no].", rich_help_panel=PREP, show_default=False)]
MaxTextChars = Annotated[int | None, typer.Option(help="Cut text to this many characters \\[default: 2000].", min=1, rich_help_panel=PREP)]
AllowOutsideRoot = Annotated[bool | None, typer.Option("--allow-outside-root", help="Open image paths outside the table's folder (refused by default).", rich_help_panel=PREP)]
Workers = Annotated[int | None, typer.Option(help="Processes decoding images; 0 = all cores (small tables are decoded in-process) \\[default: 0].", min=0, rich_help_panel=PREP)]
LabelCase = Annotated[str | None, typer.Option(help="Labels: keep their case, or fold it ('Cat' and 'CAT' are one class) \\[default: keep].", rich_help_panel=PREP)]
LabelMap = Annotated[str | None, typer.Option(help="File renaming labels: JSON object {\"from\": \"to\"} or CSV with a header and two columns.", rich_help_panel=PREP)]
Duplicates = Annotated[str | None, typer.Option(help="Repeated ids and identical rows: keep-first (reject later copies), reject (every copy), or error \\[default: keep-first].", rich_help_panel=PREP)]
MinImageSide = Annotated[int | None, typer.Option(help="Reject images narrower or shorter than this, in pixels \\[default: 8].", min=1, rich_help_panel=PREP)]
MaxPixels = Annotated[int | None, typer.Option(help="Reject images with more pixels than this (decompression-bomb guard) \\[default: 89478485].", min=1, rich_help_panel=PREP)]
Cache = Annotated[bool | None, typer.Option("--cache/--no-cache", help="Reuse data prepared from the same table, images and settings ($MMCLI_CACHE_DIR, default ~/.cache/mmcli) \\[default: cache].", rich_help_panel=PREP, show_default=False)]

MaxRejectFraction = Annotated[float | None, typer.Option(help="Exit with code 5 when more than this share of rows is rejected \\[default: 0: any rejected row].", min=0.0, max=1.0, rich_help_panel=CHECK, show_default=False)]
NeedLabel = Annotated[bool, typer.Option("--need-label", help="Fail without a label column, as train does.", rich_help_panel=CHECK)]

Force = Annotated[bool, typer.Option("--force", help="Replace the output if it exists.", rich_help_panel=OUTPUT)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (errors still show).", rich_help_panel=OUTPUT)]
OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="The folder to write (or --check to write nothing).", rich_help_panel=OUTPUT, show_default=False)]


def prep_flags(
    *, id_col=None, image_col=None, text_col=None, label_col=None, split_col=None,
    image_size=None, on_missing=None, lowercase=None, max_text_chars=None,
    allow_outside_root=None, workers=None, **more,
) -> dict:
    """The preprocessing flags the user gave (None means not given). ``more`` holds the
    other PrepConfig fields by name (encoding, image_root, duplicates, ...)."""
    text_col, image_col = _one_or_many(text_col), _one_or_many(image_col)
    return {
        "id_col": id_col, "image_col": image_col, "text_col": text_col, "label_col": label_col,
        "split_col": split_col, "image_size": image_size, "on_missing": on_missing,
        "lowercase": lowercase, "max_text_chars": max_text_chars,
        "allow_outside_root": allow_outside_root, "workers": workers, **more,
    }


def _one_or_many(columns):
    """A repeatable column flag: None, one name, or a tuple of several."""
    if isinstance(columns, (list, tuple)):
        return tuple(columns) if len(columns) > 1 else (columns[0] if columns else None)
    return columns
