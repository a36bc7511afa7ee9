"""The one place that predicts rows: an :class:`Engine` holds a model and turns decoded rows
into class probabilities. ``serve`` uses the TensorFlow engine; another runtime (LiteRT,
ONNX Runtime) is another class with the same two members, chosen in :func:`load_engine`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from mmcli.bundle import Bundle
    from mmcli.config import PrepConfig
    from mmcli.data.rows import Row


class Engine(Protocol):
    """A loaded model. ``predict`` is called from one thread at a time."""

    name: str

    def predict(self, rows: Sequence[Row]) -> np.ndarray:
        """Probabilities ``(len(rows), classes)`` float64 for usable (not rejected) rows."""
        ...


class TensorFlowEngine:
    """The bundle's Keras model (``model.keras``), fed as ``mmcli predict`` feeds it."""

    name = "tf"

    def __init__(self, bundle: Bundle, prep: PrepConfig) -> None:
        from mmcli.bundle import load_model

        self.modalities = bundle.modalities
        self.prep = prep
        self.model = load_model(bundle)

    def predict(self, rows: Sequence[Row]) -> np.ndarray:
        from mmcli.model.feed import rows_inputs
        from mmcli.model.inference import predict_proba

        return predict_proba(self.model, rows_inputs(rows, self.modalities, self.prep))


def load_engine(bundle: Bundle, prep: PrepConfig) -> Engine:
    """The engine that serves ``bundle`` (TensorFlow; the model loaded once, here).

    Raises:
        BundleError: the model cannot be loaded.
    """
    return TensorFlowEngine(bundle, prep)
