"""PositionEmbedding: adds a learned vector per sequence position."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding of each position to a sequence of token vectors.

    The token mask (from ``Embedding(mask_zero=True)``) passes through, so the
    attention that follows ignores padding.

    Args:
        sequence_length: the longest sequence the layer accepts.

    Inputs:
        ``(batch, length, dim)`` with ``length <= sequence_length``.

    Returns:
        The input plus the embeddings of positions ``0 .. length-1``.

    Example:
        >>> x = PositionEmbedding(sequence_length=48)(token_vectors)
    """

    def __init__(self, sequence_length: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(sequence_length, int) or sequence_length <= 0:
            raise ValueError(
                "Expected a positive integer for `sequence_length`. "
                f"Received: sequence_length={sequence_length}"
            )
        self.sequence_length = sequence_length
        self.supports_masking = True

    def build(self, input_shape):
        self.positions = self.add_weight(
            name="positions",
            shape=(self.sequence_length, input_shape[-1]),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
        )

    def call(self, inputs):
        length = keras.ops.shape(inputs)[1]
        return inputs + keras.ops.expand_dims(self.positions[:length], 0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length}
