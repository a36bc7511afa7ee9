"""What ``mmcli tune`` writes: trials.csv, best.toml, the two plots, and the summary dict."""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path
from typing import Any

from mmcli.config import RunConfig
from mmcli.config_io import to_toml

TRIALS_FILE, BEST_FILE = "trials.csv", "best.toml"
HISTORY_PLOT, IMPORTANCE_PLOT = "history.png", "importances.png"


def write_trials(study, path: Path) -> None:
    """One line per trial: number, state, value, seconds, run folder, then each setting."""
    trials = study.get_trials(deepcopy=False)
    names = sorted({name for t in trials for name in t.params})
    fh = io.StringIO()
    writer = csv.writer(fh)
    writer.writerow(["number", "state", "value", "seconds", "run", *names])
    for t in trials:
        seconds = t.duration.total_seconds() if t.duration is not None else None
        writer.writerow([t.number, t.state.name, _num(t.value), _num(seconds),
                         t.user_attrs.get("run", ""), *(t.params.get(n, "") for n in names)])
    replace_file(path, fh.getvalue().encode("utf-8"))


def write_best(config: RunConfig, path: Path) -> None:
    """The best trial's whole config as TOML (``mmcli train --config best.toml``)."""
    text = to_toml(config).replace(
        "# mmcli run configuration", "# mmcli tune's best trial: a run configuration", 1)
    replace_file(path, text.encode("utf-8"))


def write_plots(study, out: Path) -> list[str]:
    """The optimisation history (each finished trial's value, and the best so far) and the
    parameter importances (Optuna's default evaluator, over the complete trials). Returns the
    files written; importances need two complete trials with different settings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    done = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    written = []
    if done:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        numbers, values = [t.number for t in done], [t.value for t in done]
        best = [max(values[: i + 1]) for i in range(len(values))]
        ax.scatter(numbers, values, s=14, label="trial")
        ax.step(numbers, best, where="post", color="C1", label="best so far")
        ax.set(xlabel="trial", ylabel="validation score", title="optimisation history")
        ax.legend(loc="lower right")
        fig.tight_layout()
        _save(fig, out / HISTORY_PLOT)
        plt.close(fig)
        written.append(HISTORY_PLOT)
    importances = param_importances(study)
    if importances:
        fig, ax = plt.subplots(figsize=(6, 1.5 + 0.35 * len(importances)))
        names = list(importances)[::-1]
        ax.barh(names, [importances[n] for n in names])
        ax.set(xlabel="importance", title="parameter importances")
        fig.tight_layout()
        _save(fig, out / IMPORTANCE_PLOT)
        plt.close(fig)
        written.append(IMPORTANCE_PLOT)
    return written


def param_importances(study) -> dict[str, float]:
    """Optuna's parameter importances, or {} when they cannot be computed (too few complete
    trials, or no setting that varied)."""
    import warnings

    import optuna

    try:
        with warnings.catch_warnings():
            # Optuna 4 warns (a raw line on stderr) and returns equal importances when the
            # trials are too few: that is "cannot be computed" here.
            warnings.filterwarnings("error", message="The number of trials is too small",
                                    category=UserWarning)
            return dict(optuna.importance.get_param_importances(study))
    except (ValueError, RuntimeError, UserWarning):
        return {}


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}"


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to a sibling and rename it onto ``path``: a reader sees the old file or
    the new one. No lock: processes sharing a study may each rewrite the same summary."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _save(fig, path: Path) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    replace_file(path, buffer.getvalue())
