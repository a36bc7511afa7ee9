"""``mmcli explain BUNDLE INPUT --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.output import emit_json, make_console

EXPLAIN = "Explain"


@reports_errors
@opt.table_flags(opt.READING.overriding(opt.AS_TRAINED))
def explain(
    bundle: opt.BundleArg,
    input: Annotated[str, typer.Argument(help="A prepared folder or a raw table (as evaluate takes).")],
    out: Annotated[Path, typer.Option("--out", "-o", callback=opt.not_stdout, help="Folder to write: explanations.jsonl, images/*.png, index.html.", rich_help_panel=opt.OUTPUT)],
    rows: Annotated[int, typer.Option(help="Explain the first N rows.", min=1, rich_help_panel=EXPLAIN)] = 50,
    ids: Annotated[str | None, typer.Option(help="Comma-separated ids to explain instead of the first rows.", rich_help_panel=EXPLAIN)] = None,
    target: Annotated[str, typer.Option(help="The class explained: predicted, true (needs a label column) or a label of the model.", rich_help_panel=EXPLAIN)] = "predicted",
    steps: Annotated[int, typer.Option(help="Integrated Gradients steps per image (more: closer to completeness, slower).", min=1, rich_help_panel=EXPLAIN)] = 16,
    seed: Annotated[int, typer.Option(help="Seed of sampled Shapley values (models with more than 6 modalities).", rich_help_panel=EXPLAIN)] = 0,
    flags: opt.TableFlags = opt.FROM_GROUP,
    force: opt.Force = False,
    quiet: opt.Quiet = False,
) -> None:
    """Explain predictions row by row: which modality decided, and what inside it mattered.

    For each row: the Shapley value of each modality for the target class's probability and
    log-odds (masking modalities through the model's own absent path; they sum to
    p(all) - p(none)), an Integrated Gradients saliency overlay per image, a score per text
    token (leave-one-token-out). Writes DIR/explanations.jsonl (one object per row),
    DIR/images/*.png and DIR/index.html (a card per row), atomically; prints a JSON summary.

    Example: mmcli explain model/ sample_data/data.csv --out why/ --rows 20
    """
    from mmcli.api.explain import ExplainOptions
    from mmcli.api.explain import explain as run
    from mmcli.io.atomic import check_writable

    check_writable(out, force=force, folder=True)
    chosen = tuple(i for i in ids.split(",") if i.strip()) if ids is not None else None
    options = ExplainOptions(rows=rows, ids=chosen, target=target, seed=seed, steps=steps)
    summary = run(bundle, input, out, options, force=force, fmt=flags.input_format,
                  prep_overrides=dict(flags.prep))
    console = make_console(quiet)
    console.print(f"explained {summary.rows} rows -> {out / 'index.html'}", markup=False)
    read = summary.data_issues
    console.print(f"{read['rows']} rows read: {read['kept']} kept ({read['masked']} with a "
                  f"modality masked: see each record's absent), {read['rejected']} rejected",
                  markup=False)
    for reason, count in read["issues"].items():
        console.print(f"  {count:>6}  {reason}", markup=False)
    emit_json(summary.to_dict())
