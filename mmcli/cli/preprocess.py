"""``mmcli preprocess TABLE --out DIR`` (or ``--check``: validate only, as ``mmcli check``)."""

from __future__ import annotations

from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.check import report_check
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, make_console, render_prep_summary, row_progress


@reports_errors
def preprocess(
    table: str,
    out: opt.OutDir = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only, as mmcli check does: the JSON report on stdout, nothing written (instead of --out).", rich_help_panel=opt.CHECK)] = False,
    max_reject_fraction: opt.MaxRejectFraction = None,
    need_label: opt.NeedLabel = False,
    id_col: opt.IdCol = None,
    image_col: opt.ImageCol = None,
    text_col: opt.TextCol = None,
    label_col: opt.LabelCol = None,
    split_col: opt.SplitCol = None,
    input_format: opt.InputFormat = None,
    encoding: opt.Encoding = None,
    text_sep: opt.TextSep = None,
    text_inputs: opt.TextInputs = None,
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
    rejected or masked row); prints a JSON summary on stdout. With --check instead of
    --out, validates without writing, exactly as mmcli check.

    Example: mmcli preprocess data.csv --out prepared/ | jq .kept
    """
    from mmcli.errors import UsageError

    if check and out is not None:
        raise UsageError("--out and --check cannot be used together: --check writes nothing")
    if check and force:
        raise UsageError("--force only applies with --out: --check writes nothing")
    if not check:
        if out is None:
            raise UsageError("preprocess needs --out DIR, or --check to validate without writing")
        misplaced = [flag for flag, given in (("--max-reject-fraction", max_reject_fraction is not None),
                                              ("--need-label", need_label)) if given]
        if misplaced:
            verb = "apply" if len(misplaced) > 1 else "applies"
            raise UsageError(f"{' and '.join(misplaced)} only {verb} with --check "
                             "(validate without writing)")
    flags = opt.prep_flags(
        id_col=id_col, image_col=image_col, text_col=text_col, label_col=label_col,
        split_col=split_col, image_size=image_size, on_missing=on_missing, lowercase=lowercase,
        max_text_chars=max_text_chars, allow_outside_root=allow_outside_root, workers=workers,
        encoding=encoding, text_sep=text_sep, text_inputs=text_inputs, image_root=image_root, image_dir=image_dir,
        join=join, label_case=label_case, label_map=label_map, duplicates=duplicates,
        min_image_side=min_image_side, max_pixels=max_pixels)
    if check:
        report_check(table, flags, fmt=input_format, need_label=need_label,
                     max_reject_fraction=max_reject_fraction, quiet=quiet)
        return
    from mmcli.api.prepare import prepare
    from mmcli.config import PrepConfig, replace

    config = replace(PrepConfig(), **flags)
    console = make_console(quiet)
    progress, on_start, on_row = row_progress(console, "preprocessing")
    with progress:
        schema = prepare(table, config, out, force=force, fmt=input_format,
                         on_start=on_start, on_row=on_row)
    render_prep_summary(console, schema, out)
    emit_json({"out": str(out), **schema})
