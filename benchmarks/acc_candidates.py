"""Issue 16's unmeasured candidates on a prepared table (fashion30 whole by default), chosen
by VALIDATION accuracy (train's own 15% split, seed 0), the test split reported after.

Every candidate trains mmcli's own default model (``mmcli.model.training``: the same build,
optimizer, schedule, early stopping and auxiliary heads as ``mmcli train``) on the frozen
backbone's features, computed ONCE per prepared folder and image orientation and kept in
``--cache`` (a .npz per folder and orientation), so candidates cost only head epochs.

Candidates:
- ``base``: the defaults (seed 0), a reproduction of ``mmcli train``.
- ``flip_avg``: every row's image features averaged with its horizontal mirror's, in
  training and at inference (flip test-time augmentation of the frozen features).
- ``flip_aug``: training rows take their mirror's features half of the time (seeded);
  inference on the plain features; ``flip_aug_tta``: the same model, probabilities averaged
  over the plain and mirrored features.
- ``seeds``: N models (seeds 0..N-1, one validation split) and their probabilities averaged
  (``seeds_k``: the first k).
- ``soup``: the weights after each epoch kept; those of the epochs around the best averaged
  (``soup_k``) or their probabilities averaged (``snapshot_k``).
- ``stack``: K-fold out-of-fold image and text probabilities (each modality's own head) on
  the training rows, a multinomial logistic regression on their logs fitted on them; the
  model trained on all training rows feeds it on validation and test.

Usage: python benchmarks/acc_candidates.py PREPARED --weights FILE [--candidates a,b]
       [--seeds 5] [--folds 5] [--cache DIR] [--out ROWS.jsonl] [--set section.key=value]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from mmcli.config_io import resolve_config
from mmcli.data.dataset import open_dataset
from mmcli.model import training
from mmcli.model.cached import FeatureCache
from mmcli.model.checkpoint import Resume
from mmcli.model.feed import dataset_columns
from mmcli.tasks import task_for


class Preset(FeatureCache):
    """A FeatureCache over every row of the table from precomputed features; with
    ``flipped`` and ``flip_seed`` each batch takes a row's mirrored features with
    probability 1/2 (training-time flip augmentation)."""

    def __init__(self, features, flipped, data, names, prep, flip_seed=None):
        self.names, self.prep = list(names), prep
        rows = np.arange(len(data.examples))
        self.position = {int(r): int(r) for r in rows}
        self.features, self.flipped = features, flipped
        self.skip = [k.removesuffix("_features") for k in features]
        self.values, self.present = dataset_columns(data, rows, self.names, prep, skip=self.skip)
        self.rng = np.random.default_rng(flip_seed) if flip_seed is not None else None

    def inputs(self, rows):
        out = super().inputs(rows)
        if self.rng is not None:
            at = np.asarray(rows, dtype=np.int64)
            pick = self.rng.random(len(at)) < 0.5
            for key in self.features:
                out[key] = np.where(pick[:, None], self.flipped[key][at], out[key])
        return out


def features(built, data, prep, cache: Path, flip: bool) -> dict:
    """The frozen extractors' features of every row (mirrored images when ``flip``)."""
    path = cache / f"{data.folder.name}-{'flip' if flip else 'plain'}.npz"
    if path.is_file():
        return dict(np.load(path))
    rows = np.arange(len(data.examples))
    out = {}
    for name, extractor in built.extractors.items():
        parts = []
        for i in range(0, len(rows), 64):
            images = data.values(name, rows[i : i + 64], prep)
            if flip:
                images = np.ascontiguousarray(images[:, :, ::-1, :])
            parts.append(np.asarray(extractor.predict_on_batch(images)))
        out[f"{name}_features"] = np.concatenate(parts)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def train_head(data, config, split, task, feats, flipped, *, train_rows=None, flip_aug=False,
               callbacks=()):
    """Train the default model's head on cached features; returns (built, epochs run)."""
    from mmcli.data.split import Split
    from mmcli.model import heads
    from mmcli.model.training import Streams

    if train_rows is not None:
        split = Split(train_rows, split.val, split.targets)
    built, config = training.build_model(data, split, config, task)
    names = data.modalities
    plain = Preset(feats, flipped, data, names, config.prep)
    trainer_cache = Preset(feats, flipped, data, names, config.prep,
                           flip_seed=config.train.seed if flip_aug else None)
    tc = config.train
    positions = np.arange(len(data.examples), dtype=np.int32)
    outputs = heads.output_names(built.trainer)
    train = heads.attach_targets(
        trainer_cache.stream(split.train, positions[split.train], tc.batch_size,
                             shuffle_seed=tc.seed),
        split.targets.matrix, split.targets.row_weights, outputs=outputs)
    val = heads.attach_targets(
        plain.stream(split.val, positions[split.val], tc.batch_size, shuffle_seed=None),
        split.targets.matrix, outputs=outputs)
    history, _ = training.run_epochs(built.trainable, Streams(train, val, plain.batches, 0.0),
                                     config, Resume(None, tc.epochs), callbacks=callbacks)
    return built, len(history["loss"])


