"""The task protocol: what a model predicts from the label column, and everything that depends on
it. Single-label and multi-label classification implement it (one module each); commands ask
the task instead of branching on the kind of label.

A task is a frozen dataclass built from the :class:`~mmcli.config.TrainConfig` at training
time (:meth:`Task.from_config`) or from ``bundle.json`` afterwards (:meth:`Task.from_bundle`,
called by :mod:`mmcli.bundle`). It is pure NumPy: no TensorFlow, no pandas at import (the label
column and the scored rows it is handed at run time may be pandas objects).

Shapes: ``y`` is what :meth:`Task.score` takes (one class index per row for single-label, one
0/1 row per example for multi-label); ``proba`` is ``(rows, len(labels))``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, ClassVar

import numpy as np

from mmcli.config import TrainConfig

# Columns of the scored rows (``Evaluation.rows``) that are not presence flags.
ROW_KEYS = ("row", "id", "label")


@dataclass(frozen=True)
class Head:
    """The output layer and its loss, as Keras names (built in ``mmcli/model/heads.py``).

    ``loss`` is the snake-case name recorded in ``bundle.json`` (``head.loss``); the loss is
    its Keras class (``categorical_crossentropy`` -> ``keras.losses.CategoricalCrossentropy``)
    called with ``loss_args``; each metric is a ``keras.metrics`` class name and its arguments.
    """

    activation: str
    loss: str
    loss_args: Mapping[str, Any]
    metrics: tuple[tuple[str, Mapping[str, Any]], ...]
    label_smoothing: float = 0.0
    class_weight: str = "none"

    def to_dict(self, class_weights: Mapping[str, float] | None) -> dict[str, Any]:
        """The ``head`` section of ``bundle.json``."""
        return {
            "activation": self.activation,
            "loss": self.loss,
            "label_smoothing": self.label_smoothing,
            "class_weight": self.class_weight,
            "class_weights": dict(class_weights) if class_weights else None,
        }

    @property
    def loss_class(self) -> str:
        """The Keras loss class: ``binary_crossentropy`` -> ``BinaryCrossentropy``."""
        return "".join(part.title() for part in self.loss.split("_"))


@dataclass(frozen=True)
class Targets:
    """What training needs from the label column.

    Attributes:
        labels: the label names, in output order.
        y: what :meth:`Task.score` takes, one entry per example (all examples of the dataset).
        matrix: float32 ``(examples, len(labels))`` target rows fed to the loss (zeros for an
            unlabelled row).
        class_weights: the weight of each label (recorded in the bundle) or None.
        row_weights: float32 ``(examples,)`` per-row loss weights, or None.
    """

    labels: list[str]
    y: np.ndarray
    matrix: np.ndarray
    class_weights: dict[str, float] | None = None
    row_weights: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ReportPage:
    """What ``evaluate --report`` writes for a task: ``report.md`` and its PNG plots, each a
    function ``(metrics, path) -> None``."""

    markdown: str
    plots: Mapping[str, Callable[[dict[str, Any], Any], None]]


class Task(ABC):
    """One kind of prediction (see the module docstring)."""

    name: ClassVar[str]
    #: the key of the headline score, in the validation report and the evaluate JSON
    metric: ClassVar[str]
    #: how the headline score is written for people ("accuracy", "micro F1")
    metric_label: ClassVar[str]
    #: top-level keys of bundle.json holding this task's trained state
    state_keys: ClassVar[tuple[str, ...]] = ()
    #: the fields a prediction record gets from the task, in order (after ``id``)
    record_fields: ClassVar[tuple[str, ...]]

    @classmethod
    @abstractmethod
    def from_config(cls, config: TrainConfig) -> Task:
        """The untrained task a run with ``config`` trains."""

    @classmethod
    def from_bundle(
        cls, config: TrainConfig, labels: Sequence[str], state: Mapping[str, Any]
    ) -> Task:
        """The trained task of a bundle; ``state`` holds the bundle's :attr:`state_keys`
        (a task without trained state is the one its config describes).

        Raises:
            ValueError: the state does not fit the labels (the bundle reader makes it a
                BundleError).
        """
        return cls.from_config(config)

    @property
    @abstractmethod
    def head(self) -> Head:
        """The output activation, loss and metrics."""

    @abstractmethod
    def targets(self, column, train_idx: np.ndarray, labels: Sequence[str]) -> Targets:
        """Training targets of every example from its raw label cell.

        Args:
            column: the examples' ``label`` column (a pandas Series; missing = unlabelled).
            train_idx: the training positions (their labels decide what is learnable).
            labels: the dataset's labels (single-label order).

        Raises:
            DataError: the training rows cannot train this task (e.g. fewer than two labels).
        """

    @abstractmethod
    def eval_targets(self, cells: Sequence[Any], rows: Sequence[Any],
                     labels: Sequence[str]) -> np.ndarray:
        """``y`` of labelled cells for scoring a trained model.

        Raises:
            DataError: a cell names a label the model does not know (``rows`` numbers it).
        """

    @abstractmethod
    def score(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> float:
        """The headline score (:attr:`metric`) of ``proba`` against ``y``; higher is better."""

    def tune(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> Task:
        """The task with whatever it fits after training on validation rows (thresholds)."""
        return self

    @abstractmethod
    def validation(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str]) -> dict:
        """The scores written under ``validation`` in bundle.json (besides the ablation)."""

    def bundle_state(self, labels: Sequence[str]) -> dict[str, Any]:
        """Top-level bundle.json entries holding the trained state (keys: :attr:`state_keys`)."""
        return {}

    @abstractmethod
    def evaluate(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                 presence: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """The task's part of the evaluate JSON. ``presence`` maps each model modality, in
        order, to a bool per scored row: whether the row had it."""

    @abstractmethod
    def misclassified(self, y: np.ndarray, proba: np.ndarray, labels: Sequence[str],
                      rows) -> list[dict[str, Any]]:
        """One record per wrongly predicted row (``evaluate --errors``). ``rows`` is the scored
        rows' frame: ``row``, ``id``, ``label`` and one presence flag column per modality."""

    @abstractmethod
    def prediction(self, proba: np.ndarray, labels: Sequence[str], top_k: int) -> dict:
        """The :attr:`record_fields` of one row's prediction record (``proba``: ``(labels,)``)."""

    @abstractmethod
    def no_prediction(self) -> dict[str, Any]:
        """The :attr:`record_fields` of a row that could not be predicted."""

    @abstractmethod
    def report(self, metrics: dict[str, Any]) -> ReportPage:
        """``evaluate --report``: the page and plots of an evaluation of this task."""

    @abstractmethod
    def evaluate_lines(self, result: dict[str, Any]) -> list:
        """What ``mmcli evaluate`` prints on stderr: strings (rich markup) and rich Tables."""

    def train_lines(self, meta: dict[str, Any]) -> list[str]:
        """What ``mmcli train`` prints on stderr once done, from the bundle metadata."""
        val, run = meta["validation"], meta["training"]
        lines = [
            f"done: {run['epochs_run']} epochs (best {run['best_epoch']}) in {run['seconds']} s, "
            f"{run['samples_per_second']} samples/s; {val['on']} {self.metric} "
            f"{val[self.metric]:.3f}"
        ]
        if "modalities" in val:
            alone = ", ".join(f"{k} {v:.3f}" for k, v in val["modalities"].items())
            lines.append(f"  each modality alone: {alone}")
            if val.get("fusion_weights"):
                weights = ", ".join(f"{k} {v:.2f}" for k, v in val["fusion_weights"].items())
                lines.append(f"  learned fusion weights: {weights}")
            if run.get("auxiliary"):
                own = ", ".join(f"{k} {v['accuracy']:.3f}" for k, v in run["auxiliary"].items())
                lines.append(f"  each modality's own head ({val['on']} accuracy): {own}")
            if not val["fusion_helped"]:
                lines.append("[yellow]warning: the fused model did not beat its best single "
                             "modality on validation; fusion did not help on this data[/]")
        return lines


