"""Benchmark image/text encoders and fusions on fashion30 (its train/test split).

Usage: nice -n 10 .venv/bin/python benchmarks/models_fashion30.py [--only NAME ...]

Each run trains with mmcli's own ``fit`` (validation: a stratified 15% of the train rows,
early stopping) and is scored on the table's test rows. Wall time is the whole ``fit``
(feature caching included). Single-modality runs train on the same prepared folder with
the other modality left out of the model. Results go to stderr as they come, and to
``benchmarks/results/models_fashion30.jsonl`` (appended) and ``.md``; the Markdown table is
printed on stdout (``--report`` prints the table of every result in the .jsonl).
Skips (exit 0) when ``../shared/data/fashion30`` is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("MMCLI_FASHION30", ROOT.parent / "shared/data/fashion30"))
WEIGHTS = Path(
    os.environ.get(
        "MMCLI_MOBILENET_WEIGHTS", ROOT.parent / "shared/weights/mobilenet_2_5_224_tf_no_top.h5"
    )
)
RESULTS = ROOT / "benchmarks" / "results"
LR_BASELINE = 0.974  # TF-IDF + logistic regression, text only (shared/data/README.md)

MOBILENET = {"image_encoder": "mobilenet", "image_weights": str(WEIGHTS), "image_alpha": 0.25}
SMALL_CNN = {"image_encoder": "small_cnn"}
# name, prepared image size, modalities, ModelConfig changes, TrainConfig changes
RUNS = [
    ("text bow", 128, ["text"], {}, {}),  # the image encoder is unused in text-only runs
    ("image mobilenet a0.25 frozen 128px", 128, ["image"], MOBILENET, {}),
    ("gated: bow + frozen mobilenet", 128, None, {**MOBILENET, "fusion": "gated"}, {}),
    ("late: bow + frozen mobilenet", 128, None, {**MOBILENET, "fusion": "late"}, {}),
    ("attention: bow + frozen mobilenet", 128, None, {**MOBILENET, "fusion": "attention"}, {}),
    ("concat: bow + frozen mobilenet", 128, None, {**MOBILENET, "fusion": "concat"}, {}),
    ("text transformer", 128, ["text"], {"text_encoder": "transformer"}, {}),
    ("text cnn", 128, ["text"], {"text_encoder": "cnn"}, {}),
    ("text embedding", 128, ["text"], {"text_encoder": "embedding"}, {}),
    ("image small_cnn 64px (8 epochs)", 64, ["image"], SMALL_CNN, {"epochs": 8}),
    ("gated: bow + small_cnn 64px (8 epochs)", 64, None, {**SMALL_CNN, "fusion": "gated"},
     {"epochs": 8}),
    ("late: embedding + frozen mobilenet", 128, None,
     {**MOBILENET, "fusion": "late", "text_encoder": "embedding"}, {}),
    ("gated: embedding + frozen mobilenet", 128, None,
     {**MOBILENET, "fusion": "gated", "text_encoder": "embedding"}, {}),
    ("late: bow + frozen mobilenet 64px", 64, None, {**MOBILENET, "fusion": "late"}, {}),
    ("late: bow + small_cnn 64px (8 epochs)", 64, None, {**SMALL_CNN, "fusion": "late"},
     {"epochs": 8}),
]


def prepared(size: int):
    from mmcli.api.prepare import prepare
    from mmcli.config import PrepConfig
    from mmcli.data.dataset import is_dataset, open_dataset

    folder = RESULTS / "cache" / f"fashion30-{size}"
    if not is_dataset(folder):
        started = time.perf_counter()
        prepare(DATA / "data.csv", PrepConfig(image_size=size, workers=2), folder, force=True)
        log(f"prepared {size} px in {time.perf_counter() - started:.0f} s")
    return open_dataset(folder)


def with_modalities(dataset, modalities):
    """The same prepared rows, seen by a model of fewer modalities."""
    if modalities is None:
        return dataset
    return replace(dataset, schema=replace(dataset.schema, modalities=tuple(modalities)))


def test_scores(model, dataset, modalities) -> dict:
    from mmcli.metrics import classification_metrics
    from mmcli.model.inference import dataset_proba

    frame = dataset.examples
    test = np.flatnonzero((frame["split"] == "test").to_numpy())
    lookup = {label: i for i, label in enumerate(dataset.labels)}
    y = np.array([lookup[v] for v in frame["label"].to_numpy()[test]])
    started = time.perf_counter()
    proba = dataset_proba(model, dataset, test, modalities, 64)
    scores = classification_metrics(y, proba, dataset.labels)
    return {
        "test_accuracy": round(scores["accuracy"], 4),
        "test_macro_f1": round(scores["macro_f1"], 4),
        "predict_rows_per_s": round(len(test) / (time.perf_counter() - started), 1),
    }


def run_mmcli(name, size, modalities, model_changes, train_changes) -> dict:
    from mmcli.api.train import fit
    from mmcli.config import ModelConfig, RunConfig, TrainConfig

    dataset = with_modalities(prepared(size), modalities)
    config = RunConfig(
        prep=dataset.schema.prep,
        model=ModelConfig(**model_changes),
        train=TrainConfig(**train_changes),
    )
    started = time.perf_counter()
    model, meta, _ = fit(dataset, config)
    wall = time.perf_counter() - started
    run, val = meta["training"], meta["validation"]
    result = {
        "name": name,
        "image_size": size,
        **test_scores(model, dataset, dataset.modalities),
        "wall_s": round(wall, 1),
        "epochs": f"{run['epochs_run']} (best {run['best_epoch']})",
        "samples_per_s": round(run["train_rows"] * run["epochs_run"] / wall, 1)
        if "train_rows" in run
        else round(meta["data"]["train_rows"] * run["epochs_run"] / wall, 1),
        "val_accuracy": round(val["accuracy"], 4),
        "val_alone": val.get("modalities"),
        "fusion_weights": val.get("fusion_weights"),
        "fusion_helped": val.get("fusion_helped"),
    }
    return result


def reference(size: int, *, epochs: int | None, steps: int | None) -> dict:
    """The issue's reference design: two 3x3 conv layers of 64 filters over the image,
    flatten, concatenated with a 64-unit dense layer over a 100-dim TF-IDF vector, softmax;
    adam, batch 32. Bounded by ``epochs`` or ``steps`` (then time is extrapolated)."""
    from mmcli.model.backend import import_keras

    keras = import_keras()
    from mmcli.model.feed import training_stream

    dataset = prepared(size) if size <= 128 else None
    if dataset is None:
        return reference_throughput(keras, size, steps)
    frame = dataset.examples
    train = np.flatnonzero((frame["split"] == "train").to_numpy())
    lookup = {label: i for i, label in enumerate(dataset.labels)}
    targets = np.array([lookup[v] for v in frame["label"]], np.int32)
    keras.utils.set_random_seed(0)
    model = reference_model(keras, size, len(dataset.labels), frame["text"].to_numpy()[train])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    stream = training_stream(
        dataset, train, targets[train], ["image", "text"], 32, shuffle_seed=0
    ).map(lambda x, y: ({"image": x["image"], "text": x["text"]}, y))
    started = time.perf_counter()
    history = model.fit(stream, epochs=epochs, verbose=0)
    wall = time.perf_counter() - started

    from mmcli.metrics import classification_metrics

    test = np.flatnonzero((frame["split"] == "test").to_numpy())
    proba = np.concatenate([
        model.predict_on_batch({"image": dataset.values("image", test[i : i + 64]),
                                "text": frame["text"].to_numpy()[test[i : i + 64]].astype(object)})
        for i in range(0, len(test), 64)
    ])
    scores = classification_metrics(targets[test], proba, dataset.labels)
    return {
        "name": f"reference design {size}px ({epochs} epochs)",
        "image_size": size,
        "test_accuracy": round(scores["accuracy"], 4),
        "test_macro_f1": round(scores["macro_f1"], 4),
        "wall_s": round(wall, 1),
        "epochs": str(epochs),
        "samples_per_s": round(len(train) * epochs / wall, 1),
        "train_accuracy": round(history.history["accuracy"][-1], 4),
        "params": int(model.count_params()),
    }


def reference_model(keras, size, classes, texts):
    layers = keras.layers
    image = keras.Input((size, size, 3), dtype="uint8", name="image")
    text = keras.Input((), dtype="string", name="text")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.Flatten()(x)
    vectorize = layers.TextVectorization(max_tokens=100, output_mode="tf_idf",
                                         pad_to_max_tokens=True)
    vectorize.adapt(list(texts))
    t = layers.Dense(64, activation="relu")(vectorize(text))
    out = layers.Dense(classes, activation="softmax")(layers.Concatenate()([x, t]))
    return keras.Model({"image": image, "text": text}, out)


def reference_throughput(keras, size, steps) -> dict:
    """Train the reference design at full size for a few steps on the first train images and
    extrapolate the time of one epoch over the 7,265 training rows."""
    import pandas as pd
    from PIL import Image

    frame = pd.read_csv(DATA / "data.csv")
    train = frame[frame["split"] == "train"].reset_index(drop=True)
    n = steps * 32
    images = np.stack([
        np.asarray(Image.open(DATA / p).convert("RGB").resize((size, size)))
        for p in train["image"][:n]
    ])
    labels = sorted(frame["label"].unique())
    y = train["label"][:n].map({v: i for i, v in enumerate(labels)}).to_numpy()
    keras.utils.set_random_seed(0)
    model = reference_model(keras, size, len(labels), train["text"].tolist())
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit({"image": images[:32], "text": train["text"][:32].to_numpy(object)}, y[:32],
              batch_size=32, epochs=1, verbose=0)  # build and trace outside the timing
    started = time.perf_counter()
    model.fit({"image": images, "text": train["text"][:n].to_numpy(object)}, y,
              batch_size=32, epochs=1, verbose=0)
    per_sample = (time.perf_counter() - started) / n
    return {
        "name": f"reference design {size}px ({steps} steps, time extrapolated)",
        "image_size": size,
        "test_accuracy": None,
        "test_macro_f1": None,
        "wall_s": round(per_sample * len(train), 1),
        "epochs": "1 (extrapolated)",
        "samples_per_s": round(1 / per_sample, 1),
        "params": int(model.count_params()),
    }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def markdown(results: list[dict]) -> str:
    lines = [
        "| model | px | test acc | macro-F1 | train wall s | samples/s | epochs | "
        "val: fused / each alone | fusion weights |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        alone = r.get("val_alone")
        alone = " / ".join(f"{v:.3f}" for v in alone.values()) if alone else ""
        val = f"{r['val_accuracy']:.3f}" if "val_accuracy" in r else ""
        val += f" / {alone}" if alone else ""
        weights = r.get("fusion_weights")
        weights = ", ".join(f"{k} {v:.2f}" for k, v in weights.items()) if weights else ""
        acc = "n/a" if r["test_accuracy"] is None else f"{r['test_accuracy']:.4f}"
        f1 = "n/a" if r["test_macro_f1"] is None else f"{r['test_macro_f1']:.4f}"
        lines.append(
            f"| {r['name']} | {r['image_size']} | {acc} | {f1} | {r['wall_s']} | "
            f"{r['samples_per_s']} | {r['epochs']} | {val} | {weights} |"
        )
    lines.append(f"\nTF-IDF + logistic regression (text only), for reference: {LR_BASELINE}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run only names containing these words")
    parser.add_argument("--no-reference", action="store_true")
    parser.add_argument("--report", action="store_true",
                        help="only print the table of every result in the .jsonl so far")
    args = parser.parse_args()
    sink = RESULTS / "models_fashion30.jsonl"
    if args.report:
        lines = sink.read_text(encoding="utf-8").splitlines() if sink.is_file() else []
        table = markdown([json.loads(line) for line in lines])
        (RESULTS / "models_fashion30.md").write_text(table + "\n", encoding="utf-8")
        print(table)
        return 0
    if not (DATA / "data.csv").is_file():
        log(f"skipped: {DATA} not found")
        return 0
    if not WEIGHTS.is_file():
        log(f"note: {WEIGHTS} not found; skipping the pretrained runs")
    RESULTS.mkdir(parents=True, exist_ok=True)
    results = []
    for name, size, modalities, model_changes, train_changes in RUNS:
        if args.only and not any(w in name for w in args.only):
            continue
        if "mobilenet" in name and not WEIGHTS.is_file():
            continue
        log(f"--- {name}")
        result = run_mmcli(name, size, modalities, model_changes, train_changes)
        log(json.dumps(result))
        results.append(result)
        with open(sink, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(result) + "\n")
    if not args.no_reference:
        for bounded in ((64, 3, None), (224, None, 10)):
            log(f"--- reference {bounded}")
            result = reference(bounded[0], epochs=bounded[1], steps=bounded[2])
            log(json.dumps(result))
            results.append(result)
            with open(sink, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(result) + "\n")
    table = markdown(results)
    (RESULTS / "models_fashion30.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
