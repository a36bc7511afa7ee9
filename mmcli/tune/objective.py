"""One trial of ``mmcli tune``: sample the settings, train a bundle through
:func:`mmcli.api.train.train` into the trial's run folder, report each epoch's validation
score to Optuna (which may prune the trial), and return the validation score.

The validation rows are the ones ``train`` holds out (``split_indices`` with the run's seed
and ``val_fraction``, never searched), the same for every trial; test rows are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmcli.config import RunConfig
from mmcli.tune.space import Param, Space, apply
from mmcli.tune.storage import claim

RUNS = "runs"
VAL_ROWS_ATTR, RUN_ATTR = "validation_rows", "run"


def run_folder(out: Path, number: int) -> Path:
    """The bundle folder of trial ``number`` under ``out``."""
    return out / RUNS / f"trial-{number:04d}"


def suggest(trial, space: Space) -> dict[str, Any]:
    """The trial's value of each searched setting, by ``section.key``."""
    return {p.name: _suggest(trial, p) for p in space.params}


def _suggest(trial, param: Param) -> Any:
    if param.choices is not None:
        return trial.suggest_categorical(param.name, list(param.choices))
    if param.integer:
        step = int(param.step) if param.step is not None else 1
        return trial.suggest_int(param.name, param.low, param.high, step=step, log=param.log)
    return trial.suggest_float(param.name, float(param.low), float(param.high),
                               step=param.step, log=param.log)


def score_key(config: RunConfig) -> str:
    """The task's headline validation score: ``accuracy``, or ``micro_f1`` (multi-label)."""
    return "micro_f1" if config.train.multi_label else "accuracy"


@dataclass(frozen=True)
class Objective:
    """Callable by ``study.optimize``.

    Attributes:
        data: DATA as ``train`` takes it (a prepared folder or a raw table).
        config: the resolved base config (defaults < --config < flags < --set).
        space: the settings to search (those fixed by the user removed).
        out: the tune folder; trial runs go to ``out/runs/trial-NNNN``.
        fmt: the raw table's format, if given.
        console: a stderr console for the trials' progress, or None.
        tensorboard: a folder for one TensorBoard run per trial, or None.
        on_warning: receives the first trial's warnings about the data, as ``train``'s
            ``on_warning`` (a modality missing in most rows ...), said once for the search.
        data_report: filled by the first trial that ends: ``data`` (train's: rows, rejected,
            rejected_by_reason, warnings) plus ``unused`` (the columns no role took, why).
    """

    data: str
    config: RunConfig
    space: Space
    out: Path
    fmt: str | None = None
    console: Any = None
    tensorboard: Path | None = None
    on_warning: Callable[[str], None] | None = None
    data_report: dict[str, Any] = field(default_factory=dict)

    def __call__(self, trial) -> float:
        import optuna

        from mmcli.api.train import train
        from mmcli.model.backend import import_keras
        from mmcli.model.epoch_hook import EpochHook

        import_keras().utils.clear_session()  # each trial builds a new model

        claim(trial)
        config = apply(self.config, suggest(trial, self.space))
        key = f"val_{score_key(config)}"

        def report(epoch: int, logs: dict) -> bool:
            if key not in logs:
                return False
            trial.report(float(logs[key]), epoch)
            return trial.should_prune()

        hook = EpochHook(report)
        folder = run_folder(self.out, trial.number)
        trial.set_user_attr(RUN_ATTR, str(folder.relative_to(self.out)))
        if self.console is not None:
            self.console.print(f"trial {trial.number}: {_describe(trial.params)}")
        logs = self.tensorboard / folder.name if self.tensorboard is not None else None
        first = not self.data_report
        meta = train(self.data, config, folder, force=True, fmt=self.fmt, console=self.console,
                     callbacks=[hook], tensorboard=logs,
                     on_warning=self.on_warning if first else None)
        if first:
            self.data_report.update(
                {k: meta["data"][k] for k in ("rows", "rejected", "rejected_by_reason",
                                              "warnings") if k in meta["data"]},
                unused=dict(meta.get("roles", {}).get("unused", {})))
        validation = meta["validation"]
        trial.set_user_attr(VAL_ROWS_ATTR, int(validation.get("rows", 0)))
        trial.set_user_attr("best_epoch", meta["training"].get("best_epoch"))
        if hook.stopped:
            raise optuna.TrialPruned(f"trial {trial.number} pruned")
        return float(validation[score_key(config)])


def _describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in params.items())
