"""mmcli: train, evaluate and serve multimodal (image, text, audio, tabular) classifiers.

Importing this package is cheap: TensorFlow and pandas are imported only by
the functions that need them.
"""

__version__ = "0.1.0"
