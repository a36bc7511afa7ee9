"""The ``mmcli`` command: subcommands assembled from one module each.

Importing this module imports neither TensorFlow nor pandas; each command
imports what it needs when it runs.
"""

from __future__ import annotations

import typer
from rich.markup import escape

from mmcli import __version__
from mmcli.cli.check import check
from mmcli.cli.evaluate import evaluate
from mmcli.cli.explain import explain
from mmcli.cli.inspect import inspect
from mmcli.cli.predict import predict
from mmcli.cli.preprocess import preprocess
from mmcli.cli.train import train
from mmcli.errors import EXIT_CODES

EXIT_TABLE = "\n".join(f"{code:>5}  {escape(meaning)}" for code, meaning in EXIT_CODES.items())

app = typer.Typer(
    name="mmcli",
    help="Train, evaluate and serve multimodal (image + text) classifiers.\n\n"
    "Data goes to stdout, messages to stderr. Exit codes:\n\n" + EXIT_TABLE,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.command()(preprocess)
app.command()(train)
app.command()(evaluate)
app.command()(predict)
app.command()(check)
app.command()(inspect)
app.command()(explain)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Train, evaluate and serve multimodal (image + text) classifiers."""


def main() -> None:
    """Console-script entry point."""
    app()
