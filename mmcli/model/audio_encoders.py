"""The audio kind's model side: the waveform's log-mel spectrogram, computed inside the model
(so a bundle takes raw audio), SpecAugment masking in training, and a compact CNN.

At ``rate`` Hz the spectrogram has 64 mel bins (20 Hz to rate/2) over frames of ~32 ms
(``fft_length`` the next power of two) every 10 ms: a 1 s clip at 16 kHz is 64 x 101.
"""

from __future__ import annotations

from typing import Any

from mmcli.config import ModelConfig
from mmcli.model.backend import import_keras
from mmcli.model.layers import LogMelScale, SpecAugment

keras = import_keras()

MEL_BINS = 64
FRAME_SECONDS = 0.032
HOP_SECONDS = 0.010


def spectrogram(wave, rate: int, prefix: str = "audio"):
    """A ``(batch, samples)`` float32 waveform to ``(batch, MEL_BINS, frames, 1)`` log-mel
    features in [0, 1], scaled per example (:class:`LogMelScale`)."""
    fft = 1 << max(6, round(FRAME_SECONDS * rate) - 1).bit_length()
    mel = keras.layers.MelSpectrogram(
        fft_length=fft, sequence_stride=max(1, round(HOP_SECONDS * rate)), sampling_rate=rate,
        num_mel_bins=MEL_BINS, min_freq=20.0, max_freq=rate / 2, power_to_db=False,
        name=f"{prefix}_mel",
    )(wave)
    return LogMelScale(name=f"{prefix}_db")(mel)


def encode(wave, config: ModelConfig, seed: int, name: str, fit: Any = None):
    """The audio encoder: spectrogram, SpecAugment (training only), the features centred
    ([0, 1] to [-2, 2]), three conv-LayerNorm-ReLU-maxpool blocks (16/32/64 filters; normalised
    over each example's whole feature map), a max over time (8 bands x 64
    channels), a linear projection to ``embed_dim`` (no activation, no dropout here). ``fit``
    is ``{"rate": Hz}`` (:meth:`AudioModality.encoder_settings`).

    Measured on avdigits (README "Audio columns"): the former average over time and
    8-group norm on uncentred features stayed near chance through the CLI, and so did a
    ReLU projection (``benchmarks/results/audio_avdigits.md``)."""
    layers = keras.layers
    rate = int((fit or {}).get("rate", 16_000))
    x = spectrogram(wave, rate, name)
    x = SpecAugment(freq_width=8, time_fraction=0.1, seed=seed, name=f"{name}_specaugment")(x)
    # Centred: LogMelScale's [0, 1] (0: the floor, where zero padding and masks sit) to
    # [-2, 2], so the first convolution does not start from a large common offset.
    x = layers.Rescaling(4.0, offset=-2.0, name=f"{name}_centre")(x)
    # Layer norm over each example's whole map (no state: batch independent), not
    # BatchNormalization: on small tables (a few steps per epoch) the batch-norm moving
    # statistics lagged the weights and validation fell to chance while training accuracy was
    # 1.0 (tests/cli/test_audio.py's tones). Not GroupNormalization: with 8 groups, or one, the
    # network did not learn spoken digits at the default learning rate (3e-3).
    for i, filters in enumerate((16, 32, 64)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{i}")(x)
        x = layers.LayerNormalization(axis=(1, 2, 3), name=f"{name}_norm{i}")(x)
        x = layers.ReLU(name=f"{name}_relu{i}")(x)
        x = layers.MaxPooling2D(name=f"{name}_pool{i}")(x)
    # Max over time only: where a pattern lies in frequency (pitch, formants) is kept, which
    # global pooling over both axes would lose (a tone at 300 Hz and at 2 kHz would look
    # alike); a max, not an average, because a short word fills half of a clip or less and
    # the zero padding and silence around it diluted an average.
    x = layers.MaxPooling2D((1, x.shape[2]), name=f"{name}_time_pool")(x)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    # Linear, not ReLU: at initialisation the pooled features of noisy speech barely differ
    # between examples (across-example std ~0.05 of the within-example std on avdigits), so
    # the first optimizer steps moved every ReLU unit's input below zero for every row; with
    # all 64 units dead no gradient reached the encoder and audio stayed at chance for the
    # whole run (avdigits beside small_cnn: own-head accuracy 0.10; audio alone with head
    # dropout 0.2: 0.10). A linear projection cannot die: the same runs learn (0.88-0.97).
    return layers.Dense(config.embed_dim, name=f"{name}_embed")(x)
