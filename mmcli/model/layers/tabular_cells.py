"""TabularCells: raw tabular cells (strings) to imputed numbers, missing flags and categories."""

from mmcli.modalities.numbers import FLOAT32_MAX
from mmcli.model.backend import import_keras

keras = import_keras()

NUMBER_PATTERN = r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?\s*"
MISSING_TOKEN = "[missing]"  # a missing category's own token in the vocabulary


@keras.saving.register_keras_serializable(package="mmcli")
class TabularCells(keras.layers.Layer):
    """Parses a row of raw tabular cells, numeric columns first.

    A numeric cell that is empty, not a plain decimal number (``n/a``, ``unknown``, ``inf``,
    ``1,000``) or a number beyond float32 (``1e39``, ``-1e39``, ``1e400``: parsed in float64,
    then compared with :data:`FLOAT32_MAX`, as mmcli's row path reports ``out_of_range``) is
    replaced by its column's training median and flagged missing, so raw cells (the
    SavedModel export) give what mmcli's prepared cells give; a categorical cell is
    stripped, an empty one becomes :data:`MISSING_TOKEN`.

    Args:
        medians: one training median per numeric column (the first ``len(medians)`` cells).

    Inputs:
        strings ``(batch, columns)``.

    Returns:
        ``[numbers, missing, *categories]``: numbers and missing flags float32
        ``(batch, len(medians))``, then one string tensor ``(batch, 1)`` per categorical
        column.

    Example:
        >>> numbers, missing, colour = TabularCells([2.0])(np.array([["n/a", "red"]]))
        >>> # numbers [[2.0]], missing [[1.0]], colour [[b"red"]]
    """

    def __init__(self, medians=(), **kwargs):
        super().__init__(**kwargs)
        self.medians = [float(m) for m in medians]

    def call(self, inputs):
        import tensorflow as tf

        cells = tf.strings.strip(tf.convert_to_tensor(inputs, dtype=tf.string))
        count = len(self.medians)
        numeric = cells[:, :count]
        ok = tf.strings.regex_full_match(numeric, NUMBER_PATTERN)
        wide = tf.strings.to_number(tf.where(ok, numeric, "0"), out_type=tf.float64)
        ok = ok & (tf.abs(wide) <= FLOAT32_MAX)  # inf (1e400) fails too
        parsed = tf.cast(tf.where(ok, wide, 0.0), tf.float32)
        medians = tf.constant(self.medians, tf.float32, shape=(1, count))
        numbers = tf.where(ok, parsed, medians + tf.zeros_like(parsed))
        missing = 1.0 - tf.cast(ok, tf.float32)
        categories = cells[:, count:]
        categories = tf.where(categories == "", MISSING_TOKEN, categories)
        width = inputs.shape[-1] - count
        return [numbers, missing, *(categories[:, j:j + 1] for j in range(width))]

    def compute_output_spec(self, inputs):
        count, width = len(self.medians), inputs.shape[-1] - len(self.medians)
        batch = inputs.shape[0]
        numbers = keras.KerasTensor((batch, count), dtype="float32")
        return [numbers, keras.KerasTensor((batch, count), dtype="float32"),
                *(keras.KerasTensor((batch, 1), dtype="string") for _ in range(width))]

    def get_config(self):
        return {**super().get_config(), "medians": list(self.medians)}
