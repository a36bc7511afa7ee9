"""Offline never hangs: ImageNet weights not in the Keras cache are downloaded with a short
timeout, and ``auto`` falls back to small_cnn at once with its note."""

from __future__ import annotations

import socket
import time

import pytest

from mmcli.config import ModelConfig
from mmcli.errors import WeightsUnavailableError

pytestmark = pytest.mark.tf


@pytest.fixture
def black_hole():
    """A port that accepts connections (the kernel's backlog) but never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    server.close()


def test_auto_weights_fall_back_within_seconds_when_the_download_cannot_finish(
        black_hole, tmp_path, monkeypatch):
    from keras.src.applications import mobilenet
    from keras.src.backend import config as keras_config

    from mmcli.model import image_encoders

    monkeypatch.setattr(keras_config, "_KERAS_DIR", str(tmp_path))  # an empty Keras cache
    monkeypatch.setattr(mobilenet, "BASE_WEIGHT_PATH", black_hole)
    monkeypatch.setattr(image_encoders, "DOWNLOAD_TIMEOUT", 1.0)
    config = ModelConfig(image_encoder="mobilenet", image_weights="auto", image_alpha=0.25)
    started = time.monotonic()
    with pytest.raises(WeightsUnavailableError) as raised:
        image_encoders.make_backbone("mobilenet", config, 128)
    assert time.monotonic() - started < 15
    assert raised.value.fallback == image_encoders.AUTO_FALLBACK
    assert "not in the Keras cache" in str(raised.value)
    assert socket.getdefaulttimeout() is None  # restored
