"""The stderr table of ``mmcli evaluate`` for a multi-label bundle."""

from __future__ import annotations


def render_multilabel(console, result: dict) -> None:
    from rich.table import Table

    table = Table(title=f"{result['split']} rows: {result['n']}", title_justify="left")
    for column in ("label", "precision", "recall", "f1", "support", "threshold"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, scores in result["per_label"].items():
        table.add_row(label, *(f"{scores[k]:.3f}" for k in ("precision", "recall", "f1")),
                      str(scores["support"]), f"{scores['threshold']:.2f}")
    console.print(table)
    console.print(f"micro F1 {result['micro_f1']:.3f}  macro F1 {result['macro_f1']:.3f}  "
                  f"subset accuracy {result['subset_accuracy']:.3f}  "
                  f"Hamming loss {result['hamming_loss']:.3f}")
    for name, value in result.get("modalities", {}).items():
        console.print(f"  {name.replace('_', ' ')}: micro F1 {value:.3f}")
