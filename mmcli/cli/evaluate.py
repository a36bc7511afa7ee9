"""``mmcli evaluate BUNDLE DATA``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.helptext import one_of
from mmcli.cli.output import emit_json, make_console
from mmcli.config import SPLIT_CHOICES

SPLIT_NOTES = {"auto": "the test rows if any, else all"}
ERROR_FILES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".json": "json"}  # by suffix


@reports_errors
@opt.table_flags(opt.READING.overriding(opt.AS_TRAINED))
def evaluate(
    bundle: str,
    data: str,
    split: Annotated[str, typer.Option(help="Rows to score: " + one_of(SPLIT_CHOICES, SPLIT_NOTES) + ".")] = "auto",
    flags: opt.TableFlags = opt.FROM_GROUP,
    report: Annotated[Path | None, typer.Option("--report", help="Write a folder with report.md, metrics.json and PNG plots (confusion matrix, reliability diagram, F1 per class).", rich_help_panel=opt.OUTPUT)] = None,
    errors: Annotated[Path | None, typer.Option("--errors", help=f"Write the misclassified rows with their top predictions ({one_of(ERROR_FILES)} by extension).", rich_help_panel=opt.OUTPUT)] = None,
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
    for target in (report, errors):
        if target is not None:
            check_writable(target, force=force)
    evaluation = run_evaluation(bundle, data, split=split, fmt=flags.input_format,
                                prep_overrides=dict(flags.prep))
    result = evaluation.metrics
    console = make_console(quiet)
    if errors is not None:
        _write_errors(evaluation, errors, errors_format, force, console)
    if report is not None:
        from mmcli.report.markdown import write_report

        page = write_report(result, report, force=force)
        console.print(f"report -> {page}")
    render(console, result)
    emit_json(result)


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


def render(console, result: dict) -> None:
    from rich.table import Table

    if result.get("task") == "multi_label":  # multi-label hook
        from mmcli.cli.multilabel import render_multilabel

        return render_multilabel(console, result)
    table = Table(title=f"{result['split']} rows: {result['n']}", title_justify="left")
    for column in ("label", "precision", "recall", "f1", "support"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, scores in result["per_class"].items():
        table.add_row(label, *(f"{scores[k]:.3f}" for k in ("precision", "recall", "f1")),
                      str(scores["support"]))
    console.print(table)
    console.print(f"accuracy {result['accuracy']:.3f}  macro F1 {result['macro_f1']:.3f}  "
                  f"majority-class accuracy {result['majority_accuracy']:.3f}")
    auc = result["roc_auc"]["macro"]
    console.print(f"balanced accuracy {result['balanced_accuracy']:.3f}  "
                  f"top-3 {result['top_k_accuracy'].get('3', float('nan')):.3f}  "
                  f"log-loss {result['log_loss']:.3f}  ECE {result['ece']:.3f}  "
                  f"ROC-AUC {'n/a' if auc is None else f'{auc:.3f}'}")
    for name, value in result.get("modalities", {}).items():
        console.print(f"  {name.replace('_', ' ')}: accuracy {value:.3f}")
    for name, value in result.get("modality_contribution", {}).items():
        console.print(f"  {name} contributes {value:+.3f} accuracy")
    if result.get("fusion_weights"):
        console.print("  fusion weights: " + ", ".join(
            f"{k} {v:.3f}" for k, v in result["fusion_weights"].items()))
    for name, scores in (result.get("by_missingness") or {}).items():
        if scores["n"]:
            console.print(f"  rows with {name.replace('_', ' ')}: n {scores['n']}  "
                          f"accuracy {scores['accuracy']:.3f}")
