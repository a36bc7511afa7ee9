"""The ONNX engine's numpy log-mel (mmcli/engines/audio.py) against the Keras layers it stands
for (MelSpectrogram + LogMelScale), on a tone, noise and silence, at two rates."""

from __future__ import annotations

import numpy as np
import pytest

from mmcli.engines.audio import log_mel

pytestmark = pytest.mark.tf

FEATURE_TOLERANCE = 1e-4  # features in [0, 1]; float64 numpy against float32 TensorFlow


@pytest.mark.parametrize("rate", [16_000, 8_000])
def test_numpy_log_mel_equals_the_models_spectrogram(rate):
    from mmcli.model.audio_encoders import spectrogram
    from mmcli.model.backend import import_keras
    from mmcli.model.export.numeric import _audio_step

    keras = import_keras()
    samples = rate  # one second
    wave = keras.Input((samples,), name="audio")
    model = keras.Model(wave, spectrogram(wave, rate, "audio"))
    step = _audio_step(model, model.get_layer("audio_db"))
    t = np.arange(samples) / rate
    rng = np.random.default_rng(0)
    waves = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.1 * rng.standard_normal(samples),
                      np.zeros(samples)]).astype(np.float32)
    expected = np.asarray(model.predict_on_batch(waves))
    got = log_mel(waves, step)
    assert got.shape == expected.shape == (3, 64, 1 + samples // step.stride, 1)
    assert np.abs(got - expected).max() <= FEATURE_TOLERANCE
    assert got[2].min() == got[2].max() == 1.0  # silence: every bin at the (floored) peak
