"""The one place that predicts rows: an :class:`Engine` holds a model and turns decoded rows
into class probabilities, through the same engines as ``mmcli predict --engine`` (TensorFlow,
or the bundle's LiteRT / ONNX export without TensorFlow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from mmcli.api.row_issues import Categories
    from mmcli.bundle import Bundle
    from mmcli.config import PrepConfig
    from mmcli.data.rows import Row


class Engine(Protocol):
    """A loaded model. ``predict`` is called from one thread at a time."""

    name: str
    categories: Categories  # per tabular modality, its categorical columns' vocabularies

    def predict(self, rows: Sequence[Row]) -> np.ndarray:
        """Probabilities ``(len(rows), classes)`` float64 for usable (not rejected) rows."""
        ...


class BundleEngine:
    """The bundle's model under the engine ``mmcli predict --engine`` would use: TensorFlow on
    ``model.keras``, or the bundle's LiteRT / ONNX export (:func:`mmcli.api.engine.open_engine`),
    so served records equal predict's for the same engine."""

    def __init__(self, bundle: Bundle, prep: PrepConfig, engine: str = "auto") -> None:
        from mmcli.api.engine import open_engine, resolve

        self.name = resolve(bundle, engine)
        self.prep = prep
        self._run = open_engine(bundle, self.name)
        self.categories = self._run.categories

    def predict(self, rows: Sequence[Row]) -> np.ndarray:
        return self._run(rows, self.prep)


def load_engine(bundle: Bundle, prep: PrepConfig, engine: str = "auto") -> Engine:
    """The engine that serves ``bundle``, loaded once, here (``auto``: the bundle's export
    when it has one, else TensorFlow).

    Raises:
        UsageError: an unknown engine or one the bundle has no export for.
        BundleError: the model cannot be loaded.
    """
    return BundleEngine(bundle, prep, engine)
