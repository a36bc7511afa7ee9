"""``mmcli check TABLE``: validate a table and report as JSON, writing nothing.

``report_check`` is the whole of it, shared with ``mmcli preprocess TABLE --check``.
"""

from __future__ import annotations

from pathlib import Path

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, message_console, render_prep_summary, row_progress


@reports_errors
@opt.table_flags(opt.READING + opt.CLEANING)
def check(
    table: opt.TableArg,
    max_reject_fraction: opt.MaxRejectFraction = None,
    need_label: opt.NeedLabel = False,
    flags: opt.TableFlags = opt.FROM_GROUP,
    quiet: opt.Quiet = False,
) -> None:
    """Validate TABLE (a path, or - for stdin) exactly as preprocess would, without writing.

    Prints a JSON report on stdout: counts of rows kept, masked and rejected by reason,
    labels, warnings, and every rejects.csv line under "rejects". Exits with code 5 when
    the rejected share exceeds --max-reject-fraction (default 0: any rejected row), or when
    a modality is missing or unusable in every kept row (unless --allow-missing-modality).
    Same as: mmcli preprocess TABLE --check.

    Example: mmcli check data.csv --max-reject-fraction 0.05 | jq .issues
    """
    report_check(table, flags, need_label=need_label,
                 max_reject_fraction=max_reject_fraction, quiet=quiet)


def report_check(
    table: str | Path,
    flags: opt.TableFlags,
    *,
    need_label: bool,
    max_reject_fraction: float | None,
    quiet: bool,
) -> None:
    """Check ``table`` read and cleaned as ``flags`` say: the summary on stderr, the JSON
    report on stdout, nothing written.

    Raises:
        NoUsableRowsError: more rows rejected than ``max_reject_fraction`` (None: 0), or none
            usable; raised after the report is printed.
    """
    from mmcli.api.check import check_table
    from mmcli.data.coverage import lost_everywhere, refusal
    from mmcli.errors import NoUsableRowsError

    limit = 0.0 if max_reject_fraction is None else max_reject_fraction
    config = flags.config()
    console = message_console(quiet)
    progress, on_start, on_row = row_progress(console, "checking")
    with progress:
        report = check_table(table, config, fmt=flags.input_format, need_label=need_label,
                             max_reject_fraction=limit, on_start=on_start, on_row=on_row)
    render_prep_summary(console, report, "(check: nothing written)")
    emit_json(report)
    if report["kept"] and report["lost_modalities"]:
        raise NoUsableRowsError(refusal(lost_everywhere(report["warnings"]), "", "to accept it"))
    if not report["passed"]:
        raise NoUsableRowsError(
            f"{report['rejected']} of {report['rows']} rows rejected "
            f"({report['reject_fraction']:.1%}), more than --max-reject-fraction "
            f"{limit}" if report["kept"] else f"all {report['rows']} rows rejected"
        )
