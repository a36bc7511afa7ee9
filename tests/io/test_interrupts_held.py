"""mmcli.io.ring.interrupts_held: a Ctrl-C while the ring is being made (or unlinked) is
delivered once the block is done, so the block is never made and then lost (a Ctrl-C
between CPython's shm_open and its registration left it in /dev/shm for good)."""

import os
import signal
import threading
import time

import pytest

from mmcli.io.ring import interrupts_held

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or not callable(signal.getsignal(signal.SIGINT)),
    reason="needs Python's SIGINT handler in the main thread")


def test_a_ctrl_c_inside_is_raised_once_the_block_is_done():
    done = []
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # Python runs a handler between two bytecodes: here, held
            done.append("rest of the block")
    assert done == ["rest of the block"]
    assert signal.getsignal(signal.SIGINT) is handler


def test_nothing_is_raised_without_a_signal_and_handlers_stay():
    handler = signal.getsignal(signal.SIGINT)
    with interrupts_held():
        pass
    assert signal.getsignal(signal.SIGINT) is handler
