"""The audio spectrogram of an ONNX export, in numpy (tf2onnx cannot convert the FFT as Keras
builds it): Keras' ``MelSpectrogram(power_to_db=False)`` then mmcli's ``LogMelScale``, from
the step's settings and the mel matrix written at export (:class:`AudioStep`), so the numbers
are the model's own.

Keras' steps (``keras.src.backend.tensorflow.math.stft`` with ``center=True``): the waveform
reflect-padded by ``fft_length // 2`` on both sides, cut into frames of ``fft_length`` every
``stride`` samples (no end padding), each frame times a periodic Hann (or Hamming) window,
its real FFT's power (``|X|**2``), times the mel matrix; then decibels against the example's
own peak, floored at ``-top_db``, scaled to [0, 1]. Computed in float64 and returned as
float32 (TensorFlow computes in float32; the export check measures the difference).
"""

from __future__ import annotations

import numpy as np

from mmcli.engines.contract import AudioStep


def window(step: AudioStep) -> np.ndarray:
    """The periodic window of ``fft_length`` samples (``tf.signal.hann_window(periodic=True)``,
    or Hamming)."""
    n = np.arange(step.fft_length)
    a = 0.5 if step.window == "hann" else 0.54
    return a - (1.0 - a) * np.cos(2.0 * np.pi * n / step.fft_length)


def log_mel(waves: np.ndarray, step: AudioStep) -> np.ndarray:
    """``(batch, samples)`` float waveforms to the model's ``(batch, mels, frames, 1)`` float32
    log-mel features in [0, 1] (1: the example's loudest bin).

    Raises:
        ValueError: a waveform shorter than ``fft_length // 2 + 1`` samples (reflect padding
            needs more; a bundle's clips are seconds long).
    """
    waves = np.asarray(waves, np.float64)
    half = step.fft_length // 2
    padded = np.pad(waves, ((0, 0), (half, half)), mode="reflect")
    count = 1 + (padded.shape[1] - step.fft_length) // step.stride
    starts = np.arange(count)[:, None] * step.stride + np.arange(step.fft_length)[None, :]
    frames = padded[:, starts] * window(step)  # (batch, frames, fft_length)
    spectrum = np.fft.rfft(frames, n=step.fft_length, axis=-1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    mel = power @ np.asarray(step.mel_matrix, np.float64)  # (batch, frames, mels)
    mel = np.swapaxes(mel, 1, 2)
    db = 10.0 * np.log10(np.maximum(mel, step.min_power))
    db = np.maximum(db - db.max(axis=(1, 2), keepdims=True), -step.top_db)
    return (1.0 + db / step.top_db)[..., None].astype(np.float32)
