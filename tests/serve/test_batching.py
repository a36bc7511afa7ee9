"""The micro-batcher alone: waiting requests share one model call, each gets its slice, a
full queue refuses at once, and stopping answers what is queued."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mmcli.serve.batching import MicroBatcher, QueueFull


def _recording():
    calls: list[list] = []
    release = threading.Event()

    def predict(rows):
        release.wait(10)
        calls.append(list(rows))
        return np.array([[float(r)] for r in rows])

    return calls, release, predict


def test_waiting_requests_share_one_call_and_get_their_slices():
    calls, release, predict = _recording()
    release.set()
    batcher = MicroBatcher(predict, capacity=8, wait=0.5, batch_rows=5)
    batcher.start()
    futures = [batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5])]
    results = [f.result(10) for f in futures]
    batcher.stop(10)
    assert calls == [[1, 2, 3, 4, 5]]  # 5 rows waiting: no need to wait longer
    assert [r[:, 0].tolist() for r in results] == [[1, 2], [3], [4, 5]]


def test_a_full_queue_refuses_and_stop_answers_what_waits():
    calls, release, predict = _recording()
    batcher = MicroBatcher(predict, capacity=1, wait=0.0, batch_rows=1)
    batcher.start()
    first = batcher.submit([1])  # taken by the worker, which blocks in predict
    while batcher.waiting:
        pass
    second = batcher.submit([2])  # waits in the queue
    assert batcher.full()
    with pytest.raises(QueueFull):
        batcher.submit([3])
    release.set()
    batcher.stop(10)
    assert first.result(1)[0, 0] == 1 and second.result(1)[0, 0] == 2


def test_a_failing_model_call_fails_its_requests_only():
    def predict(rows):
        if 0 in rows:
            raise ValueError("boom")
        return np.ones((len(rows), 1))

    batcher = MicroBatcher(predict, capacity=4, wait=0.0, batch_rows=1)
    batcher.start()
    bad, good = batcher.submit([0]), batcher.submit([1])
    with pytest.raises(ValueError):
        bad.result(10)
    assert good.result(10).shape == (1, 1)
    batcher.stop(10)
