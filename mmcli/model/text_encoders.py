"""Text encoders: each vectorizes raw strings inside the model (the vocabulary is learned from
the training texts and saved with it) and returns an ``embed_dim`` vector. A KerasHub preset
(``hub:<name or folder>``, :mod:`mmcli.model.hub`) is instead a shared extractor: its
tokenizer (vocabulary in the layer config) and backbone inside the model, its pooled output
computed once when frozen.

``prefix`` (the modality's name) starts every layer name, so several text inputs each get
their own encoder."""

from __future__ import annotations

from collections.abc import Sequence

from mmcli.config import ModelConfig
from mmcli.errors import DataError, UsageError
from mmcli.model.backend import import_keras
from mmcli.model.layers import HubText, PositionEmbedding, TfidfNormalize
from mmcli.registry import hub_preset

keras = import_keras()


def _vectorizer(texts: Sequence[str], config: ModelConfig, prefix: str, **kwargs):
    if not any(t.strip() for t in texts):
        raise DataError(
            f"no training row has any text in {prefix} to learn a vocabulary from"
        )
    vectorize = keras.layers.TextVectorization(
        max_tokens=config.max_tokens, name=f"{prefix}_vectorize", **kwargs
    )
    vectorize.adapt(list(texts), batch_size=1024)
    return vectorize


def bow(
    text, config: ModelConfig, seed: int, texts: Sequence[str], prefix: str = "text"
):
    """TF-IDF over word n-grams, log1p + L2 normalization, dropout, a dense projection."""
    layers = keras.layers
    x = _vectorizer(texts, config, prefix, ngrams=config.ngrams, output_mode="tf_idf")(text)
    x = TfidfNormalize(name=f"{prefix}_tfidf_norm")(x)
    x = layers.Dropout(config.dropout, seed=seed + 3, name=f"{prefix}_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{prefix}_embed")(x)


def _token_vectors(text, config: ModelConfig, texts: Sequence[str], prefix: str):
    """Token ids (first ``max_length``, padded with 0) to vectors. Padding is not masked: an
    empty text (a masked modality) would leave nothing to pool or attend to; padding gets a
    learned vector instead."""
    vectorize = _vectorizer(
        texts, config, prefix, output_mode="int", output_sequence_length=config.max_length
    )
    vocabulary = len(vectorize.get_vocabulary())
    return keras.layers.Embedding(
        vocabulary, config.embed_dim, name=f"{prefix}_embedding"
    )(vectorize(text))


def _mean_max(x, prefix: str):
    layers = keras.layers
    return layers.Concatenate(name=f"{prefix}_pool")([
        layers.GlobalAveragePooling1D(name=f"{prefix}_mean")(x),
        layers.GlobalMaxPooling1D(name=f"{prefix}_max")(x),
    ])


def embedding(
    text, config: ModelConfig, seed: int, texts: Sequence[str], prefix: str = "text"
):
    """Word embeddings (first ``max_length`` tokens), mean- and max-pooled
    (the max keeps one decisive word from being averaged away in a long text)."""
    layers = keras.layers
    x = _token_vectors(text, config, texts, prefix)
    x = _mean_max(x, prefix)
    x = layers.Dropout(config.dropout, seed=seed + 3, name=f"{prefix}_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{prefix}_embed")(x)


def cnn(
    text, config: ModelConfig, seed: int, texts: Sequence[str], prefix: str = "text"
):
    """Word embeddings, two parallel 1-D convolutions (widths 2 and 3), max-pooled."""
    layers = keras.layers
    x = _token_vectors(text, config, texts, prefix)
    pooled = [
        layers.GlobalMaxPooling1D(name=f"{prefix}_pool{width}")(
            layers.Conv1D(config.embed_dim, width, padding="same", activation="relu",
                          name=f"{prefix}_conv{width}")(x)
        )
        for width in (2, 3)
    ]
    x = layers.Concatenate(name=f"{prefix}_concat")(pooled)
    x = layers.Dropout(config.dropout, seed=seed + 3, name=f"{prefix}_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{prefix}_embed")(x)


def transformer(
    text, config: ModelConfig, seed: int, texts: Sequence[str], prefix: str = "text"
):
    """Word embeddings plus learned positions, one transformer block (2-head self-attention
    and a feed-forward layer, each with a residual and layer norm), mean- and max-pooled."""
    layers = keras.layers
    dim = config.embed_dim
    x = _token_vectors(text, config, texts, prefix)
    x = PositionEmbedding(config.max_length, name=f"{prefix}_positions")(x)
    attended = layers.MultiHeadAttention(2, max(1, dim // 2), dropout=config.dropout,
                                         seed=seed + 6, name=f"{prefix}_attention")(x, x)
    x = layers.Add(name=f"{prefix}_res1")([x, attended])
    x = layers.LayerNormalization(name=f"{prefix}_norm1")(x)
    hidden = layers.Dense(2 * dim, activation="relu", name=f"{prefix}_ffn1")(x)
    hidden = layers.Dense(dim, name=f"{prefix}_ffn2")(hidden)
    x = layers.Add(name=f"{prefix}_res2")([x, hidden])
    x = layers.LayerNormalization(name=f"{prefix}_norm2")(x)
    x = _mean_max(x, prefix)
    x = layers.Dropout(config.dropout, seed=seed + 3, name=f"{prefix}_dropout")(x)
    return layers.Dense(dim, activation="relu", name=f"{prefix}_embed")(x)


def encode(text, config: ModelConfig, seed: int, name: str, fit: Sequence[str]):
    """The text kind's encoder (``config.text_encoder``: :data:`mmcli.registry.TEXT_ENCODERS`)
    from a string input to an ``embed_dim`` vector; ``fit``: the training texts."""
    from mmcli.registry import TEXT_ENCODERS, load

    return load(TEXT_ENCODERS, config.text_encoder)(text, config, seed, fit, name)


HUB_BACKBONE_LAYER = "text_backbone"


def extractor(config: ModelConfig, text, count: int):
    """A KerasHub preset is one extractor shared by the text columns: its pooled output,
    frozen (computed once per run) unless ``config.freeze_text_backbone`` is false.
    Returns ``(features tensor, frozen)``, or None for the built-in encoders."""
    if hub_preset(config.text_encoder) is None:
        return None
    from mmcli.model.hub import load_parts

    preprocessor, backbone = load_parts(config.text_encoder)
    backbone.name = HUB_BACKBONE_LAYER
    backbone.trainable = not config.freeze_text_backbone
    tokens = HubText(preprocessor, name="text_tokens")(text)
    outputs = backbone(tokens)
    if not isinstance(outputs, dict) or "pooled_output" not in outputs:
        raise UsageError(f"--text-encoder {config.text_encoder}: {type(backbone).__name__} "
                         "has no pooled output; use a BERT-family preset "
                         "(BERT, ALBERT, ELECTRA, FNet)")
    pooled = outputs["pooled_output"]
    return keras.layers.Identity(name="text_features")(pooled), config.freeze_text_backbone


def encode_features(features, config: ModelConfig, seed: int, prefix: str = "text"):
    """Dropout and a dense projection of a preset's pooled output to ``embed_dim``."""
    layers = keras.layers
    x = layers.Dropout(config.dropout, seed=seed + 3, name=f"{prefix}_dropout")(features)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{prefix}_embed")(x)
