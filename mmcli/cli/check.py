"""``mmcli check TABLE``: validate a table and report as JSON, writing nothing.

``report_check`` is the whole of it, shared with ``mmcli preprocess TABLE --check``.
"""

from __future__ import annotations

from pathlib import Path

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, make_console, render_prep_summary, row_progress


@reports_errors
def check(
    table: str,
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
    quiet: opt.Quiet = False,
) -> None:
    """Validate TABLE (a path, or - for stdin) exactly as preprocess would, without writing.

    Prints a JSON report on stdout: counts of rows kept, masked and rejected by reason,
    labels, warnings, and every rejects.csv line under "rejects". Exits with code 5 when
    the rejected share exceeds --max-reject-fraction (default 0: any rejected row).
    Same as: mmcli preprocess TABLE --check.

    Example: mmcli check data.csv --max-reject-fraction 0.05 | jq .issues
    """
    report_check(table, opt.prep_flags(
        id_col=id_col, image_col=image_col, text_col=text_col, label_col=label_col,
        split_col=split_col, image_size=image_size, on_missing=on_missing, lowercase=lowercase,
        max_text_chars=max_text_chars, allow_outside_root=allow_outside_root, workers=workers,
        encoding=encoding, text_sep=text_sep, text_inputs=text_inputs, image_root=image_root, image_dir=image_dir,
        join=join, label_case=label_case, label_map=label_map, duplicates=duplicates,
        min_image_side=min_image_side, max_pixels=max_pixels),
        fmt=input_format, need_label=need_label, max_reject_fraction=max_reject_fraction,
        quiet=quiet)


def report_check(
    table: str | Path,
    flags: dict,
    *,
    fmt: str | None,
    need_label: bool,
    max_reject_fraction: float | None,
    quiet: bool,
) -> None:
    """Check ``table`` with the preprocessing ``flags`` (see ``options.prep_flags``): the
    summary on stderr, the JSON report on stdout, nothing written.

    Raises:
        NoUsableRowsError: more rows rejected than ``max_reject_fraction`` (None: 0), or none
            usable; raised after the report is printed.
    """
    from mmcli.api.check import check_table
    from mmcli.config import PrepConfig, replace
    from mmcli.errors import NoUsableRowsError

    limit = 0.0 if max_reject_fraction is None else max_reject_fraction
    config = replace(PrepConfig(), **flags)
    console = make_console(quiet)
    progress, on_start, on_row = row_progress(console, "checking")
    with progress:
        report = check_table(table, config, fmt=fmt, need_label=need_label,
                             max_reject_fraction=limit, on_start=on_start, on_row=on_row)
    render_prep_summary(console, report, "(check: nothing written)")
    emit_json(report)
    if not report["passed"]:
        raise NoUsableRowsError(
            f"{report['rejected']} of {report['rows']} rows rejected "
            f"({report['reject_fraction']:.1%}), more than --max-reject-fraction "
            f"{limit}" if report["kept"] else f"all {report['rows']} rows rejected"
        )
