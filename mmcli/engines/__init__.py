"""Predicting without TensorFlow: the numeric contract of an exported LiteRT or ONNX model
(``contract.py``), the steps those formats cannot hold done in numpy (``numeric.py``: text
vectorization from the saved vocabulary, tabular cells to numbers and category ids), and the
runtimes (``runtimes.py``). Nothing here imports TensorFlow or Keras."""
