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
    encoding: opt.Encoding = None,
    text_sep: opt.TextSep = None,
    image_root: opt.ImageRoot = None,
    image_dir: opt.ImageDir = None,
    join: opt.Join = None,
    image_size: opt.ImageSize = None,
    on_missing: opt.OnMissing = None,
    lowercase: opt.Lowercase = None,
    max_text_chars: opt.MaxTextChars = None,
    label_case: opt.LabelCase = None,
    label_map: opt.LabelMap = None,
    duplicates: opt.Duplicates = None,
    min_image_side: opt.MinImageSide = None,
    max_pixels: opt.MaxPixels = None,
    allow_outside_root: opt.AllowOutsideRoot = None,
    workers: opt.Workers = None,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Clean, align and decode a table (a path, or - for stdin) into a prepared dataset folder.

    Writes DIR/schema.json, examples.parquet, images/ and rejects.csv (one line per
    rejected or masked row); prints a JSON summary on stdout. To validate without
    writing, use mmcli check.

    Example: mmcli preprocess data.csv --out prepared/ | jq .kept
    """
    from mmcli.config import PrepConfig, replace
    from mmcli.data.prepare import prepare

    config = replace(PrepConfig(), **opt.prep_flags(
        id_col=id_col, image_col=image_col, text_col=text_col, label_col=label_col,
        split_col=split_col, image_size=image_size, on_missing=on_missing, lowercase=lowercase,
        max_text_chars=max_text_chars, allow_outside_root=allow_outside_root, workers=workers,
        encoding=encoding, text_sep=text_sep, image_root=image_root, image_dir=image_dir,
        join=join, label_case=label_case, label_map=label_map, duplicates=duplicates,
        min_image_side=min_image_side, max_pixels=max_pixels))
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
    if schema.get("join"):
        join = schema["join"]
        console.print(f"  join on {join['on']} with {join['table']}: {join['matched']} matched, "
                      f"{join['only_in_table']} ids only in the table, "
                      f"{join['only_in_join']} only in the joined table")
    for warning in schema.get("warnings", []):
        console.print(f"[yellow]warning: {warning}[/]")
