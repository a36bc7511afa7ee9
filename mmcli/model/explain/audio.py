"""Audio: a time-frequency saliency map, Integrated Gradients (Sundararajan et al., 2017) of
the target probability with respect to the model's own log-mel spectrogram.

The model takes the raw waveform and computes its spectrogram inside
(:func:`mmcli.model.audio_encoders.spectrogram`: ``<name>_mel`` then ``<name>_db``, a
``(mels, frames, 1)`` map in [0, 1], 0 being the clip's -80 dB floor). Attributions over
waveform samples would say *when* but not at which pitch, so the gradient is taken at the
spectrogram instead, through a *spectrogram twin*: the same layers (weights shared, built with
``keras.models.clone_model`` as the image explainer's float twin is), with the audio input
taking the log-mel map and the two spectrogram layers passed through; a nested head
(``mmcli_head``, when an image backbone is frozen) is twinned alike.

**Baseline**: the clip's mean level in every bin (a spectrogram with no time-frequency
structure, as the image explainer's mean colour), so a bin's attribution says how its level
above or below the clip's average moved the target probability. Not silence (all zeros): the
encoder's first convolution has no bias and is followed by group normalisation, so the model
is scale invariant, f(a x) = f(x) for all but the smallest a; from zeros the whole change
happens in the path's first steps' width and the Riemann sum misses it (measured on the
tone tests: attributions summing ~0.37 short of f(x) - f(0) with 16 steps). **Path**:
``steps`` midpoint Riemann steps; the gap to f(spectrogram) - f(baseline) is reported per
row as ``completeness_gap``.
"""

from __future__ import annotations

import numpy as np

from mmcli.model.backend import import_keras
from mmcli.model.explain.base import Context, Inside
from mmcli.model.explain.image import integrated_gradients, overlay, upscale

keras = import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)


def find_layer(model, layer_name: str):
    """The layer called ``layer_name`` in ``model`` or in a model nested in it, or None."""
    for layer in model.layers:
        if layer.name == layer_name:
            return layer
        if isinstance(layer, keras.Model):
            found = find_layer(layer, layer_name)
            if found is not None:
                return found
    return None


def log_mel(model, name: str, waves: np.ndarray) -> np.ndarray:
    """The model's own log-mel map of waveforms ``(n, samples)``: float32
    ``(n, mels, frames, 1)`` in [0, 1].

    Raises:
        ValueError: the model has no spectrogram layers for ``name``.
    """
    mel, db = find_layer(model, f"{name}_mel"), find_layer(model, f"{name}_db")
    if mel is None or db is None:
        raise ValueError(f"Expected spectrogram layers `{name}_mel` and `{name}_db` in the "
                         "model. Received: a model without them")
    return np.asarray(db(mel(tf.constant(np.asarray(waves, np.float32)))), np.float32)


def spectrogram_twin(model, name: str, shape: tuple):
    """``model`` with input ``name`` taking the log-mel map (``shape``: ``(None, mels,
    frames, 1)``) instead of the waveform: the same layer objects, so the same weights."""
    passed = {f"{name}_mel", f"{name}_db"}
    inputs = keras.tree.map_structure(
        lambda t: keras.Input(batch_shape=shape, dtype="float32", name=t.name) if t.name == name
        else keras.Input(batch_shape=t.shape, dtype=t.dtype, name=t.name), model.input)

    def call(layer, *args, **kwargs):
        if layer.name in passed:
            return args[0]
        if isinstance(layer, keras.Model) and any(t.name == name for t in layer.inputs):
            return spectrogram_twin(layer, name, shape)(*args, **kwargs)
        return layer(*args, **kwargs)

    return keras.models.clone_model(model, input_tensors=inputs, clone_function=lambda x: x,
                                    call_function=call)


def picture(spectrogram: np.ndarray) -> np.ndarray:
    """A ``(mels, frames)`` map in [0, 1] as a grey uint8 ``(mels, frames, 3)`` image, low
    frequencies at the bottom."""
    grey = np.clip(spectrogram[::-1] * 255, 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=-1)


class AudioExplainer:
    """The audio kind's explainer: Integrated Gradients over the log-mel spectrogram from the
    clip's mean level; a PNG of the spectrogram and one of the saliency over it."""

    method = "spectrogram_integrated_gradients"

    def __call__(self, context: Context, name: str, inputs: dict,
                 target: np.ndarray) -> list[Inside]:
        spectrograms = log_mel(context.model, name, inputs[name])
        key = f"spectrogram_twin:{name}"
        if key not in context.cache:
            shape = (None, *spectrograms.shape[1:])
            context.cache[key] = spectrogram_twin(context.model, name, shape)
        steps = context.settings.steps
        attributions, gaps = integrated_gradients(
            context.cache[key], {**inputs, name: spectrograms}, name, target, steps,
            context.cache)  # baseline: each clip's mean level
        maps = np.abs(attributions[..., 0])  # (n, mels, frames)
        notes = {"method": self.method, "baseline": "mean level of the clip",
                 "steps": steps, "axes": "mel bin (low to high) x frame (10 ms)"}
        out = []
        for r in range(len(maps)):
            shown = picture(spectrograms[r, ..., 0])
            out.append(Inside(
                pictures={"spectrogram": upscale(shown), "saliency": overlay(shown, maps[r][::-1])},
                notes={**notes, "completeness_gap": round(float(gaps[r]), 6)},
                saliency=maps[r]))
        return out

