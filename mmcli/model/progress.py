"""A Keras callback that reports training on a rich console (stderr), never stdout."""

from __future__ import annotations

from mmcli.model.backend import import_keras

keras = import_keras()

_SHOWN = {"loss": "loss", "accuracy": "acc", "val_loss": "val_loss", "val_accuracy": "val_acc"}


class RichProgress(keras.callbacks.Callback):
    """One progress bar over epochs, with the latest loss and validation metrics beside it.

    Args:
        console: a ``rich.console.Console`` writing to stderr, or None to stay silent.
        epochs: the maximum number of epochs.
    """

    def __init__(self, console, epochs: int):
        super().__init__()
        self.console = console
        self.epochs = epochs
        self.progress = None
        self.task = None

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
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=self.epochs, status="")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        status = " ".join(
            f"{short} {logs[key]:.3f}" for key, short in _SHOWN.items() if key in logs
        )
        if self.progress is not None:
            self.progress.update(self.task, completed=epoch + 1, status=status)

    def on_train_end(self, logs=None):
        if self.progress is not None:
            self.progress.stop()
