"""Write a benchmark's result file: ``benchmarks/results/<name>.md`` (date, machine, command,
figures as JSON). Every figure the README quotes names one of these files."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    """Cores, load average, Python and platform: the machine is shared, say how busy it was."""
    return {"cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(), "platform": platform.platform()}


def write_result(name: str, figures: dict, notes: str = "") -> Path:
    """Write ``results/<name>.md`` and return its path."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.md"
    command = " ".join([Path(sys.executable).name, *sys.argv])
    lines = [f"# {name}", "", f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
             f"- machine: {json.dumps(machine())}", f"- command: `{command}`", ""]
    if notes:
        lines += [notes.strip(), ""]
    lines += ["```json", json.dumps(figures, indent=2), "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
