"""A fork server started on a guess (``warm_start``): taken over by the pool's early start
when it guessed the right decoders, restarted when it guessed others, stopped when dropped."""

import multiprocessing
from multiprocessing import forkserver

import pytest

from mmcli.io import server

pytestmark = pytest.mark.skipif("forkserver" not in multiprocessing.get_all_start_methods(),
                                reason="no fork server on this platform")


def _pid() -> int | None:
    return forkserver._forkserver._forkserver_pid


def _modules() -> list[str]:
    return list(forkserver._forkserver._preload_modules)


def test_a_guess_taken_over_keeps_its_server_until_the_last_user_ends():
    with server.warm_start(["mmcli.io.images"]):
        first = _pid()
        assert first is not None
        with server.start_server(["mmcli.io.images"]):
            assert _pid() == first  # the same server: ready sooner
        assert _pid() is None  # the early start was the last user: stopped
    assert _pid() is None


def test_a_guess_of_other_decoders_restarts_the_server_with_the_right_ones():
    with server.warm_start(["mmcli.io.audio"]):
        guessed = _pid()
        with server.start_server(["mmcli.io.images"]):
            assert _pid() not in (None, guessed)
            assert "mmcli.io.images" in _modules() and "mmcli.io.audio" not in _modules()
    assert _pid() is None


def test_a_dropped_guess_stops_the_server_at_once():
    with server.warm_start(["mmcli.io.images"]):
        assert _pid() is not None
        server.release_warm()
        assert _pid() is None
        server.release_warm()  # dropped once only
    assert _pid() is None and server._POOLS[0] == 0
