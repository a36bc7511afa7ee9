"""The errors a user can cause, and the exit code each one ends with.

This module is the one table of exit codes. Library code raises these
exceptions; only the CLI (``mmcli.cli.app``) turns them into a message on
stderr and an exit code. Each error subclasses the matching builtin, so a
caller that catches ``ValueError`` or ``OSError`` still catches it.
"""

from __future__ import annotations

# Exit codes: the whole table. Documented in README.md and docs/architecture.md.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_BUNDLE = 4
EXIT_REJECTS = 5
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "internal error (a bug: please report it)",
    EXIT_USAGE: "usage error: bad option, contradictory flags, or an existing output "
    "without --force",
    EXIT_DATA: "bad input data: missing or unreadable file, missing column, unknown label",
    EXIT_BUNDLE: "bad bundle: missing, incomplete, tampered or of an incompatible version",
    EXIT_REJECTS: "no usable rows, or more rejected rows than --max-reject-fraction allows",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "the reader of stdout closed it early (e.g. `| head`), as with SIGPIPE",
}


class MmcliError(Exception):
    """Base of every error mmcli reports to the user as one line."""

    exit_code = EXIT_INTERNAL


class UsageError(MmcliError, ValueError):
    """Options that cannot work together, or a value out of range."""

    exit_code = EXIT_USAGE


class OutputExistsError(UsageError, FileExistsError):
    """An output path exists and ``--force`` was not given."""


class DataError(MmcliError, ValueError):
    """Input data that cannot be read or used (file, table, column, label)."""

    exit_code = EXIT_DATA


class ImageError(DataError):
    """One image that cannot be used. ``reason`` is a short stable code.

    Reasons: ``missing``, ``not_a_file``, ``outside_root``, ``unreadable``,
    ``truncated``, ``too_large``, ``too_small``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NoUsableRowsError(DataError):
    """Every row was rejected, or more than the allowed fraction was."""

    exit_code = EXIT_REJECTS


class BundleError(MmcliError, ValueError):
    """A model bundle that is missing, incomplete, tampered or incompatible."""

    exit_code = EXIT_BUNDLE
