"""``mmcli tune`` as a library call: an Optuna search over training settings, each trial a
``train`` run, then the report files and, with ``refit``, the final bundle."""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmcli.config import RunConfig
from mmcli.data.dataset import is_dataset
from mmcli.errors import UsageError
from mmcli.tune.objective import RUN_ATTR, Objective, score_key
from mmcli.tune.report import BEST_FILE, TRIALS_FILE, write_best, write_plots, write_trials
from mmcli.tune.space import Space, apply, check
from mmcli.tune.storage import open_storage, recover_orphans

BUNDLE = "bundle"
# Pruning: a trial stops when its validation score at an epoch is below the median of the
# earlier trials' at that epoch, once 3 trials have finished and from its second epoch on.
STARTUP_TRIALS, WARMUP_EPOCHS = 3, 1


@dataclass(frozen=True)
class Search:
    """How long and where to search.

    Attributes:
        trials: trials this call adds (None: until ``timeout``).
        timeout: seconds after which no new trial starts (None: no limit).
        storage: a database URL or a journal file path (None: ``out/study.log``).
        study: the study's name; an existing study of that name is continued.
        refit: train the best settings into ``out/bundle`` afterwards.
        tensorboard: write one TensorBoard run per trial under ``out/tensorboard`` (None:
            when the tensorboard package is installed).
    """

    trials: int | None = 20
    timeout: float | None = None
    storage: str | None = None
    study: str = "mmcli"
    refit: bool = False
    tensorboard: bool | None = None


