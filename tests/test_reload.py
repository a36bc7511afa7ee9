"""A reloaded bundle predicts exactly what the model predicted before saving; seeds repeat."""

from __future__ import annotations

import numpy as np
import pytest

from mmcli.api.prepare import prepare
from mmcli.api.train import fit, save_bundle
from mmcli.bundle import load_model, read_bundle
from mmcli.config import PrepConfig, RunConfig, TrainConfig
from mmcli.data.dataset import open_dataset
from tests.conftest import SAMPLE

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    out = tmp_path_factory.mktemp("reload") / "prepared"
    prepare(SAMPLE, PrepConfig(image_size=16), out)
    return open_dataset(out)


def quick(seed: int) -> RunConfig:
    return RunConfig(prep=PrepConfig(image_size=16), train=TrainConfig(epochs=3, seed=seed))


def test_reloaded_bundle_predicts_identically(prepared, tmp_path):
    from mmcli.model.feed import dataset_inputs

    model, meta, history = fit(prepared, quick(0))
    inputs = dataset_inputs(prepared, np.arange(64), meta["modalities"])
    before = np.asarray(model.predict_on_batch(inputs))
    save_bundle(model, meta, history, tmp_path / "bundle")
    after = np.asarray(load_model(read_bundle(tmp_path / "bundle")).predict_on_batch(inputs))
    assert np.array_equal(before, after)


def test_same_seed_same_model_other_seed_differs(prepared):
    first = fit(prepared, quick(3))[1]
    second = fit(prepared, quick(3))[1]
    other = fit(prepared, quick(4))[1]
    assert first["validation"] == second["validation"]
    assert first["training"]["epochs_run"] == second["training"]["epochs_run"]
    assert other["validation"] != first["validation"]
