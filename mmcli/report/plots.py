"""PNG plots of an evaluation. matplotlib (Agg backend) is imported only when a plot is drawn.

Labels are drawn literally: mathtext is off, so ``$$`` is two dollar signs, not a formula.
A class with no rows among those scored is drawn as "no rows", not as a zero score.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams["text.parse_math"] = False  # a label is text as typed ("$$", "a_b")
    return plt


def plot_confusion(metrics: dict[str, Any], path: Path) -> None:
    """Confusion matrix of row counts (true on rows, predicted on columns), each count written
    in its cell when there are at most 20 classes."""
    import numpy as np

    plt = _pyplot()
    labels = metrics["confusion_matrix"]["labels"]
    counts = np.asarray(metrics["confusion_matrix"]["matrix"], dtype=float)
    top = max(float(counts.max()) if counts.size else 0.0, 1.0)
    side = max(4.0, 0.35 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(side, side))
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=top)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 20:
        for (i, j), value in np.ndenumerate(counts):
            color = "white" if value > top / 2 else "black"
            ax.text(j, i, str(int(value)), ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, fraction=0.046, label="rows")
    ax.set_title("Confusion matrix (rows)")
    _save(fig, plt, path)


def plot_reliability(metrics: dict[str, Any], path: Path) -> None:
    """Accuracy against mean confidence per confidence bin, with the diagonal."""
    plt = _pyplot()
    bins = [b for b in metrics["calibration"] if b["count"]]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.bar(
        [(b["lower"] + b["upper"]) / 2 for b in bins],
        [b["accuracy"] for b in bins],
        width=[b["upper"] - b["lower"] for b in bins],
        edgecolor="black",
        alpha=0.7,
        label="accuracy",
    )
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o", color="C1",
            label="mean confidence")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (ECE {metrics['ece']:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    _save(fig, plt, path)


def plot_per_class_f1(metrics: dict[str, Any], path: Path) -> None:
    """Horizontal bars of each class's F1, the macro F1 as a line."""
    _f1_bars(metrics["per_class"], metrics["macro_f1"], "F1 per class", path)


def plot_per_label_f1(metrics: dict[str, Any], path: Path) -> None:
    """Horizontal bars of each label's F1 (multi-label, at its threshold), the macro F1 as a
    line."""
    _f1_bars(metrics["per_label"], metrics["macro_f1"], "F1 per label", path)


def _f1_bars(scores: dict[str, Any], macro: float, title: str, path: Path) -> None:
    plt = _pyplot()
    labels = list(scores)
    fig, ax = plt.subplots(figsize=(5, max(2.5, 0.25 * len(labels) + 1)))
    empty = [not scores[k]["support"] for k in labels]
    ax.barh(labels, [0.0 if e else scores[k]["f1"] for k, e in zip(labels, empty, strict=True)],
            color="C0")
    for i, e in enumerate(empty):
        if e:
            ax.text(0.01, i, "no rows", va="center", fontsize=7, color="grey")
    ax.axvline(macro, color="C3", linestyle="--", label="macro F1")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("F1")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
    _save(fig, plt, path)


def _save(fig, plt, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png")
    plt.close(fig)
