"""The checkpoint folder of a training run, ``<out>.ckpt/``, without TensorFlow.

One file, ``checkpoint.npz``, replaced atomically (and fsynced) after every epoch:
``meta`` (JSON: format, epochs done, whether early stopping ended the run, early-stopping
state, history, seconds, and the fingerprint of the config and data) and three lists of
arrays: ``variables`` (every model variable, random-seed states included), ``optimizer``
(every optimizer variable, step counter included) and ``best`` (the best weights early
stopping keeps). A successful run removes the folder. The output's lock is held from start
to end.
"""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mmcli import layout
from mmcli.errors import OutputExistsError, UsageError
from mmcli.io.atomic import atomic_file, fsync_dir
from mmcli.io.lock import output_lock

GROUPS = ("variables", "optimizer", "best")


@dataclass
class Saved:
    """A checkpoint's contents."""

    meta: dict[str, Any]
    arrays: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return int(self.meta["epoch"])


def checkpoint_dir(out: Path) -> Path:
    """Where the checkpoints of bundle ``out`` live."""
    out = Path(out)
    return out.parent / f"{out.name}{layout.CHECKPOINT_SUFFIX}"


class Checkpoints:
    """The checkpoint folder of one run into ``out``, used as a context manager.

    Entering takes ``out``'s lock and decides what the run starts from:

    - ``resume``: the saved checkpoint (a :class:`~mmcli.errors.UsageError` when none);
    - otherwise nothing; a checkpoint left by an interrupted run is refused without
      ``force`` (it would be lost) and removed with it.
    """

    def __init__(self, out: Path, *, resume: bool = False, force: bool = False) -> None:
        self.out = Path(out)
        self.folder = checkpoint_dir(self.out)
        self.resume = resume
        self.force = force
        self.saved: Saved | None = None
        self.fingerprint: dict[str, Any] = {}  # of the run in progress (set by fit)
        self._stack = ExitStack()

    def __enter__(self) -> Checkpoints:
        self._stack.enter_context(output_lock(self.out))
        try:
            existing = self.load()
            if self.resume and existing is None:
                raise UsageError(
                    f"nothing to resume: no checkpoint in {self.folder} (an interrupted "
                    f"`mmcli train ... --out {self.out}` leaves one there)"
                )
            if not self.resume and existing is not None:
                if not self.force:
                    raise OutputExistsError(
                        f"{self.folder} holds the checkpoint of an interrupted run (epoch "
                        f"{existing.epoch}); pass --resume to continue it or --force to "
                        "start again"
                    )
                self.finish()
                existing = None
            self.saved = existing
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.close()

    def load(self) -> Saved | None:
        """The saved checkpoint, or None when there is none."""
        path = self.folder / layout.CHECKPOINT_FILE
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(str(npz["meta"]))
                arrays = {group: [] for group in GROUPS}
                for key in sorted(k for k in npz.files if "/" in k):
                    group, _ = key.split("/")
                    arrays[group].append(npz[key])
        except (OSError, ValueError, KeyError) as exc:
            raise UsageError(
                f"{path}: unreadable checkpoint ({exc}); pass --force (without --resume) "
                "to start again"
            ) from exc
        if meta.get("format_version") != layout.CHECKPOINT_FORMAT:
            raise UsageError(
                f"{path}: checkpoint format {meta.get('format_version')} cannot be resumed by "
                f"this mmcli (format {layout.CHECKPOINT_FORMAT}); pass --force to start again"
            )
        return Saved(meta, arrays)

    def save(self, saved: Saved) -> None:
        """Replace the checkpoint atomically: the old one stays whole until the new one is."""
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True)
            fsync_dir(self.folder.parent)  # the folder's name is on disk before its file
        payload = {"meta": np.array(json.dumps(
            {"format_version": layout.CHECKPOINT_FORMAT, **saved.meta}))}
        for group, values in saved.arrays.items():
            payload.update({f"{group}/{i:05d}": np.asarray(v) for i, v in enumerate(values)})
        with atomic_file(self.folder / layout.CHECKPOINT_FILE, force=True) as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, **payload)
        self.saved = saved

    def check(self, fingerprint: dict[str, Any]) -> None:
        """Refuse to resume a checkpoint written with another config or other data."""
        if self.saved is None:
            return
        before = self.saved.meta.get("fingerprint", {})
        changed = sorted(
            k for k in set(before) | set(fingerprint) if before.get(k) != fingerprint.get(k)
        )
        if changed:
            raise UsageError(
                f"cannot resume from {self.folder}: it was written with a different "
                f"{', '.join(changed)} ({_describe(before, fingerprint, changed)}); "
                "pass the same data and flags, or --force without --resume to start again"
            )

    def finish(self) -> None:
        """Remove the checkpoints (the run succeeded, or starts again)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _describe(before: dict, now: dict, changed: list[str]) -> str:
    parts = []
    for key in changed:
        old, new = before.get(key), now.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            parts.extend(f"{key}.{k}: {old.get(k)!r} then, {new.get(k)!r} now" for k in keys)
        else:
            parts.append(f"{key} differs")
    return "; ".join(parts)
