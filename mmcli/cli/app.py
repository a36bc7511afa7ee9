"""The ``mmcli`` command: subcommands assembled from one module each.

Importing this module imports neither TensorFlow nor pandas; each command
imports what it needs when it runs. ``mmcli COMMAND ...`` imports and builds only that
command's module (:func:`main`); ``app`` (every command: ``mmcli --help``, tests) is built
on first use.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from typing import Any

import typer
from typer._click import exceptions as click_exceptions  # Typer >= 0.26 vendors Click
from typer.core import TyperGroup

from mmcli import __version__
from mmcli.cli.coerce import install as install_plain_values
from mmcli.cli.help_text import reflow
from mmcli.cli.helptext import escape
from mmcli.errors import EXIT_CODES

# Every command, in the order of the help: the function ``<name>`` of ``mmcli/cli/<name>.py``
COMMANDS = ("preprocess", "train", "evaluate", "predict", "check", "inspect", "explain", "serve",
            "export", "tune")


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


def _exit_table() -> str:
    return "\n".join(f"{code:>5}  {escape(meaning)}" for code, meaning in EXIT_CODES.items())


def build(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The ``mmcli`` Typer app with the commands ``names`` (each module imported now)."""
    app = typer.Typer(
        name="mmcli",
        help="Train, evaluate and serve multimodal (image, text, audio, tabular) classifiers.\n\n"
        "Data goes to stdout, messages to stderr. Exit codes:\n\n" + _exit_table(),
        no_args_is_help=True,
        cls=_OneLineErrors,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    for name in names:
        command = getattr(importlib.import_module(f"mmcli.cli.{name}"), name)
        app.command(help=reflow(command.__doc__ or ""))(command)
    app.callback()(_root)
    return app


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mmcli {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Train, evaluate and serve multimodal (image, text, audio, tabular) classifiers."""


def __getattr__(name: str) -> Any:
    """``app``: every command (built once, on first use)."""
    if name == "app":
        globals()["app"] = app = build()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: ``mmcli COMMAND ...`` builds that command alone (the
    other modules' imports and Typer's reading of their signatures: ~0.03 s of start-up).
    The garbage collector, paused by the console script, resumes once the command is built
    (:func:`mmcli.cli.collector.resume`)."""
    from mmcli.cli.collector import resume

    first = sys.argv[1] if len(sys.argv) > 1 else None
    command = build([first] if first in COMMANDS else COMMANDS)
    resume()
    command(prog_name="mmcli")