def tune(data: str | Path, config: RunConfig, out: Path, space: Space, search: Search, *,
         fixed: frozenset[str] = frozenset(), fmt: str | None = None,
         console=None, on_warning: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Search ``space`` (less the ``fixed`` settings) for the settings with the best
    validation score of ``train`` on ``data``, from ``config``.

    Every trial trains with ``config``'s seed and validation fraction (never searched), so
    all score the same validation rows; test rows are never read. Trials are bundles in
    ``out/runs/trial-NNNN``; ``out`` gets trials.csv, best.toml, history.png and
    importances.png.

    ``on_warning`` receives the first trial's warnings about the data (as ``train``'s).

    Returns:
        The summary (study, storage, counts by state, trials added, best trial and its
        settings, files written, the refit bundle, and ``data``: what reading DATA did, as
        train reports it (rows, rejected, rejected_by_reason, warnings) plus ``unused``
        columns; empty when no trial of this call ended).

    Raises:
        UsageError: DATA from stdin, an invalid space, nothing left to search, a study in the
            storage that minimises.
        DataError: as ``train`` does for unusable data.
    """
    import optuna

    if str(data) == "-":
        raise UsageError("tune reads DATA once per trial: give a table file or a prepared "
                         "folder, not - (stdin)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    space = space.without(fixed)
    notes = []
    if is_dataset(Path(data)) and any(p.section == "prep" for p in space.params):
        dropped = [p.name for p in space.params if p.section == "prep"]
        space = space.without(set(dropped))
        notes.append(f"not searched on a prepared folder: {', '.join(dropped)}")
    unused = _settings_without_data(space, str(data), config, fmt)
    if unused:
        space = space.without(set(unused))
        notes.append("not searched, the data has no " + "; no ".join(
            f"{kind}: {', '.join(names)}" for kind, names in _by_kind(unused).items()))
    if not space.params:
        raise UsageError("nothing left to search: every setting of the space is fixed by "
                         "--config, --set or a flag")
    check(space, config)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage, where = open_storage(search.storage, out)
    study = optuna.create_study(
        study_name=search.study, storage=storage, load_if_exists=True, direction="maximize",
        pruner=optuna.pruners.MedianPruner(n_startup_trials=STARTUP_TRIALS,
                                           n_warmup_steps=WARMUP_EPOCHS))
    # Seeded, and offset by the trials already there, so a resumed search does not replay
    # the first run's random start-up points.
    study.sampler = optuna.samplers.TPESampler(seed=config.train.seed + len(study.trials))
    requeued = recover_orphans(study)
    added: list[int] = []
    wanted = search.tensorboard
    if wanted is None:
        wanted = importlib.util.find_spec("tensorboard") is not None
    elif wanted:
        from mmcli.model.board import require_tensorboard

        require_tensorboard()
    board = out / "tensorboard" if wanted else None
    objective = Objective(str(data), config, space, out, fmt, console, board, on_warning)
    study.optimize(objective, n_trials=search.trials, timeout=search.timeout,
                   callbacks=[lambda _study, trial: added.append(trial.number)],
                   gc_after_trial=True)
    summary = _finish(study, data, config, out, search, where, added, requeued, notes, fmt,
                      console)
    return {**summary, "data": objective.data_report}


def _finish(study, data, config, out, search, where, added, requeued, notes, fmt, console):
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    write_trials(study, out / TRIALS_FILE)
    files = [TRIALS_FILE, *write_plots(study, out)]
    summary: dict[str, Any] = {
        "study": study.study_name, "storage": where, "out": str(out),
        "score": f"validation {score_key(config)}",
        "trials": {"total": len(trials), "added": len(added),
                   **{s.name.lower(): n for s, n in Counter(t.state for t in trials).items()}},
        "requeued": requeued, "notes": notes, "best": None, "files": files, "bundle": None,
    }
    if not any(t.state == TrialState.COMPLETE for t in trials):
        return summary
    best = study.best_trial
    best_config = _trained_config(out, best, config)
    write_best(best_config, out / BEST_FILE)
    files.append(BEST_FILE)
    summary["best"] = {"number": best.number, "value": best.value, "params": best.params,
                       "run": best.user_attrs.get(RUN_ATTR)}
    if search.refit:
        from mmcli.api.train import train

        train(str(data), best_config, out / BUNDLE, force=True, fmt=fmt, console=console)
        summary["bundle"] = str(out / BUNDLE)
    return summary


def _trained_config(out: Path, trial, config: RunConfig) -> RunConfig:
    """The config the trial's bundle records (the prepared data's settings, a fallback
    encoder), or the base config with its settings when its run folder is elsewhere."""
    from mmcli.bundle import read_bundle
    from mmcli.errors import BundleError

    run = trial.user_attrs.get(RUN_ATTR)
    if run is not None and (out / run).is_dir():
        try:
            return read_bundle(out / run, verify=False).config
        except BundleError:
            pass
    return apply(config, trial.params)


def _kind_of_setting(name: str) -> str | None:
    """The modality kind a setting is about, by its key's prefix (``model.image_encoder``,
    ``prep.image_size`` -> ``image``), or None for a setting of the whole model."""
    from mmcli import modalities

    key = name.split(".", 1)[-1]
    return next((kind for kind in modalities.REGISTRY if key.startswith(kind + "_")), None)


def _by_kind(names: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name in names:
        grouped.setdefault(_kind_of_setting(name) or "", []).append(name)
    return grouped


def _settings_without_data(space: Space, data: str, config: RunConfig,
                           fmt: str | None) -> list[str]:
    """The searched settings of a modality kind DATA does not have (an image encoder for a
    table without images): searching them only adds noise to the study and to best.toml.
    Empty when DATA's columns cannot be told without preparing it (train then says why)."""
    from mmcli import modalities
    from mmcli.data.dataset import open_dataset
    from mmcli.data.inputs import load_inputs
    from mmcli.errors import MmcliError

    try:
        if is_dataset(Path(data)):
            names = open_dataset(Path(data)).schema.modalities
        else:
            names = load_inputs(data, config.prep, fmt=fmt).roles.modalities
    except (MmcliError, OSError):
        return []
    kinds = {modalities.kind_of(name) for name in names}
    return [p.name for p in space.params
            if (kind := _kind_of_setting(p.name)) is not None and kind not in kinds]
