"""Each custom layer: output shapes, behaviour, and a get_config round trip."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def layers():
    from mmcli.model import layers

    return layers


def test_tfidf_normalize(layers):
    layer = layers.TfidfNormalize()
    out = np.asarray(layer(np.array([[0.0, 3.0, 4.0], [0.0, 0.0, 0.0]], np.float32)))
    assert out.shape == (2, 3)
    assert np.isclose(np.linalg.norm(out[0]), 1.0) and np.allclose(out[1], 0.0)
    assert out[0, 2] > out[0, 1] > 0
    clone = layers.TfidfNormalize.from_config(layer.get_config())
    assert clone.epsilon == layer.epsilon
    with pytest.raises(ValueError, match="epsilon"):
        layers.TfidfNormalize(epsilon=0)


def test_modality_mask_fills_missing_and_never_drops_everything(layers):
    layer = layers.ModalityMask(rate=0.45, seed=1)
    embeddings = np.ones((200, 2, 4), np.float32)
    present = np.array([[1, 1]] * 100 + [[1, 0]] * 100, np.float32)
    tokens, kept = layer([embeddings, present])
    assert tokens.shape == (200, 2, 4) and kept.shape == (200, 2)
    assert np.allclose(np.asarray(tokens)[100:, 1], 0.0)  # missing -> learned (zero-init) vector
    assert np.array_equal(np.asarray(kept), present)  # no dropout at inference
    _, dropped = layer([embeddings, present], training=True)
    dropped = np.asarray(dropped)
    assert dropped.sum(axis=1).min() >= 1  # never all modalities of a row
    assert 0 < (dropped[:100] == 0).mean() < 0.5
    clone = layers.ModalityMask.from_config(layer.get_config())
    assert (clone.rate, clone.seed) == (0.45, 1)
    with pytest.raises(ValueError, match="rate"):
        layers.ModalityMask(rate=0.7)


def test_gated_fusion_weights_sum_to_one(layers):
    layer = layers.GatedFusion(temperature=2.0)
    tokens = np.random.default_rng(0).normal(size=(5, 3, 8)).astype(np.float32)
    fused, weights = layer(tokens)
    assert fused.shape == (5, 8) and weights.shape == (5, 3)
    assert np.allclose(np.asarray(weights).sum(axis=1), 1.0, atol=1e-5)
    clone = layers.GatedFusion.from_config(layer.get_config())
    assert clone.temperature == 2.0


def test_late_fusion_mixes_present_heads_only(layers):
    layer = layers.LateFusion(units=4)
    tokens = np.random.default_rng(0).normal(size=(3, 2, 8)).astype(np.float32)
    present = np.array([[1, 1], [1, 0], [0, 1]], np.float32)
    logits, weights = layer([tokens, present])
    weights = np.asarray(weights)
    assert logits.shape == (3, 4) and weights.shape == (3, 2)
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(weights[1], [1, 0]) and np.allclose(weights[2], [0, 1])
    alone = layer([tokens[1:2], np.array([[1, 0]], np.float32)])[0]
    kernel, bias = np.asarray(layer.kernel), np.asarray(layer.bias)
    assert np.allclose(alone[0], tokens[1, 0] @ kernel[0] + bias[0], atol=1e-5)
    clone = layers.LateFusion.from_config(layer.get_config())
    assert clone.units == 4
    with pytest.raises(ValueError, match="units"):
        layers.LateFusion(units=0)


def test_attention_fusion_weights_sum_to_one(layers):
    layer = layers.AttentionFusion(num_heads=2, dropout=0.1)
    tokens = np.random.default_rng(1).normal(size=(5, 3, 8)).astype(np.float32)
    fused, weights = layer(tokens)
    assert fused.shape == (5, 8) and weights.shape == (5, 3)
    assert np.allclose(np.asarray(weights).sum(axis=1), 1.0, atol=1e-5)
    clone = layers.AttentionFusion.from_config(layer.get_config())
    assert (clone.num_heads, clone.dropout) == (2, 0.1)
    with pytest.raises(ValueError, match="num_heads"):
        layers.AttentionFusion(num_heads=0)


def test_position_embedding_adds_positions_and_keeps_the_mask(layers):
    from mmcli.model.backend import import_keras

    keras = import_keras()
    layer = layers.PositionEmbedding(sequence_length=6)
    out = np.asarray(layer(np.zeros((2, 4, 3), np.float32)))
    assert out.shape == (2, 4, 3)
    assert np.allclose(out[0], np.asarray(layer.positions)[:4]) and np.allclose(out[0], out[1])
    ids = keras.Input((4,), dtype="int32")
    masked = layer(keras.layers.Embedding(10, 3, mask_zero=True)(ids))
    assert masked._keras_mask is not None  # padding stays masked for the attention after it
    clone = layers.PositionEmbedding.from_config(layer.get_config())
    assert clone.sequence_length == 6
    with pytest.raises(ValueError, match="sequence_length"):
        layers.PositionEmbedding(sequence_length=0)
