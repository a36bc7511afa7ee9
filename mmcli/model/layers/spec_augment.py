"""SpecAugment: one random frequency band and one random time span masked, in training only."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class SpecAugment(keras.layers.Layer):
    """SpecAugment-style masking (Park et al., 2019) of a ``(batch, mels, frames, channels)``
    spectrogram: per example one band of up to ``freq_width`` mel bins and one span of up to
    ``time_fraction`` of the frames set to zero (the floor of :class:`LogMelScale`). At
    inference the input passes unchanged.

    Args:
        freq_width: widest frequency mask, in mel bins (0: none).
        time_fraction: widest time mask, as a share of the frames, in [0, 1).
        seed: seed of the masks' random generator.

    Returns:
        A tensor of the input's shape.

    Example:
        >>> SpecAugment(8, 0.1, seed=0)(x, training=True)  # x with two bands zeroed per row
    """

    def __init__(self, freq_width: int = 8, time_fraction: float = 0.1, seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(freq_width, bool) or not isinstance(freq_width, int) or freq_width < 0:
            raise ValueError("Expected a non-negative integer for `freq_width`. "
                             f"Received: freq_width={freq_width}")
        if not 0.0 <= time_fraction < 1.0:
            raise ValueError("Expected a number in [0, 1) for `time_fraction`. "
                             f"Received: time_fraction={time_fraction}")
        self.freq_width = freq_width
        self.time_fraction = time_fraction
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def _band(self, batch, length: int, widest: float):
        """A ``(batch, length)`` boolean mask: one random span of up to ``widest`` steps."""
        ops = keras.ops
        width = ops.floor(keras.random.uniform((batch, 1), seed=self.generator) * (widest + 1))
        start = ops.floor(keras.random.uniform((batch, 1), seed=self.generator)
                          * ops.maximum(length - width, 1.0))
        steps = ops.cast(ops.arange(length), "float32")[None, :]
        return ops.logical_and(steps >= start, steps < start + width)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        ops = keras.ops
        batch = ops.shape(inputs)[0]
        mels, frames = inputs.shape[1], inputs.shape[2]
        freq = self._band(batch, mels, float(min(self.freq_width, mels)))
        time = self._band(batch, frames, float(int(self.time_fraction * frames)))
        masked = ops.logical_or(freq[:, :, None, None], time[:, None, :, None])
        return ops.where(masked, ops.zeros_like(inputs), inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "freq_width": self.freq_width,
                "time_fraction": self.time_fraction, "seed": self.seed}
