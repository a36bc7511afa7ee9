"""Options shared by several commands, declared once, so each flag reads the same everywhere.

Two groups describe a table: ``READING`` (its columns and how to read it: check, preprocess,
train, evaluate and predict) and ``CLEANING`` (how its cells are cleaned: check, preprocess
and train only, since a model must be used with the cleaning it was trained with). A command
takes them with :func:`table_flags` and receives one :class:`TableFlags`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

import typer

from mmcli.cli.groups import FROM_GROUP as FROM_GROUP
from mmcli.cli.groups import OptionGroup
from mmcli.cli.groups import adds as adds
from mmcli.cli.groups import group as group
from mmcli.cli.helptext import one_of, shown_default
from mmcli.config import DUPLICATES, LABEL_CASES, ON_MISSING, TEXT_INPUTS, PrepConfig
from mmcli.io.tables import FORMATS

COLUMNS = "Columns"
PREP = "Preprocessing"
OUTPUT = "Output"
CHECK = "Check"

# What an unset reading option means (None in PrepConfig: found in the table).
UNSET = {
    "id_col": "detected, e.g. 'id'; else the row number",
    "image_col": "detected",
    "text_col": "detected",
    "audio_col": "detected",
    "label_col": "detected, e.g. 'label'",
    "split_col": "'split' if present",
    "image_root": "the table's folder",
    "input_format": "from the extension; csv for stdin",
    "numeric_col": "detected: every value a number",
    "category_col": "detected: few distinct strings",
    "ignore_col": "none",
}
# On evaluate and predict the bundle's saved preprocessing settings are the defaults.
AS_TRAINED = "as in training"

IdCol = Annotated[str | None, typer.Option(help="Column with row ids.", rich_help_panel=COLUMNS)]
ImageCol = Annotated[list[str] | None, typer.Option(help="Column with image paths, relative to the table. Repeat for several image columns: each is its own model input (image, image_2, ...).", rich_help_panel=COLUMNS)]
TextCol = Annotated[list[str] | None, typer.Option(help="Column with text. Repeat for several: joined into one text (with --text-sep), or separate inputs with --text-inputs separate.", rich_help_panel=COLUMNS)]
TextInputs = Annotated[str | None, typer.Option(help="Several --text-col columns: " + one_of(TEXT_INPUTS, {"join": "into one text input", "separate": "each its own input, text, text_2, ..., with its own encoder"}) + ".", rich_help_panel=COLUMNS)]
LabelCol = Annotated[str | None, typer.Option(help="Column with labels.", rich_help_panel=COLUMNS)]
SplitCol = Annotated[str | None, typer.Option(help="Column with train/val/test.", rich_help_panel=COLUMNS)]
Encoding = Annotated[str | None, typer.Option(help="Text encoding of a CSV/TSV/JSONL table, e.g. latin-1.", rich_help_panel=COLUMNS)]
TextSep = Annotated[str | None, typer.Option(help="Separator between several --text-col columns.", rich_help_panel=COLUMNS)]
AudioCol = Annotated[list[str] | None, typer.Option(help="Column with audio file paths (WAV, FLAC, OGG, MP3), relative to the table. Repeat for several: each is its own model input (audio, audio_2, ...).", rich_help_panel=COLUMNS)]
ImageRoot = Annotated[str | None, typer.Option(help="Folder image paths are relative to (and must stay inside).", rich_help_panel=COLUMNS)]
ImageDir = Annotated[str | None, typer.Option(help="Folder of images named <id>.<ext> (jpg, png, ...), used instead of an image column.", rich_help_panel=COLUMNS)]
Join = Annotated[str | None, typer.Option(help="A second table whose columns are added by id (left join); ids found in only one table are reported.", rich_help_panel=COLUMNS)]
BundleArg = Annotated[str, typer.Argument(help="The bundle folder (from mmcli train).", show_default=False)]
TableArg = Annotated[str, typer.Argument(help=f"The table ({one_of(FORMATS)}), or - for stdin (csv unless --input-format says).", show_default=False)]
InputFormat = Annotated[str | None, typer.Option("--input-format", "--format", help=f"Table format: {one_of(FORMATS)}; --format is the same flag.", rich_help_panel=COLUMNS)]
# predict keeps --format for its output format, so its input format has only the long name.
PredictInputFormat = Annotated[str | None, typer.Option("--input-format", help=f"Format of INPUT: {one_of(FORMATS)} (--format is the output format here).", rich_help_panel=COLUMNS)]
# Tabular columns (issue 13): together one modality, ``tabular``. Naming any turns detection off.
NumericCol = Annotated[list[str] | None, typer.Option(help="Numeric column, standardized with training statistics (blanks: training median + a missing flag). Repeatable. Naming any tabular column turns tabular detection off.", rich_help_panel=COLUMNS)]
CategoryCol = Annotated[list[str] | None, typer.Option(help="Categorical column, embedded (values unseen in training: an out-of-vocabulary bucket). Repeatable.", rich_help_panel=COLUMNS)]
IgnoreCol = Annotated[list[str] | None, typer.Option(help="Column to leave out of every role. Repeatable.", rich_help_panel=COLUMNS)]
AllowOutsideRoot = Annotated[bool | None, typer.Option("--allow-outside-root", help="Open image paths outside the table's folder or --image-root (refused unless given).", rich_help_panel=PREP)]
Workers = Annotated[int | None, typer.Option(help="Processes decoding images; 0 = all cores (small tables are decoded in-process).", min=0, rich_help_panel=PREP)]

ImageSize = Annotated[int | None, typer.Option(help="Side of the square images, in pixels.", min=8, rich_help_panel=PREP)]
OnMissing = Annotated[str | None, typer.Option(help="A row whose image or text is missing or broken: " + one_of(ON_MISSING, {"keep": "mask it"}) + ".", rich_help_panel=PREP)]
Lowercase = Annotated[bool | None, typer.Option("--lowercase/--no-lowercase", help="Lowercase text while cleaning.", rich_help_panel=PREP, show_default=False)]
MaxTextChars = Annotated[int | None, typer.Option(help="Cut text to this many characters.", min=1, rich_help_panel=PREP)]
LabelCase = Annotated[str | None, typer.Option(help="The case of labels: " + one_of(LABEL_CASES, {"keep": "as written", "fold": "'Cat' and 'CAT' are one class"}) + ".", rich_help_panel=PREP)]
LabelMap = Annotated[str | None, typer.Option(help="File renaming labels: JSON object {\"from\": \"to\"} or CSV with a header and two columns.", rich_help_panel=PREP)]
Duplicates = Annotated[str | None, typer.Option(help="Repeated ids and identical rows: " + one_of(DUPLICATES, {"keep-first": "reject later copies", "reject": "every copy"}) + ".", rich_help_panel=PREP)]
MinImageSide = Annotated[int | None, typer.Option(help="Reject images narrower or shorter than this, in pixels.", min=1, rich_help_panel=PREP)]
MaxPixels = Annotated[int | None, typer.Option(help="Reject images with more pixels than this (decompression-bomb guard).", min=1, rich_help_panel=PREP)]
MaxMissingFraction = Annotated[float | None, typer.Option(help="Warn when a modality (image, text ...) is missing or unusable in more than this share of the kept rows.", min=0.0, max=1.0, rich_help_panel=PREP)]
AllowMissingModality = Annotated[bool | None, typer.Option("--allow-missing-modality", help="Accept a modality missing in every row (else check fails with exit 5, and preprocess (nothing written) and train refuse with exit 3).", rich_help_panel=PREP)]
AudioRate = Annotated[int | None, typer.Option(help="Sampling rate audio is resampled to, in Hz.", min=1000, rich_help_panel=PREP)]
AudioSeconds = Annotated[float | None, typer.Option(help="Length audio is cut or zero-padded to, in seconds (1 s holds a spoken word).", min=0.01, rich_help_panel=PREP)]
MaxAudioSeconds = Annotated[float | None, typer.Option(help="Reject audio files longer than this by their header, in seconds (never decoded).", min=0.01, rich_help_panel=PREP)]
Cache = Annotated[bool | None, typer.Option("--cache/--no-cache", help="Reuse data prepared from the same table, images and settings ($MMCLI_CACHE_DIR, default ~/.cache/mmcli).", rich_help_panel=PREP, show_default=False)]

READING = group(
    PrepConfig, UNSET, id_col=IdCol, image_col=ImageCol, text_col=TextCol,
    label_col=LabelCol, split_col=SplitCol, input_format=InputFormat, encoding=Encoding,
    text_sep=TextSep, text_inputs=TextInputs, image_root=ImageRoot, image_dir=ImageDir,
    join=Join, allow_outside_root=AllowOutsideRoot, workers=Workers,
    audio_col=AudioCol,
    numeric_col=NumericCol, category_col=CategoryCol, ignore_col=IgnoreCol,
)
CLEANING = group(
    PrepConfig, image_size=ImageSize, on_missing=OnMissing, lowercase=Lowercase,
    max_text_chars=MaxTextChars, label_case=LabelCase, label_map=LabelMap,
    duplicates=Duplicates, min_image_side=MinImageSide, max_pixels=MaxPixels,
    max_missing_fraction=MaxMissingFraction, allow_missing_modality=AllowMissingModality,
    audio_rate=AudioRate, audio_seconds=AudioSeconds, max_audio_seconds=MaxAudioSeconds,
)
CACHING = group(PrepConfig, cache=Cache)  # train only: reusing a prepared table

MaxRejectFraction = Annotated[float | None, typer.Option(help="Exit with code 5 when more than this share of rows is rejected " + shown_default("0: any rejected row") + ".", min=0.0, max=1.0, rich_help_panel=CHECK, show_default=False)]
NeedLabel = Annotated[bool, typer.Option("--need-label", help="Fail without a label column, as train does.", rich_help_panel=CHECK)]

Force = Annotated[bool, typer.Option("--force", help="Replace the output if it exists.", rich_help_panel=OUTPUT)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr (errors still show).", rich_help_panel=OUTPUT)]


def not_stdout(value: Path | None) -> Path | None:
    """An output path option's callback: ``-`` (stdout) is refused, never made a file named ``-``.

    Raises:
        typer.BadParameter: the value is ``-`` (exit 2): stdout carries the command's own
            output (JSON or records), so this output needs a file or folder name.
    """
    if value is not None and str(value) == "-":
        raise typer.BadParameter("'-' (stdout) is not accepted here: stdout carries the "
                                 "command's own output; name a file or folder")
    return value


def dash_is_stdout(value: Path | None) -> Path | None:
    """``predict --out``'s callback: ``-`` means stdout, as when the flag is left out."""
    return None if value is not None and str(value) == "-" else value


