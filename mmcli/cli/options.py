"""Option definitions shared by several commands, so each flag reads the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

COLUMNS = "Columns"
PREP = "Preprocessing"
OUTPUT = "Output"

IdCol = Annotated[str | None, typer.Option(help="Column with row ids [default: detected, e.g. 'id'; else the row number].", rich_help_panel=COLUMNS)]
ImageCol = Annotated[str | None, typer.Option(help="Column with image paths, relative to the table [default: detected].", rich_help_panel=COLUMNS)]
TextCol = Annotated[str | None, typer.Option(help="Column with text [default: detected].", rich_help_panel=COLUMNS)]
LabelCol = Annotated[str | None, typer.Option(help="Column with labels [default: detected, e.g. 'label'].", rich_help_panel=COLUMNS)]
SplitCol = Annotated[str | None, typer.Option(help="Column with train/val/test [default: 'split' if present].", rich_help_panel=COLUMNS)]
InputFormat = Annotated[str | None, typer.Option("--input-format", help="Table format: csv, tsv, jsonl, parquet [default: from the extension; csv for stdin].", rich_help_panel=COLUMNS)]

ImageSize = Annotated[int | None, typer.Option(help="Side of the square images, in pixels [default: 64].", min=8, rich_help_panel=PREP)]
OnMissing = Annotated[str | None, typer.Option(help="A row whose image or text is missing or broken: keep (mask it), drop, or error [default: keep].", rich_help_panel=PREP)]
Lowercase = Annotated[bool | None, typer.Option("--lowercase/--no-lowercase", help="Lowercase text while cleaning [default: no].", rich_help_panel=PREP, show_default=False)]
MaxTextChars = Annotated[int | None, typer.Option(help="Cut text to this many characters [default: 2000].", min=1, rich_help_panel=PREP)]
AllowOutsideRoot = Annotated[bool | None, typer.Option("--allow-outside-root", help="Open image paths outside the table's folder (refused by default).", rich_help_panel=PREP)]
Workers = Annotated[int | None, typer.Option(help="Processes decoding images [default: 1].", min=1, rich_help_panel=PREP)]

Force = Annotated[bool, typer.Option("--force", help="Replace the output if it exists.", rich_help_panel=OUTPUT)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (errors still show).", rich_help_panel=OUTPUT)]
OutDir = Annotated[Path, typer.Option("--out", "-o", help="The folder to write.", rich_help_panel=OUTPUT)]


def prep_flags(
    *, id_col=None, image_col=None, text_col=None, label_col=None, split_col=None,
    image_size=None, on_missing=None, lowercase=None, max_text_chars=None,
    allow_outside_root=None, workers=None,
) -> dict:
    """The preprocessing flags the user gave (None means not given)."""
    return {
        "id_col": id_col, "image_col": image_col, "text_col": text_col, "label_col": label_col,
        "split_col": split_col, "image_size": image_size, "on_missing": on_missing,
        "lowercase": lowercase, "max_text_chars": max_text_chars,
        "allow_outside_root": allow_outside_root, "workers": workers,
    }
