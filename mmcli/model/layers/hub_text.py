"""HubText: a KerasHub text preprocessor (tokenizer + packer) whose vocabulary is saved in
the layer's config, so a model holding it reloads without the preset folder."""

from mmcli.model.backend import import_keras

keras = import_keras()


@keras.saving.register_keras_serializable(package="mmcli")
class HubText(keras.layers.Layer):
    """Strings to a KerasHub backbone's inputs (``token_ids``, ``padding_mask``, ...).

    KerasHub tokenizers keep their vocabulary in an asset file, which Keras loads only after
    the functional model is rebuilt; the rebuild already calls the tokenizer and fails. This
    layer keeps the vocabulary in its own config and sets it before the first call.

    Args:
        preprocessor: a KerasHub preprocessor, or its serialized config.
        vocabulary: its tokenizer's vocabulary (list of tokens); None takes the tokenizer's.

    Returns:
        A dict of int/bool tensors ``(batch, sequence_length)`` as the preprocessor gives.

    Example:
        >>> HubText(TextClassifierPreprocessor.from_preset(folder))(strings)
    """

    def __init__(self, preprocessor, vocabulary=None, **kwargs):
        super().__init__(**kwargs)
        import keras_hub  # noqa: F401  (registers the KerasHub classes)

        if isinstance(preprocessor, dict):
            preprocessor = keras.saving.deserialize_keras_object(preprocessor)
        tokenizer = preprocessor.tokenizer
        if vocabulary is None:
            vocabulary = list(tokenizer.get_vocabulary())
        if not vocabulary:
            raise ValueError(
                f"Expected a non-empty `vocabulary`. Received: vocabulary={vocabulary!r}"
            )
        if getattr(tokenizer, "vocabulary", None) is None:  # rebuilt from a config
            tokenizer.set_vocabulary(list(vocabulary))
        self.preprocessor = preprocessor
        self.vocabulary = list(vocabulary)

    def build(self, input_shape):  # the preprocessor holds no weights
        self.built = True

    def call(self, inputs):
        return self.preprocessor(inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
            "vocabulary": self.vocabulary,
        }
