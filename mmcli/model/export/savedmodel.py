"""The raw-input SavedModel: ``serving_default`` takes what a caller has (encoded image bytes,
UTF-8 text, the audio waveform, tabular cells as strings), does mmcli's preparation in the
graph, runs the bundle's model and returns ``probabilities`` and ``label``.

Inputs, each with one batch dimension and named after the bundle's inputs:

- image (``image``, ``image_2`` ...): string ``[batch]``, the encoded file (JPEG, PNG, GIF,
  BMP); decoded to RGB (alpha dropped), resized bilinearly with antialiasing to the bundle's
  size. Empty bytes: absent.
- text: string ``[batch]``; tags and URLs removed, whitespace collapsed, lowercased when the
  bundle lowercases, cut to ``max_text_chars``. Empty after that: absent.
- audio: float32 ``[batch, round(audio_seconds x audio_rate)]``, the mono waveform at the
  bundle's rate in [-1, 1], cut or zero-padded; a clip whose peak is below -80 dBFS (all
  zeros) is absent, as in preparation.
- tabular: string ``[batch, columns]``, the cells in the bundle's column order (numeric
  columns first: ``contract`` / ``mmcli inspect``), numbers as text; a row whose cells are all
  empty is absent. The model's ``TabularCells`` imputes a numeric cell that is no plain
  decimal or is beyond float32 (``1e39``) as missing, as predict's row path does; the graph
  returns no reasons (predict reports them).

What is not done in the graph: HTML entities, Unicode NFKC normalization and control
characters (mmcli's text cleaning does them in Python), EXIF orientation, alpha compositing
over a background, and Pillow's ``reducing_gap`` pre-shrink of large non-JPEG images (a box
filter). A JPEG is decoded at Pillow's draft scale, so its pixels are Pillow's. The export's
check measures the effect on real rows.
"""

from __future__ import annotations

from mmcli import modalities
from mmcli.config import PrepConfig
from mmcli.model.backend import import_keras

import_keras()
import tensorflow as tf  # noqa: E402  (after import_keras set the environment)

SILENCE = 1e-4  # as mmcli.io.audio.SILENCE: a clip with a lower peak is silent (absent)


def raw_specs(names, prep: PrepConfig, widths: dict[str, int]) -> dict[str, tf.TensorSpec]:
    """The signature's inputs: see the module docstring. ``widths``: tabular column counts."""
    specs = {}
    for name in names:
        kind = modalities.kind_of(name)
        if kind == "audio":
            samples = round(prep.audio_seconds * prep.audio_rate)
            specs[name] = tf.TensorSpec((None, samples), tf.float32, name=name)
        elif kind == "tabular":
            specs[name] = tf.TensorSpec((None, widths[name]), tf.string, name=name)
        else:
            specs[name] = tf.TensorSpec((None,), tf.string, name=name)
    return specs


def _decode(data, size: int):
    """One encoded image to float RGB ``[h, w, 3]``. A JPEG is decoded at the reduced scale
    Pillow's ``draft`` picks (1/2, 1/4 or 1/8 while both sides stay at least ``size``) with
    the accurate integer DCT, as mmcli's Pillow path decodes it; other formats whole."""

    def jpeg():
        shape = tf.image.extract_jpeg_shape(data)
        scale = tf.minimum(shape[0] // size, shape[1] // size)
        index = tf.add_n([tf.cast(scale >= r, tf.int32) for r in (2, 4, 8)])
        branches = [
            (lambda r=r: tf.io.decode_jpeg(data, channels=3, ratio=r,
                                           dct_method="INTEGER_ACCURATE"))
            for r in (1, 2, 4, 8)
        ]
        return tf.switch_case(index, branches)

    def other():
        return tf.io.decode_image(data, channels=3, expand_animations=False)

    is_jpeg = tf.equal(tf.strings.substr(data, 0, 3), b"\xff\xd8\xff")
    return tf.cast(tf.cond(is_jpeg, jpeg, other), tf.float32)


def _image(encoded, size: int):
    def one(data):
        def decode():
            image = tf.image.resize(_decode(data, size), (size, size), method="bilinear",
                                    antialias=True)
            return tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8)

        return tf.cond(tf.strings.length(data) > 0, decode,
                       lambda: tf.zeros((size, size, 3), tf.uint8))

    images = tf.map_fn(one, encoded, fn_output_signature=tf.TensorSpec((size, size, 3),
                                                                        tf.uint8))
    return images, tf.strings.length(encoded) > 0


def _text(text, prep: PrepConfig):
    text = tf.strings.regex_replace(text, r"</?[A-Za-z][^<>]*>|<[!?][^<>]*>", " ")
    text = tf.strings.regex_replace(text, r"(?i)\b(?:https?://|www\.)\S+", " ")
    text = tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))
    if prep.lowercase:
        text = tf.strings.lower(text, encoding="utf-8")
    text = tf.strings.substr(text, 0, prep.max_text_chars, unit="UTF8_CHAR")
    return text, tf.strings.length(text) > 0


def _tabular(cells):
    cells = tf.strings.strip(cells)
    return cells, tf.reduce_any(tf.strings.length(cells) > 0, axis=1)


def _audio(wave):
    return wave, tf.reduce_max(tf.abs(wave), axis=1) >= SILENCE


def serve_fn(model, names, labels, prep: PrepConfig):
    """The raw ``serving_default`` body: preparation in the graph, the model, the labels."""
    names = tuple(names)
    vocabulary = tf.constant(list(labels))

    def serve(inputs):
        values, flags = {}, []
        for name in names:
            kind = modalities.kind_of(name)
            if kind == "image":
                values[name], flag = _image(inputs[name], prep.image_size)
            elif kind == "text":
                values[name], flag = _text(inputs[name], prep)
            elif kind == "tabular":
                values[name], flag = _tabular(inputs[name])
            else:
                values[name], flag = _audio(inputs[name])
            flags.append(tf.cast(flag, tf.float32))
        values["present"] = tf.stack(flags, axis=1)
        proba = model(values, training=False)
        return {"probabilities": proba, "label": tf.gather(vocabulary, tf.argmax(proba, axis=1))}

    return serve


def save(model, path: str, names, labels, prep: PrepConfig, widths: dict[str, int]) -> None:
    """Write the SavedModel folder at ``path`` through Keras' ``ExportArchive`` (which tracks
    every variable of the model, seed generators included)."""
    from mmcli.model.backend import import_keras

    keras = import_keras()
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve_fn(model, names, labels, prep),
                         input_signature=[raw_specs(names, prep, widths)])
    archive.write_out(path, verbose=False)
