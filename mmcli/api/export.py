"""``mmcli export`` as a library call: a bundle to a SavedModel (raw inputs), a LiteRT or an
ONNX model (numeric inputs, with the contract and a README beside it), checked against the
bundle before anything is written (:mod:`mmcli.model.export.check`)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from mmcli import layout
from mmcli.api.export_rows import raw_inputs, sample_rows
from mmcli.bundle import Bundle, load_model, write_meta
from mmcli.engines.contract import Contract, write_contract
from mmcli.errors import UsageError
from mmcli.io.atomic import atomic_dir, check_writable
from mmcli.io.lock import output_lock
from mmcli.io.signature import signing_key

FORMATS = ("savedmodel", "tflite", "onnx")
ENGINE_OF = {"tflite": "lite", "onnx": "onnx"}
FILE_OF = {"tflite": "model.tflite", "onnx": "model.onnx"}
CHECK_BATCH = 64


def numeric_export(model, labels, names, fmt: str, batches: Iterable[dict]):
    """Convert the bundle's model to ``fmt`` (tflite, onnx) and check it on ``batches``
    (Keras input dicts).

    Returns:
        ``(model bytes, Contract, Agreement)``.

    Raises:
        UsageError: a converter missing or failing. ExportMismatchError: the check failed.
    """
    from mmcli.engines.numeric import numeric_inputs
    from mmcli.engines.runtimes import SESSIONS
    from mmcli.model.export.check import NUMERIC_TOLERANCE, compare, numeric_pairs, require
    from mmcli.model.export.convert import to_lite, to_onnx
    from mmcli.model.export.numeric import numeric_model

    twin, contract = numeric_model(model, tuple(labels), tuple(names), audio=fmt == "onnx")
    data = (to_lite if fmt == "tflite" else to_onnx)(twin, contract)

    def to_numeric(inputs: dict) -> dict:
        flags = inputs["present"]
        return numeric_inputs(contract, {m: inputs[m] for m in names},
                              {m: flags[:, i] for i, m in enumerate(names)})

    with tempfile.TemporaryDirectory(prefix="mmcli-export-") as work:
        path = Path(work) / FILE_OF[fmt]
        path.write_bytes(data)
        session = SESSIONS[ENGINE_OF[fmt]](path)
        agreement = compare(numeric_pairs(model, batches, to_numeric, session),
                            NUMERIC_TOLERANCE)
    return data, contract, require(agreement, f"the {fmt} export")


def readme(fmt: str, contract: Contract) -> str:
    """The short README written beside a numeric export."""
    inputs = "\n".join(f"- `{s.name}`: {s.dtype} `[batch, {', '.join(map(str, s.shape))}]`"
                       for s in contract.inputs)
    audio = "".join(f"""- `{a.modality}__logmel`: the waveform's log-mel spectrogram
  (`mmcli/engines/audio.py`): reflect-padded by {a.fft_length // 2} samples, frames of
  {a.fft_length} every {a.stride} times a periodic {a.window} window, the real FFT's power
  times `audio[].mel_matrix`, decibels against the example's peak floored at -{a.top_db:g}
  dB, scaled to [0, 1], as `[mels, frames, 1]`.
""" for a in contract.audio)
    return f"""# mmcli {fmt} export

`{FILE_OF[fmt]}` takes numeric tensors (signature `serving_default` for LiteRT), one batch
dimension, and returns `{contract.output}` `[batch, {len(contract.labels)}]` in the order of
`labels` in `contract.json`. Inputs:

{inputs}

Steps this format cannot hold are done before it (`mmcli predict --engine lite|onnx` does them
in numpy, `mmcli/engines/numeric.py`):
- `<text>__vector` / `<text>__ids`: the text lowercased (ASCII), punctuation removed, split on
  whitespace, n-grams, looked up in `text[].vocabulary` (TF-IDF: counts times `idf`).
- `<tabular>__numbers` / `__missing`: each numeric cell parsed, or its training median and
  a missing flag 1; `<tabular>__category_<j>`: the stripped cell's index in
  `tabular[].vocabularies[j]` (0 unseen, `[missing]` for an empty cell).
- `image`: uint8 RGB `[S, S, 3]` (Pillow bilinear resize); `audio`: float32 mono waveform at
  the bundle's rate, cut or zero-padded.
{audio}- `present`: 1.0 per modality the row has, 0.0 where absent (modalities in
  `contract.json` order).
"""


def write_numeric(folder: Path, fmt: str, data: bytes, contract: Contract) -> list[str]:
    """Write the model, ``contract.json`` and ``README.md`` into ``folder``."""
    (folder / FILE_OF[fmt]).write_bytes(data)
    write_contract(contract, folder / "contract.json")
    (folder / "README.md").write_text(readme(fmt, contract), encoding="utf-8")
    return [FILE_OF[fmt], "contract.json", "README.md"]


def add_to_bundle(folder: Path, meta: dict[str, Any], fmt: str, data: bytes,
                  contract: Contract) -> list[str]:
    """Put a numeric export into the bundle folder's ``engine/`` and write ``bundle.json``
    again, so its ``files`` hashes cover the new files (signed again when
    ``MMCLI_SIGNING_KEY`` is set)."""
    engine = folder / layout.ENGINE_DIR
    engine.mkdir(exist_ok=True)
    written = []
    for name, content in ((FILE_OF[fmt], data), ("README.md", readme(fmt, contract).encode()),
                          ("contract.json", None)):
        tmp = engine / f".{name}.tmp"
        if content is None:
            write_contract(contract, tmp)
        else:
            tmp.write_bytes(content)
        tmp.replace(engine / name)
        written.append(f"{layout.ENGINE_DIR}/{name}")
    base = {k: v for k, v in meta.items() if k not in ("format_version", "files")}
    write_meta(folder, base, key=signing_key())
    return written


def export_bundle(bundle: Bundle, fmt: str, out: Path | None, *, force: bool = False,
                  check_data: str | Path | None = None, check_rows: int = 256) -> dict[str, Any]:
    """Export ``bundle`` as ``fmt`` into ``out`` (a folder), or with ``out`` None (tflite,
    onnx) into the bundle itself (``engine/``, what ``mmcli predict --engine auto`` uses).

    The export is checked on the first ``check_rows`` usable rows of ``check_data`` (default:
    the table the bundle was trained on, when it is still there) before anything is written.

    Returns:
        The JSON summary: format, out, files, seconds, and ``check`` (rows, top1_agreement,
        max_prob_diff, tolerance).

    Into the bundle, the bundle's output lock (the one ``train`` holds while writing it) is
    held from before the model is loaded until ``bundle.json`` is written again.

    Raises:
        UsageError: an unknown format, ``out`` missing for savedmodel, an existing ``out``
            without ``force``, no table to check on, a converter missing or failing.
        ExportMismatchError: the export does not match the bundle (exit 3).
        BundleError: the model cannot be loaded.
        OutputLockedError: another mmcli process is writing the bundle (exit 6).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if out is None and fmt == "savedmodel":
        raise UsageError("--format savedmodel needs --out FOLDER")
    if out is not None:
        check_writable(Path(out), force=force, folder=True)
        return _export(bundle, fmt, Path(out), force, check_data, check_rows)
    with output_lock(bundle.folder):  # as train holds it while it writes the bundle
        return _export(bundle, fmt, None, force, check_data, check_rows)


def _export(bundle: Bundle, fmt: str, out: Path | None, force: bool,
            check_data: str | Path | None, check_rows: int) -> dict[str, Any]:
    from mmcli.model.feed import rows_inputs

    started = time.perf_counter()
    rows, prep, raw = sample_rows(bundle, check_data, check_rows)
    model = load_model(bundle)
    names = bundle.modalities
    batches = [rows_inputs(rows[i:i + CHECK_BATCH], names, prep)
               for i in range(0, len(rows), CHECK_BATCH)]
    if fmt == "savedmodel":
        agreement, files = _savedmodel(bundle, model, prep, batches, raw, Path(out), force)
    else:
        data, contract, agreement = numeric_export(model, bundle.labels, names, fmt, batches)
        if out is None:
            files = add_to_bundle(bundle.folder, dict(bundle.meta), fmt, data, contract)
        else:
            with atomic_dir(Path(out), force=force) as folder:
                files = write_numeric(folder, fmt, data, contract)
    return {"format": fmt, "out": str(out if out is not None else bundle.folder),
            "files": files, "seconds": round(time.perf_counter() - started, 2),
            "check": agreement.to_dict()}


def _savedmodel(bundle, model, prep, batches, raw, out: Path, force: bool):
    import tensorflow as tf

    from mmcli.model.export.check import SAVEDMODEL_TOLERANCE, compare, require
    from mmcli.model.export.savedmodel import save

    widths = {t.name: int(t.shape[-1]) for t in model.inputs if len(t.shape) == 2
              and t.dtype == "string"}
    with atomic_dir(out, force=force) as folder:
        save(model, str(folder), bundle.modalities, bundle.labels, prep, widths)
        serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
        pairs = []
        for inputs, given in zip(batches, raw_inputs(raw, CHECK_BATCH), strict=True):
            got = serve(**{k: tf.constant(v) for k, v in given.items()})["probabilities"]
            pairs.append((np.asarray(model.predict_on_batch(inputs)), got.numpy()))
        agreement = require(compare(pairs, SAVEDMODEL_TOLERANCE), "the savedmodel export")
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                       if p.is_file())
    return agreement, files


