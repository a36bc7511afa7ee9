"""Training traces its step once: the graph tracing, not the steps, is most of a short run's
time (the whole suite trains dozens of models), and Keras' deferred building of the optimizer
and compiled metrics made TensorFlow trace the first training step twice."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

pytestmark = pytest.mark.tf


def test_a_run_traces_its_training_step_once(tmp_path: Path, monkeypatch):
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    from mmcli.api.prepare import prepare
    from mmcli.api.train import fit
    from mmcli.config import ModelConfig, PrepConfig, RunConfig, TrainConfig
    from mmcli.data.dataset import open_dataset

    with open(tmp_path / "t.csv", "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "text", "label", "split"])
        for i in range(48):  # 40 training rows (several batches of 16, the last shorter)
            words = ("warm sun bright", "cold rain grey")[i % 2]
            out.writerow([f"r{i}", f"{words} {i}", "ab"[i % 2], "test" if i >= 40 else "train"])
    prepare(tmp_path / "t.csv", PrepConfig(), tmp_path / "prep")
    traced = {"train_step": 0, "test_step": 0}
    for name in traced:
        real = getattr(TensorFlowTrainer, name)

        def counted(self, data, _real=real, _name=name):
            traced[_name] += 1  # Python runs only while TensorFlow traces the step
            return _real(self, data)

        monkeypatch.setattr(TensorFlowTrainer, name, counted)
    config = RunConfig(model=ModelConfig(text_encoder="bow"),
                       train=TrainConfig(epochs=2, batch_size=16, seed=0))
    _, meta, history = fit(open_dataset(tmp_path / "prep"), config)
    assert meta["training"]["epochs_run"] == 2 and len(history["val_loss"]) == 2
    assert traced == {"train_step": 1, "test_step": 1}
