"""The code that ``dataclasses`` and ``namedtuple`` generate at start-up, compiled once per
machine instead of once per run.

Each ``@dataclass`` writes the source of its ``__init__``, ``__repr__``, ``__eq__`` ... and
compiles it (``exec`` of a string: CPython's parser and compiler); ``namedtuple`` does the
same for its ``__new__``. ``mmcli preprocess`` starts ~50 dataclasses (mmcli's config,
modalities, rows; Typer's) and ~40 namedtuples: 0.03 CPU s of parsing and compiling in
every run, the same text every time. :func:`install` (the console script only) puts a cache
in front of those two modules' ``exec`` / ``eval``: a text seen before runs its code object
from the cache, loaded with ``marshal`` (0.0013 s); a new text is compiled as before and
added when the process ends (:func:`save`, from ``atexit``).

The cache is a file per command in mmcli's cache folder (``$MMCLI_CACHE_DIR``, else
``~/.cache/mmcli``, as :func:`mmcli.data.cache.cache_root`):
``startup/<cache tag>-<magic>-<command>.marshal`` (``other`` for ``--help``, a typo ...), so
a run loads only what its command needs (``train``'s TensorFlow brings 460 more texts) and
another Python or bytecode version never reads it. It is read only when it belongs to this user and
nobody else may write it (it holds code), replaced atomically (a temporary sibling, then a
rename), started afresh past ``MAX_ENTRIES`` texts (old mmcli versions' classes), and any
problem reading or writing it is ignored: the code is then compiled as without the cache.
``MMCLI_STARTUP_CACHE=0`` turns it off. The code run is the code the text compiles to, so
nothing else changes.
"""

from __future__ import annotations

import atexit
import collections
import dataclasses
import importlib.util
import marshal
import os
import stat
import sys
from pathlib import Path
from types import CodeType
from typing import Any

CACHE_ENV = "MMCLI_CACHE_DIR"  # the folder of mmcli.data.cache (tests check they agree)
SWITCH_ENV = "MMCLI_STARTUP_CACHE"  # "0": no cache
MAX_ENTRIES = 2000  # texts kept; past that the file keeps only the last run's
_CODE: dict[str, Any] = {}  # text -> code object, as loaded
_USED: dict[str, Any] = {}  # what this run ran (loaded or compiled)
_NEW: list[str] = []  # texts compiled by this run
OTHER = "other"  # the cache of a run without a command (--help, --version)
_COMMAND = [OTHER]  # whose cache this run loaded (install) and writes (save)


def cache_file(command: str = OTHER) -> Path:
    """Where the cache of ``command`` (a name of ``mmcli.cli.app.COMMANDS``, or ``other``)
    is, for this Python."""
    given = os.environ.get(CACHE_ENV)
    root = Path(given) if given else Path.home() / ".cache" / "mmcli"
    tag = f"{sys.implementation.cache_tag}-{importlib.util.MAGIC_NUMBER.hex()}"
    return root / "startup" / f"{tag}-{command}.marshal"


def install(command: str | None = None) -> bool:
    """Load the cache of ``command`` (the first argument of ``mmcli``) and route
    ``dataclasses``' ``exec`` and ``collections``' ``eval`` through it; :func:`save` runs
    at exit. Returns False (nothing changed) when turned off. Never raises."""
    if os.environ.get(SWITCH_ENV) == "0" or "exec" in vars(dataclasses):
        return False
    plain = command is not None and command.isascii() and command.isalpha() and \
        command.islower() and len(command) <= 20
    _COMMAND[0] = command if plain else OTHER  # a file written only for a real one (save)
    try:
        path = cache_file(_COMMAND[0])
    except RuntimeError:  # no home folder to put it in
        return False
    _CODE.update(_load(path))
    dataclasses.exec = _cached("exec")  # type: ignore[attr-defined]
    collections.eval = _cached("eval")  # type: ignore[attr-defined]
    atexit.register(save)
    return True


def _cached(mode: str) -> Any:
    run = exec if mode == "exec" else eval

    def cached(source: Any, globals: Any = None, locals: Any = None) -> Any:
        if not isinstance(source, str):
            return run(source, globals, locals)
        code = _CODE.get(source)
        if type(code) is not CodeType:
            code = _CODE[source] = compile(source, "<string>", mode)
            _NEW.append(source)
        _USED[source] = code
        return run(code, globals, locals)

    cached.__name__ = mode
    return cached


def _load(path: Path) -> dict[str, Any]:
    """The cache at ``path``: {} when absent, unreadable, not this user's own, writable by
    others or not a cache."""
    try:
        with open(path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return {}
            loaded = marshal.load(handle)
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return loaded


def save() -> None:
    """Write the cache of the command run when this run compiled texts it did not hold (a
    typo of a command writes none). Never raises."""
    if not _NEW:
        return
    command = _COMMAND[0]
    app = sys.modules.get("mmcli.cli.app")  # imported by now in any run that got that far
    if command != OTHER and command not in getattr(app, "COMMANDS", ()):
        return  # a typo: no file of its own
    path = cache_file(command)  # found by install: no RuntimeError
    kept = dict(_CODE) if len(_CODE) <= MAX_ENTRIES else dict(_USED)
    _NEW.clear()
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as handle:
            marshal.dump(kept, handle)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except (OSError, ValueError):
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
