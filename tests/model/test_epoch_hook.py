"""EpochHook (tune's pruning): the function sees every epoch's logs; True stops the run."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.tf


def test_the_hook_sees_each_epochs_logs_and_stops_the_run_when_told():
    from mmcli.model.backend import import_keras
    from mmcli.model.epoch_hook import EpochHook

    keras = import_keras()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = np.zeros((8, 2), "float32"), np.zeros(8, "int32")
    seen = []
    hook = EpochHook(lambda epoch, logs: seen.append((epoch, sorted(logs))) or epoch == 1)
    history = model.fit(x, y, validation_data=(x, y), epochs=5, verbose=0, callbacks=[hook])
    assert [epoch for epoch, _ in seen] == [0, 1] and len(history.history["loss"]) == 2
    assert {"val_accuracy", "val_loss", "accuracy", "loss"} <= set(seen[0][1])
    assert hook.stopped
