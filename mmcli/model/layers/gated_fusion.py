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

    With ``gate="softmax"`` (bundles before issue 16) the weights compete: on small tables
    the gate collapsed onto the modality that learned first (a product table: image 0.00;
    ``sample_data/four.csv``: text 0.00 while the label needs it), after which the starved
    modality's token got no gradient. ``gate="sigmoid"`` (what mmcli builds now) gives each
    modality its own gate in (0, 1) over layer-normalised tokens, in the manner of gated
    multimodal units: a modality is turned down only when it hurts, not because another is
    better, and with every token at the same scale its weight is its share of the fused
    vector, so the reported weights (the gates divided by their sum) say what is used.

    Args:
        temperature: divides the gate logits; higher gives softer weights.
        gate: ``softmax`` (competing weights) or ``sigmoid`` (a gate per modality over
            normalised tokens).

    Inputs:
        tokens ``(batch, modalities, dim)``.

    Returns:
        ``[fused, weights]``: fused ``(batch, dim)``, weights ``(batch, modalities)``
        summing to 1 per row.

    Example:
        >>> fused, weights = GatedFusion()(tokens)
    """

    def __init__(self, temperature: float = 1.0, gate: str = "softmax", **kwargs):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(
                f"Expected a positive number for `temperature`. Received: temperature={temperature}"
            )
        if gate not in ("softmax", "sigmoid"):
            raise ValueError(f"Expected `gate` softmax or sigmoid. Received: gate={gate!r}")
        self.temperature = temperature
        self.gate_kind = gate

    def build(self, input_shape):
        _, modalities, dim = input_shape
        self.gate = keras.layers.Dense(modalities, name="gate")
        self.gate.build((None, modalities * dim))
        if self.gate_kind == "sigmoid":
            self.norm = keras.layers.LayerNormalization(name="token_norm")
            self.norm.build(input_shape)

    def call(self, tokens):
        ops = keras.ops
        if self.gate_kind == "sigmoid":
            tokens = self.norm(tokens)
        flat = ops.reshape(tokens, (-1, ops.shape(tokens)[1] * ops.shape(tokens)[2]))
        logits = self.gate(flat) / self.temperature
        if self.gate_kind == "softmax":
            weights = ops.softmax(logits, axis=-1)
            return [ops.sum(tokens * ops.expand_dims(weights, -1), axis=1), weights]
        gates = ops.sigmoid(logits)
        fused = ops.sum(tokens * ops.expand_dims(gates, -1), axis=1)
        return [fused, gates / (ops.sum(gates, axis=-1, keepdims=True) + 1e-7)]

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], input_shape[2]), (input_shape[0], input_shape[1])]

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature,
                "gate": self.gate_kind}
