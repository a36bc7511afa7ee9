"""``mmcli preprocess TABLE --out DIR`` (or ``--check``: validate only, as ``mmcli check``)."""

from __future__ import annotations

from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, message_console, render_prep_summary, row_progress


@reports_errors
@opt.table_flags(opt.READING + opt.CLEANING)
def preprocess(
    table: opt.TableArg,
    out: opt.OutDir = None,
    check: Annotated[bool, typer.Option("--check", help="Validate only, as mmcli check does: the JSON report on stdout, nothing written (instead of --out).", rich_help_panel=opt.CHECK)] = False,
    max_reject_fraction: opt.MaxRejectFraction = None,
    need_label: opt.NeedLabel = False,
    flags: opt.TableFlags = opt.FROM_GROUP,
    shard: Annotated[str | None, typer.Option("--shard", metavar="I/N", help="Prepare only part I of N of the rows (data row r goes to part ((r-1) mod N)+1; ids, duplicates and labels judged over the whole table). Train and evaluate take the N folders together as one dataset.", show_default=False)] = None,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Clean, align and decode a table (a path, or - for stdin) into a prepared dataset folder.

    Writes DIR/schema.json, examples.parquet, images/ (audio/ ...) and rejects.csv (one line
    per problem of a row: rejected, masked, imputed or noted); prints a JSON summary on stdout. With --check instead of
    --out, validates without writing, exactly as mmcli check. A modality missing or
    unusable in every kept row is an error (exit 3, nothing written) unless
    --allow-missing-modality; with --shard it is left to train, which sees every part.

    Example: mmcli preprocess data.csv --out prepared/ | jq .kept

    Split across machines: mmcli preprocess data.csv --shard 2/4 --out prepared/part-2
    """
    from mmcli.data.shard import Part
    from mmcli.errors import UsageError

    part = Part.parse(shard) if shard is not None else None
    if part is not None and check:
        raise UsageError("--shard only applies with --out: --check validates the whole table")

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
    if check:
        from mmcli.cli.check import report_check  # here: its module only for --check

        report_check(table, flags, need_label=need_label,
                     max_reject_fraction=max_reject_fraction, quiet=quiet)
        return
    from mmcli.api.prepare import prepare

    config = flags.config()
    console = message_console(quiet)
    progress, on_start, on_row = row_progress(console, "preprocessing")
    with progress:
        schema = prepare(table, config, out, force=force, fmt=flags.input_format,
                         on_start=on_start, on_row=on_row, part=part,
                         refuse_lost=part is None)
    render_prep_summary(console, schema, out)
    emit_json({"out": str(out), **schema})
