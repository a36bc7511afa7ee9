"""Which engine predicts: TensorFlow on the bundle's Keras model, or a numeric export inside
the bundle (``engine/``) under LiteRT or ONNX Runtime, with the steps those formats cannot
hold done in numpy (:mod:`mmcli.engines`). Only the ``tf`` engine imports TensorFlow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from mmcli import layout, modalities
from mmcli.api.row_issues import Categories
from mmcli.bundle import Bundle
from mmcli.config import PrepConfig
from mmcli.errors import UsageError

ENGINES = ("auto", "tf", "lite", "onnx")
# auto's order: LiteRT first (it holds every modality's model, audio spectrogram included).
AUTO_ORDER = ("lite", "onnx")

Engine = Callable[[Sequence, PrepConfig], np.ndarray]  # (rows, prep) -> probabilities


@dataclass(frozen=True)
class Runner:
    """An :data:`Engine` and the training vocabulary of each tabular modality's categorical
    columns (to count the cells it maps to the out-of-vocabulary bucket)."""

    run: Engine
    categories: Categories

    def __call__(self, rows: Sequence, prep: PrepConfig) -> np.ndarray:
        return self.run(rows, prep)


def available(bundle: Bundle) -> tuple[str, ...]:
    """The numeric engines the bundle holds an export for (listed in its hashed files)."""
    if layout.ENGINE_CONTRACT not in bundle.files:
        return ()
    return tuple(e for e in AUTO_ORDER if layout.ENGINE_FILES[e] in bundle.files)


def resolve(bundle: Bundle, engine: str) -> str:
    """The engine ``engine`` means for this bundle (``auto``: the first export it has, else
    ``tf``).

    Raises:
        UsageError: an unknown engine, or one the bundle has no export for.
    """
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    have = available(bundle)
    if engine == "auto":
        return have[0] if have else "tf"
    if engine != "tf" and engine not in have:
        raise UsageError(f"{bundle.folder} has no {engine} export; add one with "
                         f"mmcli export {bundle.folder} --format {engine} --into-bundle, "
                         "or use --engine tf")
    return engine


def open_engine(bundle: Bundle, engine: str = "auto") -> Runner:
    """A function from usable rows (and the reading settings) to probabilities
    ``(rows, labels)`` float64, with the training vocabularies (:class:`Runner`).

    Raises:
        UsageError: see :func:`resolve`; a runtime package missing.
        BundleError: the model or its contract cannot be loaded.
    """
    chosen = resolve(bundle, engine)
    if chosen == "tf":
        from mmcli.bundle import load_model
        from mmcli.model.feed import rows_inputs
        from mmcli.model.inference import predict_proba
        from mmcli.model.tabular_encoders import vocabularies

        model = load_model(bundle)
        categories = {m: vocabularies(model, m, bundle.config.prep) for m in bundle.modalities
                      if modalities.modality_of(m).kind == "tabular"}
        return Runner(lambda rows, prep: predict_proba(model, rows_inputs(
            rows, bundle.modalities, prep)), categories)
    from mmcli.engines.contract import read_contract
    from mmcli.engines.numeric import numeric_inputs
    from mmcli.engines.runtimes import SESSIONS

    contract = read_contract(bundle.folder / layout.ENGINE_CONTRACT)
    session = SESSIONS[chosen](bundle.folder / layout.ENGINE_FILES[chosen])

    def run(rows, prep: PrepConfig) -> np.ndarray:
        values = {m: modalities.modality_of(m).batch([r.values.get(m) for r in rows], prep)
                  for m in bundle.modalities}
        present = {m: np.array([r.present(m) for r in rows], np.float32)
                   for m in bundle.modalities}
        return session(numeric_inputs(contract, values, present))

    return Runner(run, {t.modality: tuple(frozenset(v) for v in t.vocabularies)
                        for t in contract.tabular})
