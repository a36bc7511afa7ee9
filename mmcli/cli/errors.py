"""The one place where errors become a message on stderr and an exit code."""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import typer

from mmcli.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    MmcliError,
    resource_error,
)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command: an :class:`MmcliError` becomes one line and its exit code; any other
    exception is an internal error (exit 1; the traceback only with ``MMCLI_DEBUG=1``)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MmcliError as exc:
            sys.stderr.write(f"mmcli: error: {_one_line(exc)}\n")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # The reader of stdout went away (`| head`): stop quietly, as Unix tools do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(EXIT_BROKEN_PIPE) from None
        except KeyboardInterrupt:
            sys.stderr.write("mmcli: interrupted\n")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, typer.BadParameter):
            raise
        except Exception as exc:
            short = resource_error(exc)  # disk full, out of memory: the user's to fix
            if short is not None:
                if os.environ.get("MMCLI_DEBUG"):
                    traceback.print_exc()
                sys.stderr.write(f"mmcli: error: {_one_line(short)}\n")
                raise typer.Exit(short.exit_code) from None
            if os.environ.get("MMCLI_DEBUG"):
                traceback.print_exc()
            sys.stderr.write(
                f"mmcli: internal error: {type(exc).__name__}: {_one_line(exc)} "
                "(set MMCLI_DEBUG=1 for the traceback; please report it)\n"
            )
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper
