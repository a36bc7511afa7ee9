"""Import Keras quietly: the one place that sets TensorFlow's environment first."""

from __future__ import annotations

import os
import sys
import tempfile


def import_keras():
    """Return the ``keras`` module, with TensorFlow's start-up chatter kept off the terminal.

    TensorFlow's C++ runtime logs (CUDA probing, oneDNN notices) are written to file
    descriptor 2 before its log level applies, so the import and device discovery run with
    fd 2 pointed at a temporary file, which is replayed only when the import fails.
    """
    if "keras" in sys.modules and "tensorflow" in sys.modules:
        import keras

        return keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_physical_devices()
            import keras
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    tf.get_logger().setLevel("ERROR")
    return keras
