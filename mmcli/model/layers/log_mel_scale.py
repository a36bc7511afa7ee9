"""LogMelScale: a mel power spectrogram to decibels relative to each example's own peak."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class LogMelScale(keras.layers.Layer):
    """Decibels relative to the example's loudest bin, floored at ``-top_db``, scaled to [0, 1],
    with a channel axis added for convolutions.

    Keras' ``MelSpectrogram(power_to_db=True)`` clips against the loudest example of the
    *batch* (FINDINGS.md), so an example's features would change with its neighbours; this
    layer scales every example on its own, so a row gives the same features in any batch.

    Args:
        top_db: dynamic range kept, in dB (quieter bins are floored).
        min_power: power floor before the logarithm (avoids log(0) on digital silence).

    Returns:
        ``(batch, mels, frames, 1)`` floats in [0, 1] (1: the example's peak) from a
        ``(batch, mels, frames)`` power spectrogram.

    Example:
        >>> LogMelScale(top_db=80.0)(np.ones((2, 64, 100)))  # all ones: shape (2, 64, 100, 1)
    """

    def __init__(self, top_db: float = 80.0, min_power: float = 1e-10, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("top_db", top_db), ("min_power", min_power)):
            if not value > 0:
                raise ValueError(
                    f"Expected a positive number for `{name}`. Received: {name}={value}"
                )
        self.top_db = top_db
        self.min_power = min_power

    def call(self, inputs):
        ops = keras.ops
        db = 10.0 * ops.log(ops.maximum(inputs, self.min_power)) / ops.log(10.0)
        peak = ops.max(db, axis=(1, 2), keepdims=True)
        db = ops.maximum(db - peak, -self.top_db)
        return ops.expand_dims(1.0 + db / self.top_db, -1)

    def compute_output_shape(self, input_shape):
        return (*input_shape, 1)

    def get_config(self):
        return {**super().get_config(), "top_db": self.top_db, "min_power": self.min_power}
