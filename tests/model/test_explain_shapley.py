"""Shapley values over modalities (pure NumPy: a value function stands in for the model)."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from mmcli.model.explain.shapley import MAX_EXACT, log_odds, shapley


def game(weights: np.ndarray, pair: float = 0.0):
    """A value function over presence matrices: a sigmoid of weighted presence plus an
    interaction between the first two players; two outputs (p and 1 - p)."""
    def value(present: np.ndarray) -> np.ndarray:
        z = present @ weights - 0.3
        if present.shape[1] > 1:
            z = z + pair * present[:, 0] * present[:, 1]
        p = 1 / (1 + np.exp(-z))
        return np.stack([p, 1 - p], axis=1)
    return value


@pytest.mark.parametrize("m", [1, 2, 3, MAX_EXACT])
def test_efficiency_and_null_players_exact(m):
    rng = np.random.default_rng(m)
    present = rng.random((40, m)) > 0.3
    value = game(rng.normal(size=m), pair=0.7)
    result = shapley(value, present)
    assert result.error is None
    gap = result.values.sum(axis=1) - (result.full - result.empty)
    assert np.abs(gap).max() < 1e-12
    gap_lo = result.log_odds.sum(axis=1) - (log_odds(result.full) - log_odds(result.empty))
    assert np.abs(gap_lo).max() < 1e-9
    assert (result.values[~present] == 0.0).all()  # a modality the row lacks: exactly 0


def test_matches_the_definition_for_three_players():
    """Brute force over all orders: the mean marginal contribution."""
    from itertools import permutations

    weights = np.array([0.5, -1.0, 2.0])
    value = game(weights, pair=1.5)
    present = np.ones((1, 3), bool)
    expected = np.zeros(3)
    orders = list(permutations(range(3)))
    for order in orders:
        mask = np.zeros((1, 3), np.float32)
        for i in order:
            before = value(mask)[0, 0]
            mask[0, i] = 1
            expected[i] += (value(mask)[0, 0] - before) / len(orders)
    assert np.allclose(shapley(value, present).values[0, :, 0], expected, atol=1e-12)


def test_additive_game_gives_its_weights():
    weights = np.array([0.2, -0.1, 0.4])

    def linear(present):
        return (present @ weights)[:, None]

    present = np.array(list(product([0, 1], repeat=3)), bool)
    values = shapley(linear, present).values[:, :, 0]
    assert np.allclose(values, present * weights, atol=1e-12)


def test_sampled_beyond_max_exact_keeps_efficiency_and_states_its_error():
    m = MAX_EXACT + 2
    rng = np.random.default_rng(0)
    present = rng.random((5, m)) > 0.2
    value = game(rng.normal(size=m) * 0.3, pair=0.5)
    a = shapley(value, present, seed=3)
    b = shapley(value, present, seed=3)
    assert np.array_equal(a.values, b.values)  # deterministic for a seed
    assert a.error is not None and a.error.shape == a.values.shape
    assert np.abs(a.values.sum(axis=1) - (a.full - a.empty)).max() < 1e-12
    assert (a.values[~present] == 0.0).all()
    # additive part dominates: the estimate is near the exact value within a few errors
    linear = shapley(lambda p: (p @ np.arange(m, dtype=float))[:, None], present, seed=1)
    assert np.allclose(linear.values[:, :, 0], present * np.arange(m), atol=1e-9)