def proba(built, data, feats, flipped, rows, *, mirror=False, outputs=None):
    """Fused probabilities (or the trainer's named outputs) of rows, from cached features."""
    cache = Preset(flipped if mirror else feats, None, data, data.modalities, data.schema.prep)
    model = built.trainer if outputs else built.head
    parts = []
    for _, inputs in cache.batches(rows, 256):
        out = model.predict_on_batch(inputs)
        parts.append([np.asarray(out[o]) for o in outputs] if outputs else [np.asarray(out)])
    return [np.concatenate(p) for p in zip(*parts, strict=True)]


def own(built, data, feats, rows, y) -> dict:
    """Each modality's own (auxiliary) head's accuracy on ``rows``."""
    outputs = [f"aux_{m}" for m in data.modalities]
    return {o.removeprefix("aux_"): round(accuracy(p, y[rows]), 4)
            for o, p in zip(outputs, proba(built, data, feats, None, rows, outputs=outputs),
                            strict=True)}


def accuracy(p, y) -> float:
    return float(np.mean(np.argmax(p, axis=1) == y))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("prepared")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--candidates", default="base,flip_avg,flip_aug,seeds,stack")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", default="/tmp/mmcli-acc-cache")
    parser.add_argument("--out", default="benchmarks/results/acc_candidates.jsonl")
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args()
    data = open_dataset(Path(args.prepared))
    config = resolve_config(flags={"model": {"image_weights": args.weights},
                                   "train": {"seed": 0}}, sets=args.set)
    config = type(config)(prep=data.schema.prep, model=config.model, train=config.train)
    task = task_for(config.train)
    from mmcli.api.train import targets_step

    split = targets_step(data, config, task)
    built, _ = training.build_model(data, split, config, task)
    cache = Path(args.cache)
    feats = features(built, data, config.prep, cache, flip=False)
    flipped = features(built, data, config.prep, cache, flip=True)
    both = {k: (feats[k] + flipped[k]) / 2 for k in feats}
    y = split.targets.y
    test = np.flatnonzero((data.examples["split"] == "test").to_numpy())
    val = split.val

    def record(name, p_val, p_test, started, epochs, **extra):
        row = {"table": data.folder.name, "candidate": name,
               "val_accuracy": round(accuracy(p_val, y[val]), 4),
               "test_accuracy": round(accuracy(p_test, y[test]), 4), "epochs_run": epochs,
               "seconds": round(time.time() - started, 1), "sets": args.set, **extra,
               "date": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
               "machine": f"{platform.machine()}, {os.cpu_count()} cores, load "
                          f"{os.getloadavg()[0]:.1f}"}
        with open(args.out, "a") as handle:
            handle.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)

    wanted = args.candidates.split(",")
    for name in wanted:
        started = time.time()
        if name == "base":
            b, n = train_head(data, config, split, task, feats, flipped)
            record(name, *(proba(b, data, feats, None, r)[0] for r in (val, test)), started, n,
                   own_val=own(b, data, feats, val, y))
        elif name == "flip_avg":
            b, n = train_head(data, config, split, task, both, both)
            record(name, *(proba(b, data, both, None, r)[0] for r in (val, test)), started, n)
        elif name == "flip_aug":
            b, n = train_head(data, config, split, task, feats, flipped, flip_aug=True)
            plain = [proba(b, data, feats, flipped, r)[0] for r in (val, test)]
            record(name, *plain, started, n)
            tta = [(p + proba(b, data, feats, flipped, r, mirror=True)[0]) / 2
                   for p, r in zip(plain, (val, test), strict=True)]
            record("flip_aug_tta", *tta, started, n)
        elif name == "seeds":
            sums, runs = None, []
            for seed in range(args.seeds):
                c = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                          seed=seed))
                b, n = train_head(data, c, split, task, feats, flipped)
                ps = [proba(b, data, feats, None, r)[0] for r in (val, test)]
                sums = ps if sums is None else [s + p for s, p in zip(sums, ps, strict=True)]
                runs.append([round(accuracy(ps[0], y[val]), 4), round(accuracy(ps[1], y[test]),
                                                                      4), n])
                record(f"seeds_{seed + 1}", *sums, started, n, single=runs[-1])
        elif name == "headroom":  # what a perfect chooser among the three could reach
            b, n = train_head(data, config, split, task, feats, flipped)
            outputs = ["probabilities", *(f"aux_{m}" for m in data.modalities)]
            right = {r: np.stack([np.argmax(p, 1) == y[rows] for p in proba(
                b, data, feats, None, rows, outputs=outputs)]) for r, rows in
                (("val", val), ("test", test))}
            fused = proba(b, data, feats, None, val)[0]
            record(name, fused, proba(b, data, feats, None, test)[0], started, n,
                   any_right={k: round(float(v.any(0).mean()), 4) for k, v in right.items()},
                   fused_wrong_val=int((~right["val"][0]).sum()),
                   of_them_right={o: int((~right["val"][0] & right["val"][i]).sum())
                                  for i, o in enumerate(outputs) if i})
        elif name == "soup":
            soup(data, config, split, task, feats, flipped, y, val, test, record)
        elif name == "stack":
            stack(data, config, split, task, feats, flipped, y, val, test, args.folds, record)


