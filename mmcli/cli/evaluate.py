"""``mmcli evaluate BUNDLE DATA``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.helptext import one_of
from mmcli.cli.output import (
    emit_json,
    make_console,
    missing_input_line,
    render_unseen,
    render_warnings,
    warn,
)
from mmcli.config import SPLIT_CHOICES

SPLIT_NOTES = {"auto": "the test rows if any, else all",
               "train": "the training rows training learned from",
               "val": "the validation rows training used, by id"}
ERROR_FILES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "json"}  # by suffix


@reports_errors
@opt.table_flags(opt.READING.overriding(opt.AS_TRAINED))
def evaluate(
    bundle: opt.BundleArg,
    data: Annotated[list[str], typer.Argument(help="Labelled data: a prepared folder or a raw table; or several prepared folders (repeated, or a quoted glob) read as one dataset.", show_default=False)],
    split: Annotated[str, typer.Option(help="Rows to score: " + one_of(SPLIT_CHOICES, SPLIT_NOTES) + ".")] = "auto",
    flags: opt.TableFlags = opt.FROM_GROUP,
    report: Annotated[Path | None, typer.Option("--report", callback=opt.not_stdout, help="Write a folder with report.md, metrics.json and PNG plots (confusion matrix, reliability diagram, F1 per class).", rich_help_panel=opt.OUTPUT)] = None,
    errors: Annotated[Path | None, typer.Option("--errors", callback=opt.not_stdout, help=f"Write the misclassified rows with their top predictions ({one_of(ERROR_FILES)} by extension).", rich_help_panel=opt.OUTPUT)] = None,
    rejects: Annotated[Path | None, typer.Option("--rejects", callback=opt.not_stdout, help="Write the data's rejects.csv (every problem of a row: which row, id, column, reason, action) to this file.", rich_help_panel=opt.OUTPUT)] = None,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Score a bundle on labelled DATA (a prepared folder or a raw table).

    Prints metrics as JSON on stdout (accuracy, macro_f1, per_class, confusion_matrix,
    roc_auc, top_k_accuracy, ece, each modality alone and its contribution, fusion weights,
    metrics by missing modality) and a table on stderr. A raw table is read and cleaned with
    the bundle's training settings; the reading flags (--image-root, --encoding, columns ...)
    override them.

    Example: mmcli evaluate model/ sample_data/data.csv | jq .accuracy
    """
    from mmcli.api.evaluate import run_evaluation
    from mmcli.io.atomic import check_writable

    errors_format = _errors_format(errors) if errors is not None else None
    for target, folder in ((report, True), (errors, False), (rejects, False)):
        if target is not None:
            check_writable(target, force=force, folder=folder)
    console = make_console(quiet)
    evaluation = run_evaluation(bundle, data[0] if len(data) == 1 else data, split=split, fmt=flags.input_format,
                                prep_overrides=dict(flags.prep), attribution=report is not None,
                                notify=lambda message: console.print(Text(f"mmcli: {message}")),
                                rejects=(lambda path: _copy(path, rejects, force))
                                if rejects is not None else None)
    result = evaluation.metrics
    if errors is not None:
        _write_errors(evaluation, errors, errors_format, force, console)
    if report is not None:
        from mmcli.report.markdown import write_report

        page = write_report(result, report, evaluation.task.report(result), force=force)
        console.print(f"report -> {page}", markup=False)
    read = result["data_issues"]
    console.print(f"{read['rows']} rows read: {read['kept']} kept ({read['masked']} with a "
                  f"modality masked), {read['rejected']} rejected (not scored)"
                  + (f"; every problem -> {rejects}" if rejects else ""), markup=False)
    for reason, count in read["issues"].items():
        console.print(f"  {count:>6}  {reason}", markup=False)
    render_warnings(console, read["warnings"])
    render_unseen(console, result.get("unseen_categories", {}))
    for line in evaluation.task.evaluate_lines(result):
        console.print(line)
    for name, lost in result.get("missing_inputs", {}).items():
        warn(console, missing_input_line(name, lost["reason"], lost["columns"], lost["rows"]))
    emit_json(result)


def _copy(source: Path, target: Path, force: bool) -> None:
    import shutil

    from mmcli.io.atomic import atomic_file

    with atomic_file(target, force=force) as tmp:
        shutil.copyfile(source, tmp)


def _errors_format(path: Path) -> str:
    fmt = ERROR_FILES.get(path.suffix.lower())
    if fmt is None:
        raise typer.BadParameter(f"the file must end in {one_of(ERROR_FILES)}",
                                 param_hint="--errors")
    return fmt


def _write_errors(evaluation, path: Path, fmt: str, force: bool, console) -> None:
    from mmcli.api.evaluate import misclassified
    from mmcli.io.atomic import atomic_file
    from mmcli.io.records import write_records

    records = misclassified(evaluation)
    with atomic_file(path, force=force) as tmp, open(tmp, "w", encoding="utf-8",
                                                     newline="") as handle:
        write_records(records, handle, fmt)
    console.print(f"{len(records)} misclassified rows -> {path}")

