"""Shapley values over a row's modalities, masking subsets through the model's own absent path.

The players are the modalities; the value of a coalition S for a row is the model's output
with only the modalities in S (and the row) marked present in its ``present`` input, every
other one replaced by the learned "missing" token (:class:`~mmcli.model.layers.ModalityMask`).
A modality the row does not have is a null player: its value is exactly 0.

Up to :data:`MAX_EXACT` modalities the values are exact, from all 2^M coalitions (2^M
forward passes per batch). Beyond, they are the mean over ``permutations`` random orders
(sampled with the run's seed), with a standard error per value; each order's marginal
contributions telescope, so the values still sum exactly to f(all) - f(none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from math import factorial

import numpy as np

MAX_EXACT = 6
PERMUTATIONS = 64  # orders sampled beyond MAX_EXACT modalities
EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] before log-odds


@dataclass(frozen=True)
class Shapley:
    """Attributions of every output to every modality, for a batch of rows.

    Attributes:
        values: ``(rows, M, outputs)`` Shapley values of the probabilities.
        log_odds: ``(rows, M, outputs)`` the same of the log-odds ``log p / (1 - p)``.
        full: ``(rows, outputs)`` probabilities with all of the row's modalities.
        empty: ``(rows, outputs)`` probabilities with none.
        error: ``(rows, M, outputs)`` standard error of sampled values, or None when exact.
    """

    values: np.ndarray
    log_odds: np.ndarray
    full: np.ndarray
    empty: np.ndarray
    error: np.ndarray | None = None


def log_odds(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p) - np.log1p(-p)


def shapley(value: Callable[[np.ndarray], np.ndarray], present: np.ndarray,
            *, seed: int = 0) -> Shapley:
    """Shapley values of ``value`` over the modalities of each row.

    Args:
        value: maps a presence matrix ``(rows, M)`` (float 0/1) to outputs ``(rows, C)``.
        present: ``(rows, M)`` which modalities each row has.
        seed: the generator of sampled orders (more than :data:`MAX_EXACT` modalities).
    """
    present = np.asarray(present, dtype=bool)
    m = present.shape[1]
    if m > MAX_EXACT:
        return _sampled(value, present, np.random.default_rng(seed))
    masks = [np.array([(s >> i) & 1 for i in range(m)], bool) for s in range(2 ** m)]
    raw = np.stack([np.asarray(value((present & mask).astype(np.float32)), np.float64)
                    for mask in masks])  # (2^M, rows, C)
    # the row's own coalition: a modality it lacks changes nothing, bit for bit
    codes = (present.astype(np.int64) << np.arange(m)).sum(axis=1)  # (rows,)
    rows = np.arange(present.shape[0])

    def table(transform):
        own = transform(raw)
        return np.stack([own[s & codes, rows] for s in range(2 ** m)])  # (2^M, rows, C)

    out = []
    for v in (table(lambda x: x), table(log_odds)):
        phi = np.zeros((v.shape[1], m, v.shape[2]))
        for i in range(m):
            for size in range(m):
                weight = factorial(size) * factorial(m - size - 1) / factorial(m)
                for others in combinations([j for j in range(m) if j != i], size):
                    s = sum(1 << j for j in others)
                    phi[:, i] += weight * (v[s | (1 << i)] - v[s])
        out.append(phi)
    full = raw[codes, rows]
    return Shapley(out[0], out[1], full, raw[0])


def _sampled(value, present: np.ndarray, rng: np.random.Generator) -> Shapley:
    """Permutation sampling (antithetic pairs: each order and its reverse)."""
    n, m = present.shape
    samples_p, samples_l = [], []
    empty = np.asarray(value(np.zeros((n, m), np.float32)), np.float64)
    full = empty
    order = np.arange(m)
    for k in range(PERMUTATIONS):
        order = rng.permutation(m) if k % 2 == 0 else order[::-1]
        mask = np.zeros(m, bool)
        prev = empty
        phi_p = np.zeros((n, m, prev.shape[1]))
        phi_l = np.zeros_like(phi_p)
        for i in order:
            mask[i] = True
            cur = np.asarray(value((present & mask).astype(np.float32)), np.float64)
            lacks = ~present[:, i]
            cur[lacks] = prev[lacks]  # a modality the row lacks: exactly no change
            phi_p[:, i] = cur - prev
            phi_l[:, i] = log_odds(cur) - log_odds(prev)
            prev = cur
        full = prev
        samples_p.append(phi_p)
        samples_l.append(phi_l)
    p, lo = np.stack(samples_p), np.stack(samples_l)
    error = p.std(axis=0, ddof=1) / np.sqrt(PERMUTATIONS)
    return Shapley(p.mean(axis=0), lo.mean(axis=0), full, empty, error)
