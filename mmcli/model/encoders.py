"""One encoder per modality: each maps its input to a vector of ``embed_dim`` numbers."""

from __future__ import annotations

from collections.abc import Sequence

from mmcli.config import ModelConfig
from mmcli.errors import DataError
from mmcli.model.backend import import_keras
from mmcli.model.layers import TfidfNormalize

keras = import_keras()


def small_cnn(image, config: ModelConfig, seed: int):
    """A compact conv net trained from scratch: augmentation (training only), 3 conv blocks
    with batch norm, global average pooling, a dense projection."""
    layers = keras.layers
    x = layers.Rescaling(1.0 / 255, name="image_scale")(image)
    x = layers.RandomFlip("horizontal", seed=seed, name="image_flip")(x)
    x = layers.RandomTranslation(0.08, 0.08, seed=seed + 1, name="image_shift")(x)
    for i, filters in enumerate((16, 32, 64)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"image_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"image_bn{i}")(x)
        x = layers.ReLU(name=f"image_relu{i}")(x)
        x = layers.MaxPooling2D(name=f"image_pool{i}")(x)
    x = layers.GlobalAveragePooling2D(name="image_gap")(x)
    x = layers.Dropout(config.dropout, seed=seed + 2, name="image_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name="image_embed")(x)


def bow(text, config: ModelConfig, seed: int, texts: Sequence[str]):
    """TF-IDF over word n-grams (vocabulary learned from the training texts and saved in the
    model), log1p + L2 normalization, dropout, a dense projection."""
    layers = keras.layers
    vectorize = layers.TextVectorization(
        max_tokens=config.max_tokens,
        ngrams=config.ngrams,
        output_mode="tf_idf",
        name="text_vectorize",
    )
    if not any(t.strip() for t in texts):
        raise DataError("no training row has any text to learn a vocabulary from")
    vectorize.adapt(list(texts), batch_size=1024)
    x = vectorize(text)
    x = TfidfNormalize(name="text_tfidf_norm")(x)
    x = layers.Dropout(config.dropout, seed=seed + 3, name="text_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name="text_embed")(x)


IMAGE_ENCODERS = {"small_cnn": small_cnn}
TEXT_ENCODERS = {"bow": bow}
