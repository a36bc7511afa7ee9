"""``mmcli preprocess TABLE --out DIR``."""

from __future__ import annotations

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, make_console, row_progress


@reports_errors
def preprocess(
    table: str,
    out: opt.OutDir,
    id_col: opt.IdCol = None,
    image_col: opt.ImageCol = None,
    text_col: opt.TextCol = None,
    label_col: opt.LabelCol = None,
    split_col: opt.SplitCol = None,
    input_format: opt.InputFormat = None,
    image_size: opt.ImageSize = None,
    on_missing: opt.OnMissing = None,
    lowercase: opt.Lowercase = None,
    max_text_chars: opt.MaxTextChars = None,
    allow_outside_root: opt.AllowOutsideRoot = None,
    workers: opt.Workers = None,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Clean, align and decode a table (a path, or - for stdin) into a prepared dataset folder.

    Writes DIR/schema.json, examples.parquet, images/ and rejects.csv (one line per
    rejected or masked row); prints a JSON summary on stdout.

    Example: mmcli preprocess data.csv --out prepared/ | jq .kept
    """
    from mmcli.config import PrepConfig, replace
    from mmcli.data.prepare import prepare

    config = replace(PrepConfig(), **opt.prep_flags(
        id_col=id_col, image_col=image_col, text_col=text_col, label_col=label_col,
        split_col=split_col, image_size=image_size, on_missing=on_missing, lowercase=lowercase,
        max_text_chars=max_text_chars, allow_outside_root=allow_outside_root, workers=workers))
    console = make_console(quiet)
    progress, on_start, on_row = row_progress(console, "preprocessing")
    with progress:
        schema = prepare(table, config, out, force=force, fmt=input_format,
                         on_start=on_start, on_row=on_row)
    render_summary(console, schema, out)
    emit_json({"out": str(out), **schema})


def render_summary(console, schema: dict, out) -> None:
    console.print(
        f"[bold]{schema['rows']}[/] rows: [green]{schema['kept']} kept[/] "
        f"({schema['masked']} with a modality masked), [red]{schema['rejected']} rejected[/]"
        f" -> {out}"
    )
    for reason, count in schema["issues"].items():
        console.print(f"  {count:>6}  {reason}")
    console.print(f"  labels: {', '.join(f'{k} ({v})' for k, v in schema['class_counts'].items())}")
