"""``evaluate --report DIR``: plots and a Markdown page embedding them, written atomically.

The task chooses the page and the plots (``Task.report``): :func:`single_label_page` with a
confusion matrix, a reliability diagram and F1 per class, or :func:`multi_label_page` with F1
per label.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmcli.io.atomic import atomic_dir

REPORT_FILE = "report.md"
METRICS_FILE = "metrics.json"


def write_report(metrics: dict[str, Any], target: Path, page, *, force: bool = False) -> Path:
    """Write ``report.md``, ``metrics.json`` and the PNG plots into ``target`` (a folder).

    Args:
        page: the task's :class:`~mmcli.tasks.base.ReportPage` (markdown and plots by file name).
    """
    with atomic_dir(target, force=force) as tmp:
        for name, function in page.plots.items():
            function(metrics, tmp / name)
        (tmp / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        (tmp / REPORT_FILE).write_text(page.markdown, encoding="utf-8")
    return target / REPORT_FILE


NO_ROWS = "no rows"  # a class or label with no rows among those scored: no score to show


def _scores(s: dict[str, Any]) -> str:
    """The precision | recall | f1 cells of a class (``no rows`` without support)."""
    if not s["support"]:
        return f"{NO_ROWS} | {NO_ROWS} | {NO_ROWS}"
    return f"{_fmt(s['precision'])} | {_fmt(s['recall'])} | {_fmt(s['f1'])}"


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _header(m: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    lines = [
        "# Evaluation report",
        "",
        f"Bundle `{m['bundle']}` on `{m['data']}`, split `{m['split']}`, {m['n']} rows.",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    return lines + [f"| {key} | {_fmt(m.get(key))} |" for key in keys]


def _modalities(m: dict[str, Any], metric: str) -> list[str]:
    """The ablation section: each modality alone, contributions, fusion weights."""
    if "modalities" not in m:
        return []
    lines = ["", "## Modalities", "", f"| | {metric} |", "|---|---|",
             f"| fused | {_fmt(m[metric])} |"]
    lines += [f"| {k.replace('_', ' ')} | {_fmt(v)} |" for k, v in m["modalities"].items()]
    shares = m["modality_contribution"].items()
    lines += ["", f"Contribution (fused {metric} minus the {metric} with that modality masked): "
              + ", ".join(f"{k} {v:+.3f}" for k, v in shares)]
    if m.get("fusion_weights"):
        lines.append("Mean fusion weights: " + ", ".join(
            f"{k} {v:.3f}" for k, v in m["fusion_weights"].items()))
    return lines + _attribution(m)


def _attribution(m: dict[str, Any]) -> list[str]:
    """Which modality drives which class: mean absolute Shapley value per class."""
    table = m.get("modality_attribution")
    if not table:
        return []
    names = list(next(iter(table.values())))
    lines = ["", "## Modality attribution per class", "",
             "Mean absolute Shapley value of each modality for the class's probability, over "
             "the rows of that class (modalities masked through the model's absent path; "
             "`mmcli explain` gives them row by row).", "",
             "| class | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(f"{row[n]:.3f}" for n in names) + " |"
              for label, row in table.items()]
    return lines


def single_label_page(m: dict[str, Any]) -> str:
    """report.md of a single-label evaluation."""
    lines = _header(m, ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss",
                        "ece", "majority_accuracy"))
    for k, v in m.get("top_k_accuracy", {}).items():
        lines.append(f"| top_{k}_accuracy | {_fmt(v)} |")
    lines.append(f"| roc_auc (macro, one-vs-rest) | {_fmt(m['roc_auc']['macro'])} |")
    lines += _modalities(m, "accuracy")
    if m.get("by_missingness"):
        lines += ["", "## By missing modality", "", "| rows | n | accuracy | macro F1 |",
                  "|---|---|---|---|"]
        lines += [f"| {k.replace('_', ' ')} | {v['n']} | {_fmt(v['accuracy'])} | "
                  f"{_fmt(v['macro_f1'])} |" for k, v in m["by_missingness"].items()]
    lines += ["", "## Plots", "", "![Confusion matrix](confusion_matrix.png)", "",
              "![Reliability diagram](reliability.png)", "", "![F1 per class](per_class_f1.png)",
              "", "## Per class", "", "| label | precision | recall | f1 | support | roc_auc |",
              "|---|---|---|---|---|---|"]
    for label, s in m["per_class"].items():
        lines.append(f"| {label} | {_scores(s)} | {s['support']} | "
                     f"{_fmt(m['roc_auc']['per_class'].get(label))} |")
    return "\n".join(lines) + "\n"


def multi_label_page(m: dict[str, Any]) -> str:
    """report.md of a multi-label evaluation."""
    lines = _header(m, ("micro_f1", "macro_f1", "subset_accuracy", "hamming_loss"))
    lines += _modalities(m, "micro_f1")
    lines += ["", "## Plots", "", "![F1 per label](per_label_f1.png)", "", "## Per label", "",
              "| label | precision | recall | f1 | support | threshold |",
              "|---|---|---|---|---|---|"]
    for label, s in m["per_label"].items():
        lines.append(f"| {label} | {_scores(s)} | {s['support']} | {s['threshold']:.2f} |")
    return "\n".join(lines) + "\n"
