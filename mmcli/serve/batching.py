"""Micro-batching: requests wait in a bounded queue; one worker thread, the only one that
touches the model, takes the waiting rows together and predicts them in one call. (The
service runs a second one over reading: any function from a list of rows to one result per
row, in order, can be batched.)

The first waiting request waits at most ``wait`` seconds for others to fill the batch (up to
``batch_rows`` rows), then everything waiting that fits is predicted together and each
request gets its slice. A request arriving while ``capacity`` requests already wait is
refused at once (:class:`QueueFull`: the service answers 503 with Retry-After) rather than
queued without bound.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class QueueFull(RuntimeError):
    """The queue holds ``capacity`` requests already."""


@dataclass
class _Waiting:
    rows: Sequence[Any]
    future: Future = field(default_factory=Future)
    since: float = field(default_factory=time.monotonic)


class MicroBatcher:
    """Run ``predict(rows) -> (len(rows), classes) array`` over batches of waiting requests.

    Args:
        predict: The engine's predict; called only from the worker thread.
        capacity: Most requests waiting (not yet taken into a batch).
        wait: Seconds the first waiting request waits for others.
        batch_rows: Most rows per call (a larger request is one call of its own).
    """

    def __init__(self, predict: Callable[[Sequence[Any]], np.ndarray], *, capacity: int,
                 wait: float, batch_rows: int) -> None:
        self._predict = predict
        self.capacity = capacity
        self.wait = wait
        self.batch_rows = batch_rows
        self._queue: deque[_Waiting] = deque()
        self._rows_waiting = 0
        self._lock = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="mmcli-serve-model", daemon=True)
        self.batches = 0  # model calls made (for /health)

    def start(self) -> None:
        self._thread.start()

    @property
    def waiting(self) -> int:
        """Requests in the queue now."""
        return len(self._queue)

    def full(self) -> bool:
        return len(self._queue) >= self.capacity

    def submit(self, rows: Sequence[Any]) -> Future:
        """Queue ``rows``; the future gets their probabilities.

        Raises:
            QueueFull: ``capacity`` requests are waiting.
            RuntimeError: the batcher is stopping.
        """
        item = _Waiting(rows)
        with self._lock:
            if self._stopping:
                raise RuntimeError("the model worker has stopped")
            if len(self._queue) >= self.capacity:
                raise QueueFull(f"{len(self._queue)} requests are waiting")
            self._queue.append(item)
            self._rows_waiting += len(rows)
            self._lock.notify_all()
        return item.future

    def stop(self, timeout: float | None = None) -> None:
        """Predict what is queued, then end the worker thread."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._predict_batch(batch)

    def _next_batch(self) -> list[_Waiting] | None:
        with self._lock:
            while not self._queue:
                if self._stopping:
                    return None
                self._lock.wait()
            deadline = self._queue[0].since + self.wait
            while self._rows_waiting < self.batch_rows and not self._stopping:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._lock.wait(left)
            batch = [self._queue.popleft()]
            rows = len(batch[0].rows)
            while self._queue and rows + len(self._queue[0].rows) <= self.batch_rows:
                rows += len(self._queue[0].rows)
                batch.append(self._queue.popleft())
            self._rows_waiting -= rows
            return batch

    def _predict_batch(self, batch: list[_Waiting]) -> None:
        rows = [row for item in batch for row in item.rows]
        try:
            proba = self._predict(rows)
        except BaseException as exc:  # every waiting request hears of it; the worker goes on
            for item in batch:
                item.future.set_exception(exc)
            return
        finally:
            self.batches += 1
        start = 0
        for item in batch:
            item.future.set_result(proba[start:start + len(item.rows)])
            start += len(item.rows)
