"""``mmcli evaluate BUNDLE DATA``."""

from __future__ import annotations

from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, make_console


@reports_errors
def evaluate(
    bundle: str,
    data: str,
    split: Annotated[str, typer.Option(help="Rows to score: auto (the test rows if any, else all), train, val, test or all.")] = "auto",
    id_col: opt.IdCol = None,
    image_col: opt.ImageCol = None,
    text_col: opt.TextCol = None,
    label_col: opt.LabelCol = None,
    split_col: opt.SplitCol = None,
    input_format: opt.InputFormat = None,
    quiet: opt.Quiet = False,
) -> None:
    """Score a bundle on labelled DATA (a prepared folder or a raw table).

    Prints metrics as JSON on stdout (accuracy, macro_f1, per_class, confusion_matrix, each
    modality alone, fusion weights) and a table on stderr.

    Example: mmcli evaluate model/ sample_data/data.csv | jq .accuracy
    """
    from mmcli.evaluate import evaluate as run_evaluation

    overrides = opt.prep_flags(id_col=id_col, image_col=image_col, text_col=text_col,
                               label_col=label_col, split_col=split_col)
    result = run_evaluation(bundle, data, split=split, fmt=input_format,
                            prep_overrides=overrides)
    render(make_console(quiet), result)
    emit_json(result)


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
    for name, value in result.get("modalities", {}).items():
        console.print(f"  {name.replace('_', ' ')}: accuracy {value:.3f}")
