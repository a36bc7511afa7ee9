"""The numeric model (:func:`~mmcli.model.export.numeric.numeric_model`) converted to LiteRT
(TensorFlow's own converter, builtin ops only) or ONNX (tf2onnx from a ``tf.function``: its
``from_keras`` is broken on Keras 3, tensorflow-onnx #2329)."""

from __future__ import annotations

from mmcli.engines.contract import Contract
from mmcli.errors import UsageError
from mmcli.model.backend import import_keras

import_keras()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

ONNX_OPSET = 17


def serving_function(twin, contract: Contract):
    """A ``tf.function`` over named inputs (one batch dimension) -> ``{"probabilities"}``."""
    specs = {s.name: tf.TensorSpec((None, *s.shape), s.dtype, name=s.name)
             for s in contract.inputs}

    @tf.function(input_signature=[specs])
    def serve(inputs):
        return {contract.output: twin(inputs, training=False)}

    return serve, specs


def to_lite(twin, contract: Contract) -> bytes:
    """The ``.tflite`` flatbuffer (signature ``serving_default``).

    Raises:
        UsageError: the converter failed (its message).
    """
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    serve, _ = serving_function(twin, contract)
    # Frozen first: else an Embedding's table (a categorical column's) stays a resource
    # variable that LiteRT never initializes, and every probability comes out NaN.
    frozen = convert_variables_to_constants_v2(serve.get_concrete_function())
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], twin)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        return converter.convert()
    except Exception as exc:  # the converter raises ConverterError and friends
        raise UsageError(f"LiteRT conversion failed: {str(exc).splitlines()[0]}") from exc


def _register_onnx_ops() -> None:
    """ONNX handlers tf2onnx 1.17 lacks for ops mmcli's models use: ``Log1p`` (TF-IDF
    normalization) as ``Log(1 + x)``."""
    from tf2onnx.handler import tf_op

    @tf_op("Log1p")
    class Log1p:  # noqa: F841  (registered by the decorator)
        @classmethod
        def version_1(cls, ctx, node, **kwargs):
            one = ctx.make_const(node.name + "_one", np.array(1, np.float32)).output[0]
            added = ctx.make_node("Add", [node.input[0], one]).output[0]
            ctx.replace_inputs(node, [added])
            node.type = "Log"


def _captures_as_constants(proto, concrete) -> None:
    """Tensors the function captured by value (a ``Normalization`` layer's mean and variance)
    as initializers of ``proto``'s graph: tf2onnx 1.17's ``from_function`` lists every
    non-resource input of the concrete function, captures included, as a graph input."""
    from onnx import numpy_helper

    values = {inner.name: outer for outer, inner in concrete.graph.captures
              if inner.dtype != tf.resource}
    graph = proto.graph
    for spec in [i for i in graph.input if i.name in values]:
        graph.initializer.append(numpy_helper.from_array(
            np.asarray(values[spec.name].numpy()), name=spec.name))
        graph.input.remove(spec)


def to_onnx(twin, contract: Contract) -> bytes:
    """The ONNX model (opset :data:`ONNX_OPSET`, inputs named as in the contract).

    Raises:
        UsageError: tf2onnx not installed, or an op it cannot convert (named).
    """
    try:
        import tf2onnx
    except ImportError as exc:
        raise UsageError("ONNX export needs tf2onnx (pip install tf2onnx onnx)") from exc
    _register_onnx_ops()
    serve, specs = serving_function(twin, contract)
    import logging

    logging.getLogger("tf2onnx").setLevel(logging.CRITICAL)
    try:
        proto, _ = tf2onnx.convert.from_function(serve, input_signature=[specs],
                                                 opset=ONNX_OPSET)
    except Exception as exc:  # tf2onnx raises ValueError, RuntimeError ...
        raise UsageError(f"ONNX conversion failed: {str(exc).splitlines()[0]}") from exc
    _captures_as_constants(proto, serve.get_concrete_function())
    import onnx.defs

    unsupported = [n.op_type for n in proto.graph.node
                   if n.domain not in ("", "ai.onnx") or not onnx.defs.has(n.op_type)]
    if "RFFT" in unsupported:
        raise UsageError("ONNX export cannot hold the audio spectrogram: tf2onnx 1.17 converts "
                         "RFFT only when its consumer is ComplexAbs, and Keras' MelSpectrogram "
                         "takes Real and Imag; export this bundle as tflite instead")
    if unsupported:
        raise UsageError("ONNX conversion left TensorFlow ops ONNX Runtime cannot run: "
                         + ", ".join(sorted(set(unsupported))))
    return proto.SerializeToString()
