"""Exporting a bundle's Keras model: the numeric model for LiteRT and ONNX (``numeric.py``),
the raw-input SavedModel (``savedmodel.py``), the converters (``convert.py``)."""
