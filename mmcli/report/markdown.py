"""``evaluate --report DIR``: plots and a Markdown page embedding them, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmcli.io.atomic import atomic_dir

REPORT_FILE = "report.md"
METRICS_FILE = "metrics.json"
PLOTS = {
    "confusion_matrix.png": "plot_confusion",
    "reliability.png": "plot_reliability",
    "per_class_f1.png": "plot_per_class_f1",
}


def write_report(metrics: dict[str, Any], target: Path, *, force: bool = False) -> Path:
    """Write ``report.md``, ``metrics.json`` and the PNG plots into ``target`` (a folder)."""
    from mmcli.report import plots

    with atomic_dir(target, force=force) as tmp:
        for name, function in PLOTS.items():
            getattr(plots, function)(metrics, tmp / name)
        (tmp / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        (tmp / REPORT_FILE).write_text(render_markdown(metrics), encoding="utf-8")
    return target / REPORT_FILE


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def render_markdown(m: dict[str, Any]) -> str:
    lines = [
        "# Evaluation report",
        "",
        f"Bundle `{m['bundle']}` on `{m['data']}`, split `{m['split']}`, {m['n']} rows.",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    for key in ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "log_loss", "ece",
                "majority_accuracy"):
        lines.append(f"| {key} | {_fmt(m.get(key))} |")
    for k, v in m.get("top_k_accuracy", {}).items():
        lines.append(f"| top_{k}_accuracy | {_fmt(v)} |")
    lines.append(f"| roc_auc (macro, one-vs-rest) | {_fmt(m['roc_auc']['macro'])} |")
    if "modalities" in m:
        lines += ["", "## Modalities", "", "| | accuracy |", "|---|---|",
                  f"| fused | {_fmt(m['accuracy'])} |"]
        lines += [f"| {k.replace('_', ' ')} | {_fmt(v)} |" for k, v in m["modalities"].items()]
        lines += ["", "Contribution (fused accuracy minus accuracy without the modality): "
                  + ", ".join(f"{k} {v:+.3f}" for k, v in m["modality_contribution"].items())]
        if m.get("fusion_weights"):
            lines.append("Mean fusion weights: " + ", ".join(
                f"{k} {v:.3f}" for k, v in m["fusion_weights"].items()))
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
        lines.append(f"| {label} | {_fmt(s['precision'])} | {_fmt(s['recall'])} | "
                     f"{_fmt(s['f1'])} | {s['support']} | "
                     f"{_fmt(m['roc_auc']['per_class'].get(label))} |")
    return "\n".join(lines) + "\n"
