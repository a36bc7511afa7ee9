"""The runtimes of numeric exports: LiteRT (``ai-edge-litert``) and ONNX Runtime. Each session
takes the numeric input dict (:func:`mmcli.engines.numeric.numeric_inputs`) and returns the
probabilities ``(batch, labels)`` as float64. Neither imports TensorFlow."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

from mmcli.errors import BundleError, UsageError

OUTPUT = "probabilities"


class LiteSession:
    """A ``.tflite`` model: inputs found by name, resized to each batch; its one output is
    the probabilities.

    Raises:
        UsageError: ``ai-edge-litert`` not installed.
        BundleError: the file cannot be loaded.
    """

    def __init__(self, path: Path):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:
            raise UsageError("the lite engine needs the ai-edge-litert package "
                             "(pip install ai-edge-litert)") from exc
        try:
            with _quiet_stderr():  # LiteRT's C++ "INFO: Created ... XNNPACK delegate"
                self._interpreter = Interpreter(model_path=str(path), num_threads=2)
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise BundleError(f"{path}: cannot load the LiteRT model: {exc}") from exc
        self._inputs = {_plain_name(d["name"]): d["index"]
                        for d in self._interpreter.get_input_details()}
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = -1

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        interpreter = self._interpreter
        batch = len(next(iter(inputs.values())))
        if batch != self._batch:
            for name, index in self._inputs.items():
                interpreter.resize_tensor_input(index, inputs[name].shape, strict=False)
            interpreter.allocate_tensors()
            self._batch = batch
        for name, index in self._inputs.items():
            interpreter.set_tensor(index, inputs[name])
        interpreter.invoke()
        return np.array(interpreter.get_tensor(self._output), np.float64)


@contextlib.contextmanager
def _quiet_stderr():
    """File descriptor 2 pointed at /dev/null (C++ logging bypasses Python's sys.stderr)."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _plain_name(name: str) -> str:
    """``serving_default_image:0`` -> ``image``."""
    return name.removeprefix("serving_default_").split(":")[0]


class OnnxSession:
    """An ``.onnx`` model under ONNX Runtime's CPU provider.

    Raises:
        UsageError: ``onnxruntime`` not installed.
        BundleError: the file cannot be loaded.
    """

    def __init__(self, path: Path):
        try:
            import onnxruntime
        except ImportError as exc:
            raise UsageError("the onnx engine needs the onnxruntime package "
                             "(pip install onnxruntime)") from exc
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BundleError(f"{path}: cannot load the ONNX model: {exc}") from exc
        self._names = {_plain_name(i.name): i.name for i in self._session.get_inputs()}
        self._output = next(o.name for o in self._session.get_outputs()
                            if o.name.split(":")[0] == OUTPUT)

    def __call__(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        feed = {self._names[k]: v for k, v in inputs.items() if k in self._names}
        return np.asarray(self._session.run([self._output], feed)[0], np.float64)


SESSIONS = {"lite": LiteSession, "onnx": OnnxSession}
