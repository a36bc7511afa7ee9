"""Training curves as a PNG: loss and accuracy per epoch, training against validation.

matplotlib is imported inside the function, with the Agg canvas only (no pyplot, no
display, no global backend change).
"""

from __future__ import annotations

from pathlib import Path

SCORES = ("accuracy", "micro_f1")


def save_curves(history: dict[str, list[float]], path: Path, *, title: str = "") -> None:
    """Write ``path`` (PNG): one panel for the loss, one per score found in ``history``
    (``accuracy``, ``micro_f1``), each with its ``val_`` twin when there is one."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    panels = ["loss", *(name for name in SCORES if name in history)]
    figure = Figure(figsize=(4.2 * len(panels), 3.4), layout="constrained")
    FigureCanvasAgg(figure)
    for axis, name in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels, strict=True):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], marker="o", markersize=3, label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], marker="o", markersize=3,
                      label="validation")
        axis.set_title(name.replace("_", " "))
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.savefig(path, format="png", dpi=90)
