"""``train --tensorboard DIR`` (issue 16): TensorBoard logs per epoch with the losses, the
metrics, the learning rate and the fusion weights; without the package, a clear exit 2."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "data.csv"
HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


def _scalars(folder: Path) -> dict[str, list[float]]:
    """Every scalar in the event files under ``folder``, by run/tag, in step order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    found = {}
    for events in folder.rglob("events.out.tfevents.*"):
        run = events.parent.relative_to(folder).as_posix()
        acc = EventAccumulator(str(events), size_guidance={"tensors": 0, "scalars": 0})
        acc.Reload()
        for tag in acc.Tags().get("tensors", []):
            import tensorflow as tf

            found[f"{run}/{tag}"] = [float(tf.make_ndarray(e.tensor_proto))
                                     for e in acc.Tensors(tag)]
    return found


@pytest.mark.tf
@pytest.mark.skipif(not HAS_TENSORBOARD, reason="tensorboard is not installed")
def test_train_writes_losses_metrics_learning_rate_and_fusion_weights(tmp_path, runner, app):
    logs = tmp_path / "logs"
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(tmp_path / "b"),
                                 "--image-size", "32", "--image-encoder", "small_cnn",
                                 "--epochs", "2", "--tensorboard", str(logs), "-q"])
    assert result.exit_code == 0, result.stderr
    scalars = _scalars(logs)
    for tag in ("train/epoch_loss", "train/epoch_accuracy", "train/epoch_learning_rate",
                "validation/epoch_loss", "validation/epoch_accuracy",
                "fusion/fusion_weight/image", "fusion/fusion_weight/text"):
        assert len(scalars.get(tag, [])) == 2, (tag, sorted(scalars))
    for epoch in range(2):
        total = scalars["fusion/fusion_weight/image"][epoch] + \
            scalars["fusion/fusion_weight/text"][epoch]
        assert total == pytest.approx(1.0, abs=1e-3)  # gated fusion: weights sum to one


def test_without_tensorboard_installed_train_says_how_to_get_it(tmp_path, runner, app,
                                                                   monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "tensorboard" else real(name, *a))
    result = runner.invoke(app, ["train", str(SAMPLE), "--out", str(tmp_path / "b"),
                                 "--tensorboard", str(tmp_path / "logs")])
    assert result.exit_code == 2
    assert "pip install 'mmcli[tensorboard]'" in result.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "logs").exists()
