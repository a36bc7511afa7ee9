"""The steps a LiteRT or ONNX export cannot hold, in numpy: text vectorization from the saved
vocabulary and tabular cells to numbers, missing flags and category ids (the exact rules of
``TextVectorization`` and :class:`~mmcli.model.layers.TabularCells`), and for ONNX the audio
log-mel spectrogram (:mod:`mmcli.engines.audio`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from mmcli.engines.audio import log_mel
from mmcli.engines.contract import STRIP_PUNCTUATION, AudioStep, Contract, TabularStep, TextStep

PRESENT = "present"
MISSING_TOKEN = "[missing]"  # as mmcli.model.layers.tabular_cells.MISSING_TOKEN
NUMBER = re.compile(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*")
FLOAT32_MAX = float(np.finfo(np.float32).max)  # a larger cell would be inf: kept missing
_PUNCTUATION = re.compile(STRIP_PUNCTUATION)
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def tokens(text: str, ngrams: int | None = None) -> list[str]:
    """Keras' ``lower_and_strip_punctuation`` + whitespace split (+ n-grams 1..``ngrams``
    joined by a space), e.g. ``tokens("A red, RED cup!", 2)`` -> ``['a', 'red', 'red', 'cup',
    'a red', 'red red', 'red cup']``."""
    words = [w for w in _WHITESPACE.split(
        _PUNCTUATION.sub("", text.translate(_ASCII_LOWER))) if w]
    out = list(words)
    for width in range(2, (ngrams or 1) + 1):
        out += [" ".join(words[i:i + width]) for i in range(len(words) - width + 1)]
    return out


def vectorize(texts: Sequence[str], step: TextStep) -> np.ndarray:
    """Texts to the ``TextVectorization`` output: ``tf_idf`` float32 ``(batch, vocabulary)``
    (counts times the IDF weights, unknown tokens at index 0) or ``int`` int64 ``(batch,
    sequence_length)`` (unknown 1, padding 0)."""
    index = step.index
    if step.mode == "tf_idf":
        idf = np.asarray(step.idf, np.float32)
        out = np.zeros((len(texts), len(step.vocabulary)), np.float32)
        for row, text in enumerate(texts):
            for token in tokens(str(text), step.ngrams):
                out[row, index.get(token, 0)] += 1.0
        return out * idf
    if step.mode == "int":
        length = int(step.sequence_length or 0)
        out = np.zeros((len(texts), length), np.int64)
        for row, text in enumerate(texts):
            ids = [index.get(t, 1) for t in tokens(str(text), step.ngrams)][:length]
            out[row, :len(ids)] = ids
        return out
    raise ValueError(f"Expected `mode` tf_idf or int. Received: mode={step.mode!r}")


def tabular_cells(cells: np.ndarray, step: TabularStep) -> dict[str, np.ndarray]:
    """``(batch, columns)`` cells (numeric columns first) to ``<m>__numbers``,
    ``<m>__missing`` float32 (only when there are numeric columns, as the export's inputs)
    and one ``<m>__category_<j>`` int64 ``(batch, 1)`` per categorical column."""
    name = step.modality
    grid = np.asarray(cells, dtype=object).reshape(len(cells), -1)
    stripped = np.vectorize(lambda v: str(v if v is not None else "").strip(),
                            otypes=[object])(grid)
    count = len(step.medians)
    numbers = np.tile(np.asarray(step.medians, np.float32), (len(cells), 1))
    missing = np.ones((len(cells), count), np.float32)
    for (row, col), cell in np.ndenumerate(stripped[:, :count]):
        if NUMBER.fullmatch(cell) and abs(float(cell)) <= FLOAT32_MAX:  # else inf: missing
            numbers[row, col], missing[row, col] = np.float32(float(cell)), 0.0
    out = {f"{name}__numbers": numbers, f"{name}__missing": missing} if count else {}
    for j, index in enumerate(step.indexes):
        column = [c or MISSING_TOKEN for c in stripped[:, count + j]]
        out[f"{name}__category_{j}"] = np.array([[index.get(c, 0)] for c in column], np.int64)
    return out


def numeric_inputs(contract: Contract, values: Mapping[str, np.ndarray],
                   present: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The numeric model's input dict for one batch: ``values`` as the Keras model takes them
    (by modality), ``present`` the 0/1 flags per modality."""
    steps = {s.modality: s for s in (*contract.text, *contract.tabular, *contract.audio)}
    out: dict[str, np.ndarray] = {}
    for name in contract.modalities:
        step = steps.get(name)
        if isinstance(step, TextStep):
            suffix = "vector" if step.mode == "tf_idf" else "ids"
            out[f"{name}__{suffix}"] = vectorize(list(values[name]), step)
        elif isinstance(step, TabularStep):
            out.update(tabular_cells(values[name], step))
        elif isinstance(step, AudioStep):
            out[f"{name}__logmel"] = log_mel(values[name], step)
        else:
            out[name] = values[name]
    out[PRESENT] = np.stack([np.asarray(present[m], np.float32) for m in contract.modalities],
                            axis=1)
    dtypes = {spec.name: spec.dtype for spec in contract.inputs}
    return {k: np.ascontiguousarray(v, dtype=dtypes[k]) for k, v in out.items()}
