"""An export checked as it is written: the same rows through the bundle's Keras model and
through the export in its own runtime, compared.

Tolerances (the largest absolute difference of any probability allowed), measured on
sample_data and fashion30 (``benchmarks/results/export.md``): LiteRT and ONNX run the same
float32 graph as Keras after the numpy steps, so they stay within :data:`NUMERIC_TOLERANCE`
(Keras' own export tests use 1e-4 for LiteRT, 1e-6 for ONNX; the audio spectrogram and many
layers add up). The raw-input SavedModel also decodes and resizes images with TensorFlow
instead of Pillow and cleans text with TensorFlow's regular expressions: on sample_data's
JPEGs its pixels equal Pillow's (same DCT scaling; largest difference 0.0 on four.csv's rows),
but other formats are resized by TensorFlow's antialiased bilinear filter, a level or two
apart from Pillow's: :data:`SAVEDMODEL_TOLERANCE`. Whatever the format, at most
:data:`MAX_DISAGREEMENT` of the rows may change their top-1 label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from mmcli.errors import DataError

NUMERIC_TOLERANCE = 1e-3
SAVEDMODEL_TOLERANCE = 0.02
MAX_DISAGREEMENT = 0.005


class ExportMismatchError(DataError):
    """The export does not predict what the bundle predicts (exit code 3; nothing written)."""


@dataclass(frozen=True)
class Agreement:
    """How an export compares with the bundle on ``rows`` rows."""

    rows: int
    top1_agreement: float  # share of rows with the same most probable label
    max_prob_diff: float  # largest |p_export - p_bundle| over rows and labels
    tolerance: float

    def to_dict(self) -> dict:
        return {"rows": self.rows, "top1_agreement": round(self.top1_agreement, 6),
                "max_prob_diff": float(f"{self.max_prob_diff:.3g}"),
                "tolerance": self.tolerance, "max_disagreement": MAX_DISAGREEMENT}


def compare(pairs: Iterable[tuple[np.ndarray, np.ndarray]], tolerance: float) -> Agreement:
    """Agreement over (bundle probabilities, export probabilities) batches.

    A row whose export top-1 differs from the bundle's only among labels the bundle itself
    gives probabilities within ``tolerance`` of its top one (a tie: an untrained model's
    uniform output) keeps its top-1: which tied label comes first is not a disagreement.
    """
    rows, same, worst = 0, 0, 0.0
    for expected, got in pairs:
        expected, got = np.asarray(expected, np.float64), np.asarray(got, np.float64)
        if not len(expected):
            continue
        rows += len(expected)
        chosen = expected[np.arange(len(expected)), got.argmax(1)]
        same += int((np.isfinite(got).all(1) & (chosen >= expected.max(1) - tolerance)).sum())
        gap = np.abs(expected - got)  # NaN where the export gives NaN: the worst difference
        worst = max(worst, float(np.where(np.isnan(gap), np.inf, gap).max()))
    return Agreement(rows, same / rows if rows else 1.0, worst, tolerance)


def require(agreement: Agreement, what: str) -> Agreement:
    """``agreement``, or ExportMismatchError when it breaks the limits (both figures named)."""
    if agreement.rows == 0:
        raise ExportMismatchError(f"{what}: no usable row to check the export on")
    if 1.0 - agreement.top1_agreement > MAX_DISAGREEMENT or \
            agreement.max_prob_diff > agreement.tolerance:
        raise ExportMismatchError(
            f"{what} does not match the bundle on {agreement.rows} rows: top-1 agreement "
            f"{agreement.top1_agreement:.4f} (at least {1 - MAX_DISAGREEMENT} needed), largest "
            f"probability difference {agreement.max_prob_diff:.3g} (at most "
            f"{agreement.tolerance}); nothing written")
    return agreement


def numeric_pairs(model, batches: Iterable[dict], to_numeric: Callable[[dict], dict],
                  session: Callable[[dict], np.ndarray]):
    """(Keras probabilities, export probabilities) per batch of Keras input dicts."""
    for inputs in batches:
        yield (np.asarray(model.predict_on_batch(inputs)), session(to_numeric(inputs)))
