"""``mmcli export BUNDLE --format savedmodel|tflite|onnx [--out PATH]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.helptext import shown_default
from mmcli.cli.output import emit_json, make_console

EXPORT_FORMATS = ("savedmodel", "tflite", "onnx")  # as mmcli.api.export.FORMATS


@reports_errors
def export(
    bundle: Annotated[str, typer.Argument(help="The bundle folder (from mmcli train).")],
    format: Annotated[str, typer.Option("--format", "-f", help="savedmodel (raw inputs: image bytes, text, waveform, tabular cells; TensorFlow only), tflite (LiteRT) or onnx (numeric inputs; the contract and a README beside the model).", rich_help_panel=opt.OUTPUT)],
    out: Annotated[Path | None, typer.Option("--out", "-o", callback=opt.not_stdout, help="The folder to write (atomically). Without it, tflite and onnx go into the bundle's engine/ (hashed in bundle.json), where mmcli predict --engine auto finds them.", rich_help_panel=opt.OUTPUT)] = None,
    check_data: Annotated[str | None, typer.Option(help="A table whose first rows the export is checked on. " + shown_default("the training table, when it is still there"), show_default=False, rich_help_panel=opt.CHECK)] = None,
    check_rows: Annotated[int, typer.Option(help="How many usable rows the check compares.", min=1, rich_help_panel=opt.CHECK)] = 256,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Export BUNDLE for TensorFlow Serving (savedmodel), LiteRT (tflite) or ONNX Runtime.

    The export is loaded back in its own runtime and run on rows of a table before anything
    is written; it fails (exit 3, nothing written) when the top-1 label differs on more than
    0.5% of the rows or a probability by more than the format's tolerance. The JSON summary
    on stdout gives both figures.

    Example: mmcli export model/ --format savedmodel --out served/1
    """
    from mmcli.api.export import export_bundle
    from mmcli.bundle import read_bundle

    if format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(EXPORT_FORMATS)}",
                                 param_hint="--format")
    console = make_console(quiet)
    summary = export_bundle(read_bundle(bundle), format, out, force=force,
                            check_data=check_data, check_rows=check_rows)
    check = summary["check"]
    console.print(f"{format} export checked on {check['rows']} rows: top-1 agreement "
                  f"{check['top1_agreement']}, largest probability difference "
                  f"{check['max_prob_diff']} -> {summary['out']}", markup=False)
    emit_json(summary)
