"""The pool's arrays come back through a shared-memory ring (mmcli.io.ring): the same values,
notes and faults as decoding in this process, and no shared memory left behind however the
pool ends (a dead worker, an exception in the consumer, an interrupt)."""

import concurrent.futures.process
import os
from pathlib import Path

import numpy as np
import pytest

from mmcli.io import ring
from mmcli.io.decode import Noted, decode_jobs

SHM = Path("/dev/shm")
pytestmark = pytest.mark.skipif(not SHM.is_dir(), reason="no /dev/shm")


def _left(names: list[str]) -> list[str]:
    """Those of ``names`` still in /dev/shm."""
    return [name for name in names if (SHM / name.lstrip("/")).exists()]


def _decode(payload):
    """Arrays of several shapes and dtypes, notes, faults and a too-big array by payload."""
    if payload % 7 == 3:
        from mmcli.errors import CellError

        raise CellError("unreadable", f"cell {payload} is broken")
    if payload % 5 == 0:
        return np.full((4,), payload, np.float32)
    value = np.arange(payload, payload + 12, dtype=np.uint8).reshape(2, 2, 3)
    if payload % 11 == 1:
        return Noted(value, (f"note about {payload}",))
    if payload == 57:
        return np.full((64, 64), 1.5)  # larger than any array before: travels pickled
    return value


def _die(payload):
    if payload == 30:
        os._exit(3)  # a worker killed mid-run, after the ring is made
    return np.full((8,), payload, np.int64)


def _plain(results):
    out = []
    for _, item in results:
        if isinstance(item, Noted):
            out.append(("noted", item.value.tolist(), item.notes))
        elif isinstance(item, np.ndarray):
            out.append((item.dtype.str, item.shape, item.tolist()))
        else:
            out.append((item.reason, str(item)))
    return out


def test_the_ring_gives_what_decoding_in_this_process_gives(monkeypatch, made):
    reads = []
    original = ring.Ring.read
    monkeypatch.setattr(ring.Ring, "read",
                        lambda self, place, results, copy=True: reads.append(copy) or original(
                            self, place, results, copy))
    jobs = [(_decode, i) for i in range(80)]
    pooled = list(decode_jobs(iter(jobs), workers=2, chunk_size=3))
    alone = list(decode_jobs(iter(jobs), workers=1, chunk_size=3))
    assert [i for i, _ in pooled] == list(range(80))
    assert _plain(pooled) == _plain(alone)
    assert len(reads) >= 20  # most chunks came through the ring (the first 4 pickled)
    assert len(made) == 1 and _left(made) == []


def test_a_dead_worker_leaves_no_shared_memory(made):
    with pytest.raises(concurrent.futures.process.BrokenProcessPool):
        list(decode_jobs(((_die, i) for i in range(60)), workers=2, chunk_size=2))
    assert len(made) == 1 and _left(made) == []


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_an_exception_in_the_consumer_leaves_no_shared_memory(error, made):
    results = decode_jobs(((_die, i) for i in range(29)), workers=2, chunk_size=2)
    with pytest.raises(error):
        for index, value in results:
            assert value.tolist() == [index] * 8
            if index == 20:
                raise error("the consumer failed")
    results.close()  # as write_rows does on its way out
    assert len(made) == 1 and _left(made) == []


def _jobs_failing_at(n):
    for i in range(n):
        yield _decode, i
    raise ValueError("planning failed")


@pytest.mark.parametrize("at", [3, 200])  # while the workers start; later, past the ring
def test_an_error_planning_jobs_ends_the_pool_and_leaves_nothing(at, made):
    import psutil

    with pytest.raises(ValueError, match="planning failed"):
        for _ in decode_jobs(_jobs_failing_at(at), workers=2, chunk_size=2):
            pass
    assert _left(made) == []
    assert [p for p in psutil.Process().children(recursive=True) if p.status() != "zombie"
            and "resource_tracker" not in " ".join(p.cmdline())] == []


def test_each_file_kind_names_its_decoders_module_for_the_fork_server():
    """preprocess starts the fork server importing ``decoder_module`` before this process
    makes a decoder: the name must be the module doing the decoder's work (its class's, or
    the one its ``preload`` names)."""
    from mmcli import modalities
    from mmcli.config import PrepConfig

    kinds = [k for k in modalities.REGISTRY.values() if k.decodes]
    assert {k.kind for k in kinds} >= {"image", "audio"}
    for kind in kinds:
        decoder = kind.decoder(PrepConfig())
        assert kind.decoder_module == (getattr(decoder, "preload", None)
                                       or type(decoder).__module__)


def test_a_chunk_of_one_shape_crosses_as_one_written_object(made):
    """A worker's usual chunk (arrays of one shape and dtype) is one Written with no per-item
    marker; its odd items (a fault, a note, another shape) travel beside it by position."""
    import pickle

    arrays = [np.full((2, 3), i, np.uint8) for i in range(6)]
    results = [*arrays[:2], ("unreadable", "broken"), Noted(arrays[3], ("n",)),
               np.ones(4, np.float32), arrays[5]]
    expected = [r.copy() if isinstance(r, np.ndarray) else r for r in results]
    block = ring.Ring(1, 6, 64)
    try:
        place = block.take()
        written = pickle.loads(pickle.dumps(ring.write(place, list(results))))
        assert isinstance(written, ring.Written) and written.count == 6
        assert sorted(written.others) == [2, 3, 4]
        out = block.read(place, written)
    finally:
        attached = ring._ATTACHED.pop(block.memory.name, None)  # the "worker's" mapping
        if attached is not None:
            attached.close()
        block.close()
    assert [o.tolist() if isinstance(o, np.ndarray) else o for o in out[:3]] == [
        expected[0].tolist(), expected[1].tolist(), expected[2]]
    assert out[3].value.tolist() == expected[3].value.tolist() and out[3].notes == ("n",)
    assert out[4].dtype == np.float32 and out[4].tolist() == [1.0] * 4
    assert out[5].tolist() == expected[5].tolist()
    assert _left(made) == []


def _fill(payload):
    return np.full((16,), payload, np.int32)


def test_borrowed_arrays_stay_valid_for_a_chunk_of_further_results(made):
    """With ``borrow`` the arrays are views of the ring's slots: each must keep its value
    while ``chunk_size`` further results are taken (a row being put together), even when the
    workers have time to decode the chunks after it; and they are read-only."""
    import time

    size = 4
    window: list = []
    results = decode_jobs(((_fill, i) for i in range(80)), workers=2, chunk_size=size,
                          borrow=True)
    for index, value in results:
        window = [*window[-size:], (index, value)]
        if index % size == 0:
            time.sleep(0.03)  # the workers may fill every free slot meanwhile
        assert [int(v[0]) for _, v in window] == [i for i, _ in window]
        assert all((v == i).all() for i, v in window)
    assert index == 79 and not value.flags.writeable
    assert len(made) == 1 and _left(made) == []
