"""The ``mmcli`` command: subcommands assembled from one module each.

Importing this module imports neither TensorFlow nor pandas; each command
imports what it needs when it runs.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.markup import escape
from typer._click import exceptions as click_exceptions  # Typer >= 0.26 vendors Click
from typer.core import TyperGroup

from mmcli import __version__
from mmcli.cli.check import check
from mmcli.cli.coerce import install as install_plain_values
from mmcli.cli.evaluate import evaluate
from mmcli.cli.explain import explain
from mmcli.cli.export import export
from mmcli.cli.help_text import reflow
from mmcli.cli.inspect import inspect
from mmcli.cli.predict import predict
from mmcli.cli.preprocess import preprocess
from mmcli.cli.serve import serve
from mmcli.cli.train import train
from mmcli.cli.tune import tune
from mmcli.errors import EXIT_CODES


class _OneLineErrors(TyperGroup):
    """The root group: an error of the command-line parser (an unknown option, a bad value) is
    one line ``mmcli: error: ...`` on stderr with Click's exit code (2), like every other
    error (:mod:`mmcli.cli.errors`), instead of Typer's usage text and boxed panel."""

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:
            sys.stderr.write("mmcli: aborted\n")
            sys.exit(1)
        except click_exceptions.ClickException as exc:
            if type(exc).__name__ != "NoArgsIsHelpError":  # its help is already printed
                sys.stderr.write(f"mmcli: error: {' '.join(exc.format_message().split())}\n")
            sys.exit(exc.exit_code)
        sys.exit(result if isinstance(result, int) else 0)


install_plain_values()  # plain option values without pydantic (mmcli.cli.coerce)

EXIT_TABLE = "\n".join(f"{code:>5}  {escape(meaning)}" for code, meaning in EXIT_CODES.items())

app = typer.Typer(
    name="mmcli",
    help="Train, evaluate and serve multimodal (image, text, audio, tabular) classifiers.\n\n"
    "Data goes to stdout, messages to stderr. Exit codes:\n\n" + EXIT_TABLE,
    no_args_is_help=True,
    cls=_OneLineErrors,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
for _command in (preprocess, train, evaluate, predict, check, inspect, explain, serve, export,
                 tune):
    app.command(help=reflow(_command.__doc__ or ""))(_command)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmcli {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Train, evaluate and serve multimodal (image, text, audio, tabular) classifiers."""


def main() -> None:
    """Console-script entry point."""
    app(prog_name="mmcli")
