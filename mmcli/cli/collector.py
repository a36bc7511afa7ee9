"""The cyclic garbage collector off while the ``mmcli`` process starts, on for the command.

Start-up (the interpreter, Typer, the command's module and options) allocates tens of
thousands of objects that live until the process ends; the collector, run every 2,000
allocations, traverses them again and again (0.007-0.01 CPU s), and every later full
collection traverses them all once more (0.01-0.016 s in a 5,000-row preprocess). So the
console script :func:`pause`s collection first thing, and :func:`resume` puts what start-up
made in the permanent generation (``gc.freeze``: never traversed again) and turns collection
back on before the command runs: its rows' cycles are collected as always. Measured on the
2-core machine (docs/architecture.md: branch start7).
"""

from __future__ import annotations

import gc

_PAUSED = [False]


def pause() -> None:
    """Turn the collector off until :func:`resume` (nothing if it is already off)."""
    if gc.isenabled():
        gc.disable()
        _PAUSED[0] = True


def resume() -> None:
    """After :func:`pause`: freeze the objects alive now and turn the collector back on.
    Without a pause (a library caller, tests), nothing happens."""
    if _PAUSED[0]:
        _PAUSED[0] = False
        gc.freeze()
        gc.enable()