def ablation_lines(result: dict[str, Any], metric_label: str) -> list[str]:
    """The evaluate stderr lines of the modality ablation (none for a one-modality model)."""
    lines = [f"  {name.replace('_', ' ')}: {metric_label} {value:.3f}"
             for name, value in result.get("modalities", {}).items()]
    lines += [f"  {name} contributes {value:+.3f} {metric_label}"
              for name, value in result.get("modality_contribution", {}).items()]
    if result.get("fusion_weights"):
        lines.append("  fusion weights: " + ", ".join(
            f"{k} {v:.3f}" for k, v in result["fusion_weights"].items()))
    return lines


def scores_table(title: str, scores: Mapping[str, Mapping[str, Any]], extra: Sequence[str] = ()):
    """A rich Table of precision / recall / F1 / support (and ``extra`` columns) per label."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    for column in ("label", "precision", "recall", "f1", "support", *extra):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, s in scores.items():  # a class without rows has no score: "no rows"
        cells = [f"{s[k]:.3f}" if s["support"] else "no rows"
                 for k in ("precision", "recall", "f1")]
        table.add_row(Text(label), *cells, str(s["support"]), *(f"{s[k]:.2f}" for k in extra))
    return table


def presence_flags(rows, i: int) -> dict[str, bool]:
    """Row ``i``'s presence flags (every column of the scored rows but row, id and label)."""
    return {c: bool(rows[c].iloc[i]) for c in rows.columns if c not in ROW_KEYS}


def by_presence(
    presence: Mapping[str, np.ndarray], score: Callable[[np.ndarray], dict[str, Any]],
    empty: dict[str, Any],
) -> dict[str, Any] | None:
    """Scores of the rows grouped by which modalities they had after preprocessing: every
    non-empty set of the modalities, keyed ``both`` (``all`` beyond two) for the complete rows
    and ``<m>_only`` / ``<m>+<n>_only`` for the others. Each group is ``{"n": rows,
    **score(mask)}``, or ``{"n": 0, **empty}``. None when every row had every modality."""
    names = list(presence)
    have = np.column_stack([np.asarray(presence[m], bool) for m in names])
    if have.all():
        return None
    out: dict[str, Any] = {}
    for size in range(len(names), 0, -1):
        for subset in combinations(range(len(names)), size):
            want = np.zeros(len(names), bool)
            want[list(subset)] = True
            key = ("both" if len(names) == 2 else "all") if size == len(names) else (
                "+".join(names[i] for i in subset) + "_only")
            chosen = (have == want).all(axis=1)
            n = int(chosen.sum())
            out[key] = {"n": n, **(score(chosen) if n else empty)}
    return out