OutDir = Annotated[Path | None, typer.Option("--out", "-o", help="The folder to write (or --check to write nothing).", rich_help_panel=OUTPUT, show_default=False, callback=not_stdout)]


@dataclass(frozen=True)
class TableFlags:
    """How to read (and clean) a table, as the user gave it.

    Attributes:
        prep: PrepConfig field name -> the value given; None when not given (the config's own
            value, or the bundle's, stands). Several ``--image-col``/``--text-col`` are a tuple.
        input_format: the table format given (None: from the extension).
    """

    prep: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    input_format: str | None = None

    @classmethod
    def of(cls, given: Mapping[str, Any]) -> TableFlags:
        """From the reading/cleaning options by name (``input_format`` among them)."""
        prep = {k: _one_or_many(v) if isinstance(v, (list, tuple)) else v
                for k, v in given.items() if k != "input_format"}
        return cls(MappingProxyType(prep), given.get("input_format"))

    def config(self, base: PrepConfig | None = None) -> PrepConfig:
        """``base`` (default: PrepConfig's defaults) with the flags given.

        Raises:
            UsageError: a value out of range or flags that cannot be combined.
        """
        from mmcli.config import replace

        return replace(base if base is not None else PrepConfig(), **self.prep)


def table_flags(options: OptionGroup) -> Callable[[Callable], Callable]:
    """Decorator: the command takes ``options`` (``READING``, maybe ``+ CLEANING``) and gets them
    as one :class:`TableFlags` in its parameter ``flags = FROM_GROUP``."""
    return adds(options, into="flags", value=TableFlags.of)


def _one_or_many(columns):
    """A repeatable column flag: None, one name, or a tuple of several."""
    if isinstance(columns, (list, tuple)):
        return tuple(columns) if len(columns) > 1 else (columns[0] if columns else None)
    return columns
