"""Image saliency: Integrated Gradients (Sundararajan et al., 2017) of the target probability
with respect to the input pixels.

**Baseline**: a uniform image of the row's own mean colour. Attributions then say which
pixels differ from the image's average in a way the model uses (a black baseline would
credit every bright pixel for its brightness). **Path**: ``steps`` midpoint Riemann steps
from the baseline to the image, the row's other inputs fixed. Completeness (attributions sum
to f(image) - f(baseline)) holds up to the Riemann error, reported per row as
``completeness_gap``.

The model takes uint8 images, which carry no gradient, so the gradient is taken through a
*float twin*: the same layers (weights shared) re-called on a float32 image input, nested
models included (a frozen backbone's ``mmcli_features`` and the ``image_backbone`` inside
it), built with ``keras.models.clone_model``. This works alike for a flat model, a fine-tuned
backbone and a frozen one whose features were cached during training.
"""

from __future__ import annotations

import numpy as np

from mmcli.model.backend import import_keras
from mmcli.model.explain.base import Context, Inside

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

TWIN = "image_float_twin"
PATH_BATCH = 128  # interpolated images per forward-and-backward call


def float_twin(model):
    """``model`` with every uint8 input (its own and its nested models') taking float32: the
    same layer objects, so the same weights."""
    def dtype(t):
        return "float32" if t.dtype == "uint8" else t.dtype

    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=t.shape, dtype=dtype(t), name=t.name), model.input)

    def call(layer, *args, **kwargs):
        if isinstance(layer, keras.Model) and any(t.dtype == "uint8" for t in layer.inputs):
            return float_twin(layer)(*args, **kwargs)
        return layer(*args, **kwargs)

    return keras.models.clone_model(model, input_tensors=inputs, clone_function=lambda x: x,
                                    call_function=call)


def integrated_gradients(twin, inputs: dict, name: str, target: np.ndarray, steps: int,
                         cache: dict | None = None,
                         baseline: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integrated Gradients of each row's target probability over modality ``name``.

    Args:
        twin: the model's :func:`float_twin`.
        inputs: a raw input dict of ``n`` rows; ``inputs[name]`` uint8 ``(n, S, S, 3)``.
        target: ``(n,)`` the output index explained per row.
        cache: where the compiled gradient is kept between calls (one twin per cache).
        baseline: the path's start, shaped like ``inputs[name]`` (default: each image's mean
            colour); any float input of rank 4 works (the audio explainer's log-mel).

    Returns:
        ``(attributions (n, S, S, 3), completeness_gap (n,))``.
    """
    images = np.asarray(inputs[name], np.float32)
    if baseline is None:
        baseline = images.mean(axis=(1, 2), keepdims=True)
    baseline = np.broadcast_to(np.asarray(baseline, np.float32), images.shape)
    alphas = (np.arange(steps, dtype=np.float32) + 0.5) / steps
    per_call = max(1, PATH_BATCH // steps)  # rows whose paths go through one call
    cache = {} if cache is None else cache
    out, gaps = [], []
    for first in range(0, len(images), per_call):
        rows = np.arange(first, min(first + per_call, len(images)))
        x0, x1 = baseline[rows], images[rows]
        path = (x0[:, None] + alphas[None, :, None, None, None] * (x1 - x0)[:, None])
        path = path.reshape(-1, *images.shape[1:])
        others = {k: tf.convert_to_tensor(np.repeat(np.asarray(v)[rows], steps, axis=0))
                  for k, v in inputs.items() if k != name}
        picked = tf.constant(np.repeat(target[rows], steps)[:, None], tf.int32)
        grads = _gradient(twin, name, cache)(others, tf.convert_to_tensor(path), picked)
        grads = grads.numpy().reshape(len(rows), steps, *images.shape[1:])
        attribution = (x1 - x0) * grads.mean(axis=1)
        ends = {k: tf.convert_to_tensor(np.concatenate([np.asarray(v)[rows]] * 2))
                for k, v in inputs.items() if k != name}
        ends[name] = tf.constant(np.concatenate([x0, x1]))
        end = np.asarray(twin(ends, training=False), np.float64)
        t = target[rows]
        change = end[len(rows) + np.arange(len(rows)), t] - end[np.arange(len(rows)), t]
        gaps += list(attribution.reshape(len(rows), -1).sum(axis=1) - change)
        out.append(attribution)
    return np.concatenate(out), np.array(gaps)


def _gradient(twin, name: str, cache: dict):
    """A compiled function ``(other inputs, images, target indices) -> d p_target / d image``
    (kept in ``cache`` per modality; graph mode is about twice as fast as eager here)."""
    key = f"gradient:{name}"
    if key not in cache:
        @tf.function(reduce_retracing=True)
        def gradient(others, x, picked):
            with tf.GradientTape() as tape:
                tape.watch(x)
                prob = tf.gather(twin({**others, name: x}, training=False), picked,
                                 batch_dims=1)
            return tape.gradient(prob, x)

        cache[key] = gradient
    return cache[key]


def saliency_map(attributions: np.ndarray) -> np.ndarray:
    """Per-pixel saliency ``(n, S, S)``: absolute attributions summed over channels."""
    return np.abs(attributions).sum(axis=-1)


def overlay(image: np.ndarray, saliency: np.ndarray, min_side: int = 192) -> np.ndarray:
    """The image (uint8 ``(S, S, 3)``) with its saliency as a heat map over a darkened copy,
    scaled up (nearest neighbour) to at least ``min_side`` pixels: uint8 ``(H, W, 3)``."""
    top = saliency.max()
    heat = saliency / top if top > 0 else np.zeros_like(saliency)
    colour = np.stack([np.clip(3 * heat, 0, 1), np.clip(3 * heat - 1, 0, 1),
                       np.clip(3 * heat - 2, 0, 1)], axis=-1) * 255  # black-red-yellow-white
    alpha = (0.35 + 0.65 * heat)[..., None]
    mixed = (1 - alpha) * 0.5 * image.astype(np.float32) + alpha * colour
    return upscale(np.clip(mixed, 0, 255).astype(np.uint8), min_side)


def upscale(image: np.ndarray, min_side: int = 192) -> np.ndarray:
    factor = max(1, -(-min_side // max(image.shape[:2])))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


class ImageExplainer:
    """The image kind's explainer: Integrated Gradients, a PNG of the input and an overlay."""

    method = "integrated_gradients"

    def __call__(self, context: Context, name: str, inputs: dict,
                 target: np.ndarray) -> list[Inside]:
        if TWIN not in context.cache:
            context.cache[TWIN] = float_twin(context.model)
        attributions, gaps = integrated_gradients(context.cache[TWIN], inputs, name, target,
                                                  context.settings.steps, context.cache)
        maps = saliency_map(attributions)
        notes_base = {"method": self.method, "baseline": "mean colour of the image",
                      "steps": context.settings.steps}
        return [
            Inside(pictures={"image": upscale(np.asarray(inputs[name][r])),
                             "saliency": overlay(np.asarray(inputs[name][r]), maps[r])},
                   notes={**notes_base, "completeness_gap": round(float(gaps[r]), 6)},
                   saliency=maps[r])
            for r in range(len(maps))
        ]
