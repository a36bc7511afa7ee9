"""A Keras callback that reports training on a rich console (stderr), never stdout."""

from __future__ import annotations

import time

from mmcli.model.backend import import_keras

keras = import_keras()

_SHOWN = {
    "loss": "loss",
    "accuracy": "acc",
    "micro_f1": "f1",
    "val_loss": "val_loss",
    "val_accuracy": "val_acc",
    "val_micro_f1": "val_f1",
}


def _aux_status(logs: dict) -> str:
    """Each modality's auxiliary head accuracy, validation rows first: ``  own image 0.91 ...``
    (empty for a model without auxiliary heads)."""
    for prefix in ("val_aux_", "aux_"):
        own = [f"{k[len(prefix):-len('_accuracy')]} {v:.2f}" for k, v in logs.items()
               if k.startswith(prefix) and k.endswith("_accuracy")]
        if own:
            return "  own " + " ".join(own)
    return ""


class RichProgress(keras.callbacks.Callback):
    """A line per epoch (loss, accuracy, validation metrics, seconds, a star when the monitored
    value improved) under a live bar over the epochs, which disappears when training ends.

    On a console that is not a terminal (a log file) only the per-epoch lines are written.

    Args:
        console: a ``rich.console.Console`` writing to stderr, or None to stay silent.
        epochs: the maximum number of epochs.
        monitor: the logged value early stopping watches (lower is better).
    """

    def __init__(self, console, epochs: int, monitor: str = "val_loss"):
        super().__init__()
        self.console = console
        self.epochs = epochs
        self.monitor = monitor
        self.progress = None
        self.task = None
        self.best = float("inf")
        self.started = 0.0

    def on_train_begin(self, logs=None):
        if self.console is None:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("epoch"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            transient=True,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=self.epochs, status="")

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if self.progress is None:
            return
        logs = logs or {}
        status = "  ".join(
            f"{short} {logs[key]:.3f}" for key, short in _SHOWN.items() if key in logs
        ) + _aux_status(logs)
        value = logs.get(self.monitor)
        improved = value is not None and value < self.best
        if improved:
            self.best = value
        width = len(str(self.epochs))
        self.progress.console.print(
            f"epoch {epoch + 1:>{width}}/{self.epochs}  {status}  "
            f"{time.perf_counter() - self.started:.1f}s" + ("  [green]*[/]" if improved else ""),
            soft_wrap=True,
        )
        self.progress.update(self.task, completed=epoch + 1, status=status)

    def on_train_end(self, logs=None):
        if self.progress is not None:
            self.progress.stop()
