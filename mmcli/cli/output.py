"""Where output goes: data to stdout, people's messages to stderr (rich)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console


def make_console(quiet: bool = False) -> Console:
    """A stderr console; quiet silences everything but errors."""
    return Console(stderr=True, quiet=quiet, highlight=False)


def emit_json(data: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=_default) + "\n")
    sys.stdout.flush()


def _default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def row_progress(console: Console, description: str):
    """A rich progress bar for rows (use it as a context manager), with ``on_start(total)``
    and ``on_row()`` hooks for the library to call."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    state: dict[str, Any] = {}

    def on_start(total: int) -> None:
        state["task"] = progress.add_task(description, total=total)

    def on_row() -> None:
        progress.advance(state["task"])

    return progress, on_start, on_row
