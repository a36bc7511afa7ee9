"""The errors a user can cause, and the exit code each one ends with.

This module is the one table of exit codes. Library code raises these
exceptions; only the CLI (``mmcli.cli.app``) turns them into a message on
stderr and an exit code. Each error subclasses the matching builtin, so a
caller that catches ``ValueError`` or ``OSError`` still catches it.
"""

from __future__ import annotations

import errno

# Exit codes: the whole table. Documented in README.md and docs/architecture.md.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DATA = 3
EXIT_BUNDLE = 4
EXIT_REJECTS = 5
EXIT_BUSY = 6
EXIT_RESOURCES = 7
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_INTERNAL: "internal error (a bug: please report it)",
    EXIT_USAGE: "usage error: bad option, contradictory flags, or an existing output "
    "without --force",
    EXIT_DATA: "bad input data: missing or unreadable file, missing column, unknown label",
    EXIT_BUNDLE: "bad bundle: missing, incomplete, tampered or of an incompatible version",
    EXIT_REJECTS: "no usable rows, or more rejected rows than --max-reject-fraction allows",
    EXIT_BUSY: "the output is being written by another mmcli process (its lock is held)",
    EXIT_RESOURCES: "out of resources: the disk is full (or over quota) or memory ran out",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_TERMINATED: "terminated (SIGTERM, e.g. `kill PID`): cleaned up as for Ctrl-C",
    EXIT_BROKEN_PIPE: "the reader of stdout closed it early (e.g. `| head`), as with SIGPIPE",
}


class MmcliError(Exception):
    """Base of every error mmcli reports to the user as one line."""

    exit_code = EXIT_INTERNAL


class UsageError(MmcliError, ValueError):
    """Options that cannot work together, or a value out of range."""

    exit_code = EXIT_USAGE


class WeightsUnavailableError(UsageError):
    """Pretrained weights were asked for but cannot be had (not cached, not downloadable, or
    of no use at this input size).

    ``fallback``: model settings to use instead when the user let mmcli choose (e.g.
    ``{"image_encoder": "small_cnn", "image_weights": "none"}`` under ``auto``), with
    ``fallback_note`` saying what they are; None when the choice was explicit.
    """

    def __init__(self, message: str, fallback: dict | None = None, fallback_note: str = ""):
        super().__init__(message)
        self.fallback = fallback
        self.fallback_note = fallback_note


class OutputExistsError(UsageError, FileExistsError):
    """An output path exists and ``--force`` was not given."""


class DataError(MmcliError, ValueError):
    """Input data that cannot be read or used (file, table, column, label)."""

    exit_code = EXIT_DATA


class CellError(DataError):
    """One cell (an image file, an audio file ...) that cannot be used. ``reason`` is a short
    stable code written to rejects.csv."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ImageError(CellError):
    """One image that cannot be used.

    Reasons: ``missing``, ``not_a_file``, ``outside_root``, ``unreadable``,
    ``truncated``, ``too_large``, ``too_small``.
    """


class NoUsableRowsError(DataError):
    """Every row was rejected, or more than the allowed fraction was."""

    exit_code = EXIT_REJECTS


class BundleError(MmcliError, ValueError):
    """A model bundle that is missing, incomplete, tampered or incompatible."""

    exit_code = EXIT_BUNDLE


class OutputLockedError(MmcliError, BlockingIOError):
    """Another mmcli process holds the lock of the output being written."""

    exit_code = EXIT_BUSY


class ResourceError(MmcliError, OSError):
    """The disk is full or over quota, or memory ran out."""

    exit_code = EXIT_RESOURCES


def resource_error(exc: BaseException) -> ResourceError | None:
    """The :class:`ResourceError` behind ``exc`` (or its causes), if it is one.

    A full disk or quota (``ENOSPC``, ``EDQUOT``) while writing, Python's ``MemoryError``,
    TensorFlow's ``ResourceExhaustedError`` and a decoding pool whose worker was killed
    (``BrokenProcessPool``: the out-of-memory killer picks the biggest process, often a
    worker) become one clear message; None otherwise.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ResourceError):
            return current
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            where = f" writing {current.filename}" if current.filename else ""
            return ResourceError(
                f"no space left on the device{where} ({current.strerror or current}); "
                "free some space and run again (nothing was left half-written)"
            )
        if isinstance(current, MemoryError) or type(current).__name__ == "ResourceExhaustedError":
            return ResourceError(
                "out of memory; try a smaller --batch-size or --image-size, or fewer --workers"
            )
        if type(current).__name__ == "BrokenProcessPool":  # concurrent.futures' (no import)
            return ResourceError(
                "a decoding worker process was killed (the system's out-of-memory killer, or "
                "a signal); try fewer --workers or a smaller --image-size, and run again"
            )
        current = current.__cause__ or current.__context__
    return None
