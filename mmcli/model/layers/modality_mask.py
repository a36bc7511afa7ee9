"""ModalityMask: stack modality embeddings, fill missing ones, drop some while training."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class ModalityMask(keras.layers.Layer):
    """Turns per-modality embeddings and a presence mask into modality tokens.

    A modality that is absent for a row (masked by preprocessing, or dropped by
    modality dropout during training) is replaced by a learned "missing"
    embedding, so the fusion layer sees a well-defined token either way.
    During training each present modality is dropped with probability
    ``rate``, never all of a row's modalities at once: the model learns to
    predict from any single modality, which is what it meets when a row's image
    or text is missing at prediction time.

    Args:
        rate: modality dropout probability during training, in [0, 0.5).
        seed: seed of the dropout draws.

    Inputs:
        ``[embeddings, present]``: embeddings ``(batch, modalities, dim)``,
        present ``(batch, modalities)`` with 1.0 where the modality is present.

    Returns:
        ``[tokens, present]``: tokens ``(batch, modalities, dim)`` and the
        presence mask after dropout.

    Example:
        >>> tokens, present = ModalityMask(rate=0.2)([embeddings, present])
    """

    def __init__(self, rate: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 0.5:
            raise ValueError(f"Expected `rate` in [0, 0.5). Received: rate={rate}")
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        _, modalities, dim = input_shape[0]
        self.missing = self.add_weight(
            name="missing", shape=(modalities, dim), initializer="zeros", trainable=True
        )

    def call(self, inputs, training=False):
        ops = keras.ops
        embeddings, present = inputs
        present = ops.cast(present, embeddings.dtype)
        if training and self.rate > 0:
            draw = keras.random.uniform(ops.shape(present), seed=self.seed_generator)
            kept = present * ops.cast(draw >= self.rate, present.dtype)
            none_left = ops.sum(kept, axis=-1, keepdims=True) <= 0
            present = ops.where(none_left, present, kept)
        weight = ops.expand_dims(present, -1)
        tokens = embeddings * weight + ops.expand_dims(self.missing, 0) * (1.0 - weight)
        return [tokens, present]

    def compute_output_shape(self, input_shape):
        return [input_shape[0], input_shape[1]]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
