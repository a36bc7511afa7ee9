"""The task axis: what a model predicts from the label column (see :mod:`mmcli.tasks.base`).

A new task is one module implementing :class:`~mmcli.tasks.base.Task` and one line in
:data:`TASKS`; :func:`task_name` says which one a training config asks for. Importing this
package loads NumPy only (no TensorFlow, no pandas).
"""

from __future__ import annotations

from mmcli.config import TrainConfig
from mmcli.tasks.base import Task
from mmcli.tasks.multi_label import MultiLabel
from mmcli.tasks.single_label import SingleLabel

TASKS: dict[str, type[Task]] = {"single_label": SingleLabel, "multi_label": MultiLabel}


def task_name(config: TrainConfig) -> str:
    """The key in :data:`TASKS` of the task ``config`` trains."""
    return "multi_label" if config.multi_label else "single_label"


def task_for(config: TrainConfig) -> Task:
    """The (untrained) task ``config`` trains."""
    return TASKS[task_name(config)].from_config(config)


__all__ = ["TASKS", "Task", "task_for", "task_name"]
