"""AttentionFusion: cross-modal attention over modality tokens, pooled by a learned query."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class AttentionFusion(keras.layers.Layer):
    """Lets modality tokens attend to each other, then pools them with a learned query.

    Each token gets a learned modality embedding (so the layer knows which
    token is which), one self-attention block mixes information across
    modalities (residual + layer norm), and a learned query attends over the
    result: its attention weights, averaged over heads, say how much each
    modality contributes to the row and are reported like the gate's.

    Args:
        num_heads: attention heads.
        dropout: attention dropout during training.

    Inputs:
        tokens ``(batch, modalities, dim)``.

    Returns:
        ``[fused, weights]``: fused ``(batch, dim)``, weights ``(batch, modalities)``
        summing to 1 per row.

    Example:
        >>> fused, weights = AttentionFusion(num_heads=2)(tokens)
    """

    def __init__(self, num_heads: int = 2, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError(
                f"Expected a positive integer for `num_heads`. Received: num_heads={num_heads}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"Expected `dropout` in [0, 1). Received: dropout={dropout}")
        self.num_heads = num_heads
        self.dropout = dropout

    def build(self, input_shape):
        _, modalities, dim = input_shape
        key_dim = max(1, dim // self.num_heads)
        self.modality_embedding = self.add_weight(
            name="modality_embedding", shape=(modalities, dim), initializer="zeros"
        )
        self.query = self.add_weight(name="query", shape=(1, 1, dim), initializer="zeros")
        self.mix = keras.layers.MultiHeadAttention(
            self.num_heads, key_dim, dropout=self.dropout, name="mix"
        )
        self.norm = keras.layers.LayerNormalization(name="norm")
        self.pool = keras.layers.MultiHeadAttention(self.num_heads, key_dim, name="pool")
        tokens = (None, modalities, dim)
        self.mix.build(tokens, tokens)
        self.norm.build(tokens)
        self.pool.build((None, 1, dim), tokens)

    def call(self, tokens, training=False):
        ops = keras.ops
        x = tokens + ops.expand_dims(self.modality_embedding, 0)
        x = self.norm(x + self.mix(x, x, training=training))
        query = ops.repeat(self.query, ops.shape(x)[0], axis=0)
        fused, scores = self.pool(query, x, return_attention_scores=True, training=training)
        weights = ops.mean(scores[:, :, 0, :], axis=1)
        return [ops.squeeze(fused, 1), weights]

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], input_shape[2]), (input_shape[0], input_shape[1])]

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "dropout": self.dropout}
