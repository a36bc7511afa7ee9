"""PNG plots of an evaluation. matplotlib (Agg backend) is imported only when a plot is drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(metrics: dict[str, Any], path: Path) -> None:
    """Row-normalized confusion matrix (true on rows), counts written in the cells when few."""
    import numpy as np

    plt = _pyplot()
    labels = metrics["confusion_matrix"]["labels"]
    counts = np.asarray(metrics["confusion_matrix"]["matrix"], dtype=float)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = max(4.0, 0.35 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(side, side))
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(labels) <= 12:
        for (i, j), value in np.ndenumerate(counts):
            if value:
                color = "white" if share[i, j] > 0.5 else "black"
                ax.text(j, i, int(value), ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of true row")
    ax.set_title("Confusion matrix")
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
    ax.barh(labels, [scores[k]["f1"] for k in labels], color="C0")
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
