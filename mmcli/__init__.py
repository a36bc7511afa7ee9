"""mmcli: train, evaluate and serve multimodal (image, text, audio, tabular) classifiers.

Importing this package is cheap: TensorFlow and pandas are imported only by
the functions that need them.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``mmcli.load`` (:func:`mmcli.api.load.load`), imported on first use."""
    if name == "load":
        from mmcli.api.load import load

        return load
    raise AttributeError(f"module 'mmcli' has no attribute {name!r}")
