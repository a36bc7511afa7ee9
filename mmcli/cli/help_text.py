"""Command help from docstrings: paragraphs reflowed to the terminal's width.

Typer's "rich" markup mode prints a docstring's line breaks as they are, so a paragraph
wrapped at 100 columns in the source came out with a short line after every wrapped one
(``... top_k and`` / ``which modalities ...``) in an 80-column terminal.
"""

from __future__ import annotations

import inspect
import re

_OWN_LINE = re.compile(r"\s|[-*] |\d+[.)] |[A-Z][\w ]*: ")  # indented, a list item, "Example: "


def reflow(doc: str) -> str:
    """``doc`` with each paragraph's lines joined by spaces.

    A line that starts indented, as a list item (``- ``, ``* ``, ``1. ``) or as a labelled line
    (``Example: ...``) starts a line of its own; paragraphs (blank-line separated) stay apart.

    Args:
        doc: A docstring (its indentation is removed as :func:`inspect.cleandoc` does).

    Returns:
        The text for ``typer.Typer.command(help=...)``.
    """
    paragraphs = []
    for block in re.split(r"\n\s*\n", inspect.cleandoc(doc)):
        lines: list[str] = []
        for line in block.splitlines():
            if lines and not _OWN_LINE.match(line):
                lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
            else:
                lines.append(line.rstrip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)
