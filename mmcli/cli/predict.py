"""``mmcli predict BUNDLE INPUT``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.helptext import one_of, shown_default
from mmcli.cli.output import (
    join_line,
    make_console,
    missing_input_line,
    render_row_issues,
    render_unseen,
    row_progress,
    warn,
)
from mmcli.io.records import RECORD_FORMATS
from mmcli.io.tables import FORMATS

# The bundle's reading settings, overridden by the flags. Labels and splits are not read (the
# flags are accepted, so evaluate's flags work here too); --join joins each chunk.
READING = (opt.READING.overriding(opt.AS_TRAINED).hiding("label_col", "split_col")
           .replacing(input_format=opt.PredictInputFormat))


@reports_errors
@opt.table_flags(READING)
def predict(
    bundle: opt.BundleArg,
    input: Annotated[str, typer.Argument(help=f"A table ({one_of(FORMATS)}) or - for stdin.")],
    format: Annotated[str | None, typer.Option("--format", "-f", help="Output format: " + one_of(RECORD_FORMATS, {"parquet": "with --out only"}) + ". The input's format is --input-format. " + shown_default("from --out's extension (.jsonl, .csv, .json, .parquet), else jsonl"), rich_help_panel=opt.OUTPUT, show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=opt.dash_is_stdout, help="Write here (atomically) instead of stdout; - is stdout.", rich_help_panel=opt.OUTPUT)] = None,
    top_k: Annotated[int, typer.Option(help="How many top labels each record lists.", min=1, rich_help_panel=opt.OUTPUT)] = 3,
    keep_columns: Annotated[str | None, typer.Option(help="Comma-separated input columns to copy into each record (a name that clashes with a record field gets the prefix input_).", rich_help_panel=opt.OUTPUT)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop with exit code 3 at the first row that cannot be predicted, instead of writing it with an error.", rich_help_panel=opt.OUTPUT)] = False,
    chunk_rows: Annotated[int, typer.Option(help="Rows read, predicted and written at a time (memory stays bounded).", min=1, rich_help_panel=opt.OUTPUT)] = 10_000,
    rejects: Annotated[Path | None, typer.Option("--rejects", callback=opt.not_stdout, help="Also write every problem of a row (which row, id, column, reason, action, message: the rejects.csv of preprocess) to this CSV file, atomically.", rich_help_panel=opt.OUTPUT)] = None,
    engine: Annotated[str, typer.Option(help="tf (the Keras model), lite or onnx (the bundle's export under LiteRT / ONNX Runtime, without TensorFlow), or auto: the bundle's export when it has one, else tf.", rich_help_panel=opt.OUTPUT)] = "auto",
    flags: opt.TableFlags = opt.FROM_GROUP,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Predict a label for every row of INPUT, in input order (a label column is ignored).

    Rows are read, predicted and written in chunks, so any length runs in bounded memory.
    Each record has id, label, probability, probabilities (label -> probability), top_k and
    which modalities were present; a row that cannot be used has an error instead (counted in
    the summary on stderr; --strict makes it fatal). The rows are read with the bundle's
    training settings; the reading flags (--image-root, --encoding, columns ...) override them.
    A bundle trained with --join joins the same table again (or --join's), as preprocess does.

    Example: cat new.csv | mmcli predict model/ - --format jsonl | jq -r .label
    """
    import csv
    from contextlib import ExitStack

    from mmcli.api.predict import PredictSummary, predict_records
    from mmcli.bundle import read_bundle
    from mmcli.data.join import unmatched_warning
    from mmcli.io.atomic import atomic_file, check_writable
    from mmcli.io.records import record_format, write_parquet_records, write_records
    from mmcli.layout import REJECT_COLUMNS

    format = record_format(format, out)
    if format not in RECORD_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(RECORD_FORMATS)}", param_hint="--format")
    if format == "parquet" and out is None:
        raise typer.BadParameter("parquet output needs --out FILE (it cannot stream to stdout)",
                                 param_hint="--format")
    if engine not in ("auto", "tf", "lite", "onnx"):
        raise typer.BadParameter("choose one of auto, tf, lite, onnx", param_hint="--engine")
    for target in (out, rejects):
        if target is not None:
            check_writable(target, force=force, folder=False)
    keep = [c.strip() for c in keep_columns.split(",") if c.strip()] if keep_columns else []
    loaded = read_bundle(bundle)
    console = make_console(quiet)
    progress, on_start, on_row = row_progress(console, "predicting")
    summary = PredictSummary()
    stack = ExitStack()
    if rejects is not None:
        handle = stack.enter_context(open(stack.enter_context(atomic_file(rejects, force=force)),
                                          "w", encoding="utf-8", newline=""))
        writer = csv.writer(handle)
        writer.writerow(REJECT_COLUMNS)
        summary.tally.sink = writer.writerow
    records = predict_records(loaded, input, fmt=flags.input_format, top_k=top_k,
                              chunk_rows=chunk_rows, keep_columns=keep, strict=strict,
                              prep_overrides=dict(flags.prep), summary=summary,
                              on_start=on_start, on_row=on_row, engine=engine)
    with stack, progress:
        if out is None:
            count = write_records(records, sys.stdout, format)
        elif format == "parquet":
            with atomic_file(out, force=force) as tmp:
                count = write_parquet_records(records, tmp, batch_rows=chunk_rows)
        else:
            with atomic_file(out, force=force) as tmp, open(tmp, "w", encoding="utf-8",
                                                             newline="") as handle:
                count = write_records(records, handle, format)
    predicted = count - summary.errors
    lacking = "".join(f", {n} without {m}" for m, n in summary.missing.items())
    console.print(f"{count} rows: {predicted} predicted, {summary.errors} with errors"
                  + lacking + (f" -> {out}" if out else ""), markup=False)
    if summary.join:
        console.print(join_line(summary.join), markup=False)
        for unmatched in unmatched_warning(summary.join, loaded.config.prep.max_missing_fraction):
            warn(console, unmatched["message"])
    render_row_issues(console, summary.tally, rejects)
    render_unseen(console, summary.unseen)
    for name in loaded.modalities:
        if name in summary.absent:
            warn(console, missing_input_line(name, "no_column", list(summary.absent[name]), count))
        elif predicted and summary.missing[name] == predicted:
            warn(console, missing_input_line(name, "missing_in_every_row", [], predicted))
    limit = loaded.config.prep.max_missing_fraction
    for lost in summary.tally.warnings(summary.columns, limit):
        if not lost["every_row"] and lost["modality"] not in summary.absent:
            warn(console, lost["message"])
    if summary.first_error:
        console.print(f"first error: {summary.first_error}", markup=False)