def trained_engine_export(model, dataset, meta: dict[str, Any], on_warning) -> tuple | None:
    """The LiteRT export ``train`` writes into a new bundle (``engine/``), checked on the
    dataset's first rows (after the model is saved: cutting it adds nodes to its layers, which
    Keras cannot serialize). Its figures and seconds go to ``meta["training"]["engine_export"]``.

    Returns:
        ``(model bytes, contract)``, or None (``on_warning`` told why) when the conversion or
        its check fails: a warning, never a failed training run.
    """
    from mmcli.errors import MmcliError
    from mmcli.model.feed import dataset_inputs

    started = time.perf_counter()
    names = list(meta["modalities"])
    rows = np.arange(min(128, len(dataset.examples)))
    batches = [dataset_inputs(dataset, rows[i:i + 64], names) for i in range(0, len(rows), 64)]
    try:
        data, contract, agreement = numeric_export(model, meta["labels"], names, "tflite",
                                                   batches)
    except MmcliError as exc:
        if on_warning is not None:
            on_warning(f"no LiteRT export in the bundle (predict will use TensorFlow): {exc}")
        return None
    meta["training"]["engine_export"] = {
        "format": "tflite", **agreement.to_dict(),
        "seconds": round(time.perf_counter() - started, 2)}
    return data, contract
