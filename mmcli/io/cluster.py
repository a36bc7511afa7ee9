"""This process' place in a training cluster, from the standard ``TF_CONFIG`` (no TensorFlow).

``TF_CONFIG`` is the JSON TensorFlow's ``MultiWorkerMirroredStrategy`` reads:
``{"cluster": {"worker": ["host:port", ...], "chief": [...]}, "task": {"type": "worker",
"index": 0}}``. The chief is the ``chief`` task when the cluster names one, else worker 0: it
alone writes the bundle, its manifest and reports and the checkpoint folder ``<out>.ckpt``;
every other worker writes only to its own temporary folder, removed at the end
(:class:`WorkerCheckpoints`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mmcli.errors import UsageError
from mmcli.io.checkpoint import Checkpoints, checkpoint_dir

TF_CONFIG = "TF_CONFIG"


@dataclass(frozen=True)
class Role:
    """One process of a cluster: ``kind`` (``worker`` or ``chief``), ``index`` within its
    kind, ``tasks`` (every task of the cluster); ``tasks == 1`` when there is no cluster."""

    kind: str = "worker"
    index: int = 0
    tasks: int = 1
    has_chief: bool = False  # the cluster names a "chief" task

    @property
    def chief(self) -> bool:
        return self.kind == "chief" or (self.kind == "worker" and self.index == 0
                                        and not self.has_chief)

    @property
    def clustered(self) -> bool:
        """Whether TF_CONFIG describes a cluster of more than one task."""
        return self.tasks > 1

    def describe(self) -> str:
        """One line for stderr, e.g. ``worker 1 of 2 (not the chief: ...)``."""
        where = f"{self.kind} {self.index} of a cluster of {self.tasks}"
        if self.chief:
            return f"{where}: the chief (writes the bundle and checkpoints)"
        return f"{where}: not the chief (writes only to its own temporary folder)"


def cluster_role(environ: dict[str, str] | None = None) -> Role:
    """This process' :class:`Role` from ``TF_CONFIG`` (none: a cluster of one).

    Raises:
        UsageError: ``TF_CONFIG`` is not JSON of the documented form.
    """
    raw = (os.environ if environ is None else environ).get(TF_CONFIG, "").strip()
    if not raw:
        return Role()
    try:
        data = json.loads(raw)
        cluster = {k: list(v) for k, v in data.get("cluster", {}).items()}
        task = data.get("task", {})
        kind, index = str(task.get("type", "worker")), int(task.get("index", 0))
    except (ValueError, TypeError, AttributeError) as exc:
        raise UsageError(f"TF_CONFIG is not valid ({exc}); expected "
                         '{"cluster": {"worker": ["host:port", ...]}, '
                         '"task": {"type": "worker", "index": 0}}') from exc
    tasks = sum(len(v) for k, v in cluster.items() if k in ("chief", "worker"))
    if tasks and (kind not in cluster or not 0 <= index < len(cluster[kind])):
        raise UsageError(f"TF_CONFIG: task {kind} {index} is not in its cluster "
                         f"({', '.join(f'{k}: {len(v)}' for k, v in cluster.items())})")
    return Role(kind, index, max(tasks, 1), has_chief="chief" in cluster)


class WorkerCheckpoints(Checkpoints):
    """A non-chief worker's checkpoints: saved into its own folder (``own_out``'s, in a
    temporary folder), resumed from the chief's ``<out>.ckpt``, which every worker must
    therefore see (one host, or a shared folder, as Keras' ``BackupAndRestore`` needs).
    It takes no lock on ``out``: the chief holds it."""

    def __init__(self, own_out: Path, chief_out: Path, *, resume: bool = False) -> None:
        super().__init__(own_out, resume=resume, force=True)
        self.chief_folder = checkpoint_dir(Path(chief_out))

    def __enter__(self) -> WorkerCheckpoints:
        if self.resume:
            own, self.folder = self.folder, self.chief_folder
            try:
                self.saved = self.load()
            finally:
                self.folder = own
            if self.saved is None:
                raise UsageError(f"nothing to resume: no checkpoint in {self.chief_folder} "
                                 "(the chief's; every worker must see it)")
        return self

    def __exit__(self, *exc_info) -> None:
        return None
