"""The numeric model: the bundle's Keras model cut after the layers that take strings
(``TextVectorization``, :class:`~mmcli.model.layers.TabularCells` and its ``StringLookup``
layers), whose outputs become inputs, with those layers' state written down as a
:class:`~mmcli.engines.contract.Contract` so numpy can do their work
(:mod:`mmcli.engines.numeric`). Everything after them (image scaling, the audio spectrogram,
encoders, fusion, head) stays in the model; for ONNX the audio spectrogram is cut out too
(its settings and mel matrix in the contract, :mod:`mmcli.engines.audio`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from mmcli import modalities
from mmcli.engines.contract import AudioStep, Contract, InputSpec, TabularStep, TextStep
from mmcli.errors import BundleError
from mmcli.model.backend import import_keras
from mmcli.model.build import HEAD_MODEL, extractor_name
from mmcli.model.feed import PRESENT

keras = import_keras()


def _text_step(layer, name: str) -> tuple[TextStep, InputSpec]:
    config = layer.get_config()
    mode = config["output_mode"]
    if config.get("standardize") != "lower_and_strip_punctuation" or \
            config.get("split") != "whitespace" or mode not in ("tf_idf", "int"):
        raise BundleError(f"{layer.name}: a text vectorization this export cannot reproduce "
                          f"({config.get('standardize')}, {config.get('split')}, {mode})")
    vocabulary = tuple(layer.get_vocabulary())
    if mode == "tf_idf":
        idf = tuple(float(w) for w in np.asarray(layer._lookup_layer.idf_weights))
        step = TextStep(name, mode, vocabulary, idf, config.get("ngrams"))
        return step, InputSpec(f"{name}__vector", (len(vocabulary),), "float32")
    length = int(config["output_sequence_length"])
    step = TextStep(name, mode, vocabulary, None, config.get("ngrams"), length)
    return step, InputSpec(f"{name}__ids", (length,), "int64")


def _audio_step(graph, layer) -> AudioStep:
    """The spectrogram before ``layer`` (a ``LogMelScale`` named ``<m>_db`` after the
    ``MelSpectrogram`` ``<m>_mel``) as data, its mel matrix as the layer computes it.

    Raises:
        BundleError: a spectrogram this export cannot reproduce.
    """
    name = layer.name.removesuffix("_db")
    mel = graph.get_layer(f"{name}_mel")
    if mel.power_to_db or mel.mag_exp != 2.0 or mel.sequence_length != mel.fft_length or \
            mel.window not in ("hann", "hamming"):
        raise BundleError(f"{mel.name}: a spectrogram this export cannot reproduce")
    matrix = np.asarray(mel.linear_to_mel_weight_matrix(
        num_mel_bins=mel.num_mel_bins, num_spectrogram_bins=mel.fft_length // 2 + 1,
        sampling_rate=mel.sampling_rate, lower_edge_hertz=mel.min_freq,
        upper_edge_hertz=mel.max_freq), np.float32)
    rows = tuple(tuple(float(f"{v:.9g}") for v in row) for row in matrix)  # float32 exactly
    return AudioStep(name, int(mel.fft_length), int(mel.sequence_stride), mel.window, rows,
                     float(layer.top_db), float(layer.min_power))


def _cut(graph, audio: bool = False) -> tuple[dict[str, Any], list, list, list]:
    """The cut tensors of one flat functional model: (tensors by contract name, text steps,
    tabular steps, audio steps). ``audio``: cut after each spectrogram too (its waveform
    input is then no input of the numeric model)."""
    tensors: dict[str, Any] = {}
    text, tabular, spectrograms = [], [], []
    for tensor in graph.inputs:
        if tensor.dtype != "string":
            tensors[tensor.name] = tensor
    for layer in graph.layers:
        kind = type(layer).__name__
        if kind == "LogMelScale" and audio:
            step = _audio_step(graph, layer)
            spectrograms.append(step)
            tensors.pop(step.modality, None)
            tensors[f"{step.modality}__logmel"] = layer.output
        if kind == "TextVectorization":
            name = layer.name.removesuffix("_vectorize")
            step, spec = _text_step(layer, name)
            text.append(step)
            tensors[spec.name] = layer.output
        elif kind == "TabularCells":
            name = layer.name.removesuffix("_cells")
            outputs = layer.output
            lookups = []
            j = 0
            while f"{name}_lookup_{j}" in {x.name for x in graph.layers}:
                lookup = graph.get_layer(f"{name}_lookup_{j}")
                lookups.append(tuple(lookup.get_vocabulary()))
                tensors[f"{name}__category_{j}"] = lookup.output
                j += 1
            if layer.medians:
                tensors[f"{name}__numbers"], tensors[f"{name}__missing"] = outputs[0], outputs[1]
            tabular.append(TabularStep(name, tuple(layer.medians), tuple(lookups)))
    return tensors, text, tabular, spectrograms


def _holds_hub_text(model) -> bool:
    """Whether a KerasHub tokenizer (:class:`mmcli.model.layers.HubText`) is in the model."""
    from mmcli.model.layers import HubText

    return any(isinstance(layer, HubText) or (hasattr(layer, "layers") and
                                              _holds_hub_text(layer))
               for layer in model.layers)


def numeric_model(model, labels: tuple[str, ...], names: tuple[str, ...], *,
                  audio: bool = False):
    """The numeric twin of a bundle's model and its contract (``audio``: the spectrogram is
    cut out too, the twin takes ``<m>__logmel``; for ONNX, whose converter cannot hold it).

    Returns:
        ``(twin, contract)``: ``twin`` a ``keras.Model`` taking a dict keyed by the
        contract's input names and giving the probabilities ``(batch, labels)``.

    Raises:
        BundleError: a string layer this export does not know how to reproduce.
    """
    if _holds_hub_text(model):
        raise BundleError("a KerasHub text encoder (hub:...) has no numeric export: its "
                          "tokenizer runs in TensorFlow")
    layer_names = {layer.name for layer in model.layers}
    graph = model.get_layer(HEAD_MODEL) if HEAD_MODEL in layer_names else model
    tensors, text, tabular, spectrograms = _cut(graph, audio)
    cut_audio = {s.modality for s in spectrograms}
    order = list(tensors)
    inner = keras.Model([tensors[k] for k in order], graph.outputs)
    features = {modalities.features_key(m): m for m in names}
    specs = []
    for tensor in model.inputs:  # the raw numeric inputs (image, audio, present)
        if tensor.dtype != "string" and tensor.name not in cut_audio:
            specs.append(InputSpec(tensor.name, tuple(tensor.shape[1:]), str(tensor.dtype)))
    for key in order:
        if key in features or key == PRESENT or any(s.name == key for s in specs):
            continue
        shape = tuple(tensors[key].shape[1:])
        dtype = "int64" if "int" in str(tensors[key].dtype) else str(tensors[key].dtype)
        specs.append(InputSpec(key, shape, dtype))
    new = {s.name: keras.Input(s.shape, dtype=s.dtype, name=s.name) for s in specs}
    fed = []
    for key in order:
        if key in features:  # a frozen extractor's features, from the raw modality
            modality = features[key]
            extractor = model.get_layer(extractor_name(modalities.kind_of(modality)))
            fed.append(extractor(new[modality]))
        else:
            fed.append(new[key])
    twin = keras.Model(new, inner(fed), name="mmcli_numeric")
    contract = Contract(labels=labels, modalities=names, inputs=tuple(specs),
                        text=tuple(text), tabular=tuple(tabular), audio=tuple(spectrograms))
    return twin, contract