def stack(data, config, split, task, feats, flipped, y, val, test, folds, record):
    """Out-of-fold per-modality probabilities on the training rows, a logistic regression
    on their logs (the stacker), fed by the model trained on all training rows."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from softmax_stacker import Softmax

    started = time.time()
    outputs = [f"aux_{m}" for m in data.modalities]
    rng = np.random.default_rng(0)
    order = split.train[rng.permutation(len(split.train))]
    oof = np.zeros((len(data.examples), len(outputs), int(y.max()) + 1))
    for k in range(folds):
        held = np.sort(order[k::folds])
        b, _ = train_head(data, config, split, task, feats, flipped,
                          train_rows=np.setdiff1d(split.train, held))
        oof[held] = np.stack(proba(b, data, feats, None, held, outputs=outputs), axis=1)
    b, n = train_head(data, config, split, task, feats, flipped)

    def x_of(rows, parts):
        return np.log(np.clip(np.concatenate(parts, axis=1), 1e-6, 1.0))

    stacker = Softmax(x_of(split.train, [oof[split.train][:, i] for i in range(len(outputs))]),
                      y[split.train], oof.shape[2])
    ps = [stacker(x_of(r, proba(b, data, feats, None, r, outputs=outputs)))
          for r in (val, test)]
    record("stack", *ps, started, n, folds=folds)
    fused = [proba(b, data, feats, None, r)[0] for r in (val, test)]
    record("stack_plus_fused", *[(p + f) / 2 for p, f in zip(ps, fused, strict=True)],
           started, n, folds=folds)


def soup(data, config, split, task, feats, flipped, y, val, test, record):
    """Checkpoint averaging: the head's weights after every epoch kept; the weights of the
    epochs around the best (lowest validation loss) averaged (a uniform soup), and their
    probabilities averaged (a snapshot ensemble)."""
    import keras

    started = time.time()
    kept = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            kept.append((logs["val_loss"], [w.copy() for w in self.model.get_weights()]))

    b, n = train_head(data, config, split, task, feats, flipped, callbacks=[Keep()])
    best = int(np.argmin([loss for loss, _ in kept]))
    for half in (1, 2, 3):
        chosen = kept[max(0, best - half): best + half + 1]
        ensemble = [0.0, 0.0]
        for _, weights in chosen:
            b.trainable.set_weights(weights)
            ps = [proba(b, data, feats, None, r)[0] for r in (val, test)]
            ensemble = [e + p / len(chosen) for e, p in zip(ensemble, ps, strict=True)]
        record(f"snapshot_{len(chosen)}", *ensemble, started, n, best_epoch=best + 1)
        b.trainable.set_weights([np.mean(ws, axis=0) for ws in zip(*(w for _, w in chosen),
                                                                    strict=True)])
        record(f"soup_{len(chosen)}", *(proba(b, data, feats, None, r)[0] for r in (val, test)),
               started, n, best_epoch=best + 1)


if __name__ == "__main__":
    main()
