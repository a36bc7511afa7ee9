"""Text encoders: each vectorizes raw strings inside the model (the vocabulary is learned from
the training texts and saved with it) and returns an ``embed_dim`` vector."""

from __future__ import annotations

from collections.abc import Sequence

from mmcli.config import ModelConfig
from mmcli.errors import DataError
from mmcli.model.backend import import_keras
from mmcli.model.layers import PositionEmbedding, TfidfNormalize

keras = import_keras()


def _vectorizer(texts: Sequence[str], config: ModelConfig, **kwargs):
    if not any(t.strip() for t in texts):
        raise DataError("no training row has any text to learn a vocabulary from")
    vectorize = keras.layers.TextVectorization(
        max_tokens=config.max_tokens, name="text_vectorize", **kwargs
    )
    vectorize.adapt(list(texts), batch_size=1024)
    return vectorize


def bow(text, config: ModelConfig, seed: int, texts: Sequence[str]):
    """TF-IDF over word n-grams, log1p + L2 normalization, dropout, a dense projection."""
    layers = keras.layers
    x = _vectorizer(texts, config, ngrams=config.ngrams, output_mode="tf_idf")(text)
    x = TfidfNormalize(name="text_tfidf_norm")(x)
    x = layers.Dropout(config.dropout, seed=seed + 3, name="text_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name="text_embed")(x)


def _token_vectors(text, config: ModelConfig, texts: Sequence[str]):
    """Token ids (first ``max_length``, padded with 0) to vectors. Padding is not masked: an
    empty text (a masked modality) would leave nothing to pool or attend to; padding gets a
    learned vector instead."""
    vectorize = _vectorizer(
        texts, config, output_mode="int", output_sequence_length=config.max_length
    )
    vocabulary = len(vectorize.get_vocabulary())
    return keras.layers.Embedding(
        vocabulary, config.embed_dim, name="text_embedding"
    )(vectorize(text))


def _mean_max(x):
    layers = keras.layers
    return layers.Concatenate(name="text_pool")([
        layers.GlobalAveragePooling1D(name="text_mean")(x),
        layers.GlobalMaxPooling1D(name="text_max")(x),
    ])


def embedding(text, config: ModelConfig, seed: int, texts: Sequence[str]):
    """Word embeddings (first ``max_length`` tokens), mean- and max-pooled
    (the max keeps one decisive word from being averaged away in a long text)."""
    layers = keras.layers
    x = _token_vectors(text, config, texts)
    x = _mean_max(x)
    x = layers.Dropout(config.dropout, seed=seed + 3, name="text_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name="text_embed")(x)


def cnn(text, config: ModelConfig, seed: int, texts: Sequence[str]):
    """Word embeddings, two parallel 1-D convolutions (widths 2 and 3), max-pooled."""
    layers = keras.layers
    x = _token_vectors(text, config, texts)
    pooled = [
        layers.GlobalMaxPooling1D(name=f"text_pool{width}")(
            layers.Conv1D(config.embed_dim, width, padding="same", activation="relu",
                          name=f"text_conv{width}")(x)
        )
        for width in (2, 3)
    ]
    x = layers.Concatenate(name="text_concat")(pooled)
    x = layers.Dropout(config.dropout, seed=seed + 3, name="text_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name="text_embed")(x)


def transformer(text, config: ModelConfig, seed: int, texts: Sequence[str]):
    """Word embeddings plus learned positions, one transformer block (2-head self-attention
    and a feed-forward layer, each with a residual and layer norm), mean- and max-pooled."""
    layers = keras.layers
    dim = config.embed_dim
    x = _token_vectors(text, config, texts)
    x = PositionEmbedding(config.max_length, name="text_positions")(x)
    attended = layers.MultiHeadAttention(2, max(1, dim // 2), dropout=config.dropout,
                                         seed=seed + 6, name="text_attention")(x, x)
    x = layers.LayerNormalization(name="text_norm1")(layers.Add(name="text_res1")([x, attended]))
    hidden = layers.Dense(2 * dim, activation="relu", name="text_ffn1")(x)
    hidden = layers.Dense(dim, name="text_ffn2")(hidden)
    x = layers.LayerNormalization(name="text_norm2")(layers.Add(name="text_res2")([x, hidden]))
    x = _mean_max(x)
    x = layers.Dropout(config.dropout, seed=seed + 3, name="text_dropout")(x)
    return layers.Dense(dim, activation="relu", name="text_embed")(x)


TEXT_ENCODERS = {"bow": bow, "embedding": embedding, "cnn": cnn, "transformer": transformer}
