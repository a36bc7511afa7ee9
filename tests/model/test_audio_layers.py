"""The audio layers: LogMelScale (per-example decibels) and SpecAugment (training only)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def layers():
    from mmcli.model import layers

    return layers


def test_log_mel_scale_is_per_example(layers):
    layer = layers.LogMelScale(top_db=80.0)
    quiet = np.full((1, 4, 5), 1e-6, np.float32)
    quiet[0, 1, 2] = 1e-4
    batch = np.concatenate([quiet, quiet * 1e6])  # the same shape, 60 dB louder
    out = np.asarray(layer(batch))
    assert out.shape == (2, 4, 5, 1)
    np.testing.assert_allclose(out[0], out[1], atol=1e-5)  # loudness does not matter
    assert out[0, 1, 2, 0] == pytest.approx(1.0) and out[0, 0, 0, 0] == pytest.approx(0.75)
    alone = np.asarray(layer(batch[:1]))
    np.testing.assert_allclose(alone[0], out[0], atol=1e-6)  # nor the neighbours
    floor = np.asarray(layer(np.array([[[1.0, 0.0]]], np.float32)))
    assert floor[0, 0, 1, 0] == pytest.approx(0.0)  # clipped at -top_db
    clone = layers.LogMelScale.from_config(layer.get_config())
    assert (clone.top_db, clone.min_power) == (80.0, 1e-10)
    with pytest.raises(ValueError, match="top_db"):
        layers.LogMelScale(top_db=0)


def test_spec_augment_masks_in_training_only(layers):
    layer = layers.SpecAugment(freq_width=4, time_fraction=0.25, seed=0)
    x = np.ones((64, 16, 20, 1), np.float32)
    assert np.array_equal(np.asarray(layer(x)), x)
    out = np.asarray(layer(x, training=True))
    zeroed = (out == 0).reshape(64, -1).mean(axis=1)
    assert zeroed.max() <= (4 * 20 + 5 * 16) / (16 * 20) and zeroed.mean() > 0.05
    assert len({tuple(np.flatnonzero(out[i, :, 0, 0] == 0)) for i in range(64)}) > 3
    clone = layers.SpecAugment.from_config(layer.get_config())
    assert (clone.freq_width, clone.time_fraction, clone.seed) == (4, 0.25, 0)
    with pytest.raises(ValueError, match="time_fraction"):
        layers.SpecAugment(time_fraction=1.0)
