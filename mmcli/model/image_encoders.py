"""Image encoders: a compact CNN from scratch, or a Keras applications backbone.

Each takes the raw uint8 image input and returns an ``embed_dim`` vector; the scaling each
network expects is inside the model, so a bundle takes the images exactly as decoded.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import warnings
from dataclasses import dataclass

from mmcli.config import ModelConfig
from mmcli.errors import UsageError, WeightsUnavailableError
from mmcli.model.backend import import_keras

keras = import_keras()

BACKBONE_LAYER = "image_backbone"
FEATURES_LAYER = "image_features"  # the pooled backbone output, cached for a frozen backbone
MIN_BACKBONE_SIDE = 32  # the applications refuse smaller inputs; smaller images are upscaled
# `auto` uses ImageNet features from this side on: below it the pooled map is 1x1 and the
# features no longer help (sample_data at 32 px: image alone at chance; at 64 px: 0.59)
AUTO_MIN_SIDE = 64
# Seconds a weights download may wait to connect or for its next bytes: Keras looks in its
# cache ($KERAS_HOME/models) first and downloads only a file not there, with no timeout of its
# own, so with no network (or a black-holed one) a run would wait for ever.
DOWNLOAD_TIMEOUT = 10.0


# With ``auto`` weights, a backbone whose ImageNet weights cannot be had is replaced by this.
AUTO_FALLBACK = {"image_encoder": "small_cnn", "image_weights": "none"}
AUTO_FALLBACK_NOTE = "image encoder small_cnn (trained from scratch)"


def _unavailable(message: str, config: ModelConfig) -> WeightsUnavailableError:
    fallback = AUTO_FALLBACK if config.image_weights == "auto" else None
    return WeightsUnavailableError(message, fallback, AUTO_FALLBACK_NOTE)


@dataclass(frozen=True)
class Backbone:
    """How to build one Keras applications network and feed it."""

    application: str  # the constructor's name in keras.applications
    rescale: bool  # True: scale to [-1, 1] here; False: the network scales 0-255 itself
    alpha: bool  # whether the constructor takes `alpha`
    extra: tuple = ()  # further constructor keyword arguments, as (name, value) pairs


BACKBONES = {
    "mobilenet": Backbone("MobileNet", rescale=True, alpha=True),
    "mobilenet_v3_small": Backbone(
        "MobileNetV3Small", rescale=False, alpha=True, extra=(("include_preprocessing", True),)
    ),
    "efficientnet_b0": Backbone("EfficientNetB0", rescale=False, alpha=False),
}


def small_cnn(image, config: ModelConfig, seed: int, prefix: str = "image"):
    """A compact conv net trained from scratch: augmentation (training only: shifts, no
    mirroring), 3 conv blocks with batch norm, global average pooling, layer norm, a dense
    projection.

    Measured on avdigits (32 px handwritten digits beside speech, 20 epochs, validation
    rows; ``benchmarks/results/defaults.md``): the image's own head reached 0.71 with the
    former horizontal flip and 0.835 without it (a mirrored digit, letter or print is not the
    same picture); the layer norm over the pooled features took it from 0.655 to 0.835."""
    layers = keras.layers
    x = layers.Rescaling(1.0 / 255, name=f"{prefix}_scale")(image)
    x = layers.RandomTranslation(0.08, 0.08, seed=seed + 1, name=f"{prefix}_shift")(x)
    for i, filters in enumerate((16, 32, 64)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{prefix}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{prefix}_bn{i}")(x)
        x = layers.ReLU(name=f"{prefix}_relu{i}")(x)
        x = layers.MaxPooling2D(name=f"{prefix}_pool{i}")(x)
    x = layers.GlobalAveragePooling2D(name=f"{prefix}_gap")(x)
    # the pooled ReLU features are all positive with a large common part; centred and scaled
    # per example, the projection learns from what differs between images
    x = layers.LayerNormalization(name=f"{prefix}_pooled_norm")(x)
    x = layers.Dropout(config.dropout, seed=seed + 2, name=f"{prefix}_dropout")(x)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{prefix}_embed")(x)


def backbone_encoder(name: str):
    """An image encoder over the named Keras applications backbone: :func:`backbone_features`
    then :func:`project_features`. With a frozen backbone, training does not augment (its
    features are computed once, see ``mmcli.model.cached``)."""

    def encode(image, config: ModelConfig, seed: int, prefix: str = "image"):
        return project_features(backbone_features(name, image, config), config, seed, prefix)

    encode.__name__ = name
    return encode


def backbone_features(name: str, image, config: ModelConfig):
    """The backbone's pooled features of a uint8 image tensor: the network's own scaling,
    an upscale to 32 px when smaller, then the network as one nested layer,
    ``image_backbone``, frozen when ``config.freeze_backbone``."""
    layers = keras.layers
    if config.image_weights == "auto" and image.shape[1] < AUTO_MIN_SIDE:
        raise _unavailable(
            f"images of {image.shape[1]} px are too small for pretrained {name} features "
            f"(auto uses them from {AUTO_MIN_SIDE} px; choose --image-weights to override)",
            config,
        )
    side = max(int(image.shape[1]), MIN_BACKBONE_SIDE)
    x = layers.Rescaling(1.0, name="image_float")(image)
    if image.shape[1] < MIN_BACKBONE_SIDE:
        x = layers.Resizing(side, side, name="image_upscale")(x)
    if BACKBONES[name].rescale:
        x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="image_scale")(x)
    network = make_backbone(name, config, side)
    network.trainable = not config.freeze_backbone
    return layers.Identity(name=FEATURES_LAYER)(network(x))


def project_features(features, config: ModelConfig, seed: int, prefix: str = "image"):
    """Dropout and a dense projection of backbone features to ``embed_dim``; ``prefix`` (the
    modality's name) starts the layer names."""
    layers = keras.layers
    x = layers.Dropout(config.dropout, seed=seed + 2, name=f"{prefix}_dropout")(features)
    return layers.Dense(config.embed_dim, activation="relu", name=f"{prefix}_embed")(x)


def make_backbone(name: str, config: ModelConfig, side: int):
    """The applications network without its top, average-pooled, weights as configured.

    Raises:
        WeightsUnavailableError: ``imagenet``/``auto`` weights not cached and not downloadable.
        UsageError: a weights path that does not exist or does not fit the network.
    """
    spec = BACKBONES[name]
    kwargs = {"input_shape": (side, side, 3), "include_top": False, "pooling": "avg"}
    kwargs.update(spec.extra)
    if spec.alpha:
        kwargs["alpha"] = config.image_alpha
    choice = config.image_weights
    weights = None if choice == "none" else "imagenet" if choice in ("imagenet", "auto") else choice
    if weights not in (None, "imagenet") and not os.path.isfile(weights):
        raise UsageError(f"--image-weights {weights}: no such file")
    build = getattr(keras.applications, spec.application)
    try:  # Keras prints download progress on stdout and warns about non-standard sizes
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings(), \
                _socket_timeout(DOWNLOAD_TIMEOUT):
            warnings.simplefilter("ignore", UserWarning)
            network = build(weights=weights, **kwargs)
    except Exception as exc:  # Keras raises ValueError/Exception/OSError for these cases
        raise _weights_error(name, config, weights, exc) from exc
    network.name = BACKBONE_LAYER
    return network


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    """Sockets opened inside (urllib's, used by Keras' ``get_file``) give up after ``seconds``
    without a connection or data."""
    import socket

    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(before)


def _weights_error(name: str, config: ModelConfig, weights: str | None, exc: Exception):
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    import urllib.error

    offline = (TimeoutError, ConnectionError, urllib.error.URLError)  # raised by the download
    fetching = "fetch" in text.lower() or isinstance(exc, offline)
    if weights == "imagenet" and fetching:
        found = re.search(r"https?://\S+/([^/\s:]+\.h5)", text)
        file = found.group(1) if found else "the weights file"
        reason = text.split(" -- ")[-1].strip()[:120]
        cache = os.path.join(os.environ.get("KERAS_HOME", "~/.keras"), "models")
        return _unavailable(
            f"ImageNet weights for {name} (alpha {config.image_alpha}) are not in the Keras "
            f"cache and cannot be downloaded ({reason}). Fix: put {file} in {cache}/, "
            "or pass --image-weights PATH (a Keras weights file), or --image-weights none",
            config,
        )
    return UsageError(f"cannot build {name} with weights {weights or 'none'}: {text[:300]}")


# The backbone encoders by name (see mmcli.registry.IMAGE_ENCODERS).
mobilenet = backbone_encoder("mobilenet")
mobilenet_v3_small = backbone_encoder("mobilenet_v3_small")
efficientnet_b0 = backbone_encoder("efficientnet_b0")


def encode(image, config: ModelConfig, seed: int, name: str, fit=None):
    """The image kind's encoder (``config.image_encoder``: :data:`mmcli.registry.IMAGE_ENCODERS`)
    from a uint8 ``(S, S, 3)`` input to an ``embed_dim`` vector."""
    from mmcli.registry import IMAGE_ENCODERS, load

    return load(IMAGE_ENCODERS, config.image_encoder)(image, config, seed, name)


def extractor(config: ModelConfig, image, count: int):
    """A Keras applications backbone is one shared extractor: frozen (features computed once
    per run) with ``freeze_backbone``, else fine-tuned and shared by the image columns.
    Returns ``(features tensor, frozen)``, or None (``small_cnn``, one column fine-tuned)."""
    if config.image_encoder not in BACKBONES or not (config.freeze_backbone or count > 1):
        return None
    return backbone_features(config.image_encoder, image, config), config.freeze_backbone


encode_features = project_features
