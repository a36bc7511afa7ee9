"""Where output goes: data to stdout, people's messages to stderr (rich)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from mmcli.cli.helptext import escape

if TYPE_CHECKING:
    from rich.console import Console


def make_console(quiet: bool = False) -> Console:
    """A stderr console for informational lines; ``quiet`` silences them (warnings go
    through :func:`warn` and errors through :mod:`mmcli.cli.errors`, so both still show).

    Live displays (progress bars) need a real terminal. Rich also treats stderr as one when
    ``FORCE_COLOR`` is set, and would then redraw its bars into a log file; so when stderr is
    not a terminal the console is told so, keeping the colours rich chose but no live display,
    and lines are never wrapped (a script reads one message per line).
    """
    from rich.console import Console

    console = Console(stderr=True, quiet=quiet, highlight=False)
    if not _isatty(console.file):
        console = Console(stderr=True, quiet=quiet, highlight=False, force_terminal=False,
                          color_system=console.color_system, soft_wrap=True)
    return console


class Silent:
    """The console of a ``--quiet`` command that hands it to no library code
    (:func:`message_console`): it prints nothing and is no terminal, so warnings are plain
    lines (:func:`warn`) and no progress bar is drawn (:func:`row_progress`), as with a quiet
    rich console."""

    quiet = True
    is_terminal = False

    def print(self, *objects: Any, **options: Any) -> None:
        return None


def message_console(quiet: bool = False) -> Console | Silent:
    """:func:`make_console` for a command that only prints through it (preprocess, check):
    with ``quiet`` a :class:`Silent` one, and rich is never imported (0.02 CPU s a run)."""
    return Silent() if quiet else make_console()


def warn(console: Console | Silent, message: str) -> None:
    """``mmcli: warning: message`` on stderr, also with ``--quiet``: yellow on a terminal, else one
    plain unwrapped line. ``message`` is printed as given (no rich markup)."""
    if console.quiet or not console.is_terminal:
        sys.stderr.write(f"mmcli: warning: {message}\n")
        sys.stderr.flush()
        return
    from rich.text import Text

    console.print(Text(f"mmcli: warning: {message}", style="yellow"))


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


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
    and ``on_row()`` hooks for the library to call. Off unless stderr is a terminal: then a
    context that draws nothing, and hooks that cost nothing a row (rich.progress is not even
    imported: 0.01 CPU s of every non-interactive run)."""
    if not console.is_terminal:
        return _NoBar(), _ignore, _nothing
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)
    state: dict[str, Any] = {}

    def on_start(total: int) -> None:
        state["task"] = progress.add_task(description, total=total)

    def on_row() -> None:
        progress.advance(state["task"])

    return progress, on_start, on_row


class _NoBar:
    """The progress "bar" of a run whose stderr is no terminal: a context that draws nothing."""

    disable = True

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _ignore(total: int) -> None:
    return None


def _nothing() -> None:
    return None


def render_prep_summary(console: Console, summary: dict, out: Any) -> None:
    """The preprocess / check summary for people: counts, issues, labels, join, warnings."""
    console.print(
        f"[bold]{summary['rows']}[/] rows: [green]{summary['kept']} kept[/] "
        f"({summary['masked']} with a modality masked), [red]{summary['rejected']} rejected[/]"
        f" -> {escape(str(out))}"
    )
    for reason, count in summary["issues"].items():
        console.print(f"  {count:>6}  {reason}")
    counts = summary["class_counts"]
    if counts:  # labels as written: no markup read in them
        console.print(f"  labels: {', '.join(f'{k} ({v})' for k, v in counts.items())}",
                      markup=False, highlight=False)
    elif (summary.get("roles") or {}).get("label") is None:
        console.print("  labels: none (no label column)")
    else:
        console.print("  labels: none (the label cell of every kept row is empty)")
    render_unused(console, summary.get("roles", {}))
    if summary.get("join"):
        console.print("  " + join_line(summary["join"]), markup=False)
    render_warnings(console, summary.get("warnings", []))


def join_line(join: dict) -> str:
    """The ``--join`` counts in one line (a summary's ``join`` object)."""
    return (f"join on {join['on']} with {join['table']}: {join['matched']} matched, "
            f"{join['only_in_table']} ids only in the table, "
            f"{join['only_in_join']} only in the joined table")


def render_unused(console: Console, roles: dict) -> None:
    """One line per column no role took (``roles.unused``), with why."""
    for column, reason in roles.get("unused", {}).items():
        console.print(f"  column {column!r} not used: {reason}", markup=False)


def render_warnings(console: Console, warnings: list) -> None:
    """One ``warning: ...`` line per warning (a string, or an object with ``message``), on
    stderr even with ``--quiet``."""
    from mmcli.data.coverage import warning_text

    for warning in warnings:
        warn(console, warning_text(warning))


def rejected_line(rows: int, rejected: int, by_reason: dict[str, int]) -> str:
    """``3 of 24 rows rejected (missing_label 2, duplicate_id 1)``."""
    reasons = ", ".join(f"{reason} {count}" for reason, count in
                        sorted(by_reason.items(), key=lambda item: -item[1]))
    return f"{rejected} of {rows} rows rejected" + (f" ({reasons})" if reasons else "")


def missing_input_line(name: str, reason: str, columns: list[str], rows: int) -> str:
    """The warning for a model input a table never gave (``missing_inputs`` of evaluate, or
    predict's summary)."""
    shown = ", ".join(repr(c) for c in columns)
    count = f"{rows} row" + ("" if rows == 1 else "s")
    if reason == "no_column":
        what = ((f"columns {shown} are" if len(columns) > 1 else f"column {shown} is")
                + " not in the table") if columns else "has no column"
        return (f"the model's input {name}: {what}; it is masked in every row ({count}). "
                f"Name the column with {_column_flags(name)} if it has another name")
    where = f" (column {shown})" if columns else ""
    return f"the model's input {name}{where} is missing in every row ({count})"


def _column_flags(name: str) -> str:
    """The flag(s) naming a modality's columns: ``--image-col``; tabular's two lists."""
    from mmcli import modalities

    field = modalities.modality_of(name).config_field or f"{name.split('_')[0]}_col"
    if field == "numeric_col":  # the tabular kind: numbers and categories have a flag each
        return "--numeric-col / --category-col"
    return "--" + field.replace("_", "-")


def render_unseen(console: Console, unseen: dict[str, int]) -> None:
    """The categories a model never saw in training, per column (cells read as unknown)."""
    counted = {column: n for column, n in unseen.items() if n}
    if counted:
        console.print("categories never seen in training (read as unknown): " + ", ".join(
            f"{column} {n} cells" for column, n in counted.items()), markup=False)


def render_row_issues(console: Console, tally: Any, rejects: Any = None) -> None:
    """predict's problems with rows (an :class:`mmcli.api.row_issues.IssueTally`): the counts
    by ``action:reason`` as preprocess prints them, then the first few lines (which row, id,
    column, why), and where the rest are (``--rejects FILE``)."""
    from mmcli.api.row_issues import example_line

    if not tally.lines:
        return
    console.print(f"{tally.lines} problems in the rows read"
                  + (f" (every one in {rejects})" if rejects else ""), markup=False)
    for reason, count in sorted(tally.issues.items(), key=lambda item: -item[1]):
        console.print(f"  {count:>6}  {reason}", markup=False)
    for line in tally.examples:
        console.print(f"  {example_line(line)}", markup=False)
    more = tally.lines - len(tally.examples)
    if more > 0:
        console.print(f"  ... and {more} more" + ("" if rejects else " (--rejects FILE lists "
                                                  "every one)"), markup=False)
