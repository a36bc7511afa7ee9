"""``mmcli tune DATA --out DIR``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mmcli.cli import options as opt
from mmcli.cli.errors import reports_errors
from mmcli.cli.helptext import literal, one_of
from mmcli.cli.output import emit_json, make_console, rejected_line, render_unused, warn
from mmcli.cli.train import CONFIG, MODEL_OPTIONS, TRAINING
from mmcli.io.tables import FORMATS

SEARCH = "Search"


@reports_errors
@opt.table_flags(opt.READING + opt.CLEANING + opt.CACHING)
@opt.adds(MODEL_OPTIONS, into="model")
@opt.adds(TRAINING, into="training")
def tune(
    data: Annotated[str, typer.Argument(help=f"A prepared folder, or a raw table ({one_of(FORMATS)}), as train takes it.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", callback=opt.not_stdout, help="The search's folder: runs/trial-NNNN (a bundle per trial), trials.csv, best.toml, history.png, importances.png, study.log.", rich_help_panel=opt.OUTPUT, show_default=False)],
    training: dict = opt.FROM_GROUP,
    model: dict = opt.FROM_GROUP,
    flags: opt.TableFlags = opt.FROM_GROUP,
    space: Annotated[Path | None, typer.Option("--space", help=literal("A TOML search space: a table per setting ([model.fusion] choices = [...]; [train.learning_rate] low, high, log); default: the space in docs/tune.md."), rich_help_panel=SEARCH, show_default=False)] = None,
    trials: Annotated[int | None, typer.Option("--trials", help="Trials this run adds to the study.", min=1, rich_help_panel=SEARCH)] = 20,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds after which no new trial starts.", min=0, rich_help_panel=SEARCH, show_default=False)] = None,
    storage: Annotated[str | None, typer.Option("--storage", help="Where the study lives: a database URL (sqlite:///tune.db) or a journal file path (several processes on one host); default: DIR/study.log. A study there is continued.", rich_help_panel=SEARCH, show_default=False)] = None,
    study: Annotated[str, typer.Option("--study", help="The study's name in the storage.", rich_help_panel=SEARCH)] = "mmcli",
    refit: Annotated[bool, typer.Option("--refit", help="Train the best settings into DIR/bundle afterwards.", rich_help_panel=SEARCH)] = False,
    config_file: Annotated[Path | None, typer.Option("--config", help="A TOML run configuration; the settings it names are fixed (not searched).", rich_help_panel=CONFIG, show_default=False)] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Fix one setting, e.g. --set model.fusion=late (repeatable; not searched).", rich_help_panel=CONFIG, show_default=False)] = None,
    quiet: opt.Quiet = False,
) -> None:
    """Search training settings with Optuna (TPE sampler, median pruning on each epoch's
    validation score) and write the best as a run configuration.

    Each trial is a train run on DATA with the same validation rows; test rows are never
    read. Settings given with --config, --set or a flag are fixed. Prints a JSON summary on
    stdout.

    Example: mmcli tune prepared/ --out search/ --trials 20 --refit
    """
    from mmcli.api.tune import Search
    from mmcli.api.tune import tune as run_tune
    from mmcli.config_io import parse_sets, read_toml, resolve_config
    from mmcli.tune.space import given_names, read_space

    sets = set_ or ()
    flag_values = {"prep": flags.prep, "model": model, "train": training}
    config = resolve_config(file=config_file, sets=sets, flags=flag_values)
    fixed = given_names(read_toml(config_file) if config_file is not None else {},
                        flag_values, parse_sets(sets))
    console = make_console(quiet)
    summary = run_tune(data, config, out, read_space(space),
                       Search(trials=trials, timeout=timeout, storage=storage, study=study,
                              refit=refit),
                       fixed=frozenset(fixed), fmt=flags.input_format, console=console,
                       on_warning=lambda message: warn(console, message))
    for note in summary.get("notes", []):
        console.print(f"note: {note}", markup=False)
    data = summary["data"]
    render_unused(console, data)
    if data.get("rejected"):
        warn(console, rejected_line(data["rows"], data["rejected"], data["rejected_by_reason"])
             + " (not trained on)")
    emit_json(summary)
