"""A file appended with direct I/O holds exactly the bytes written, whatever their sizes and
wherever direct I/O is refused; a failed write names the file."""

from __future__ import annotations

import concurrent.futures
import errno
import fcntl
import os

import numpy as np
import pytest

import mmcli.io.direct as direct
from mmcli.io.direct import ALIGN, DirectWriter


@pytest.fixture()
def thread():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        yield pool.submit


def _pieces(seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    sizes = [1, ALIGN - 1, ALIGN, ALIGN + 1, 3 * ALIGN + 7, 128, 12_288, 0, 5]
    return [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes * 3]


@pytest.mark.parametrize("block", [ALIGN, 4 * ALIGN, direct.BLOCK_BYTES])
def test_the_file_holds_exactly_the_bytes_written(tmp_path, thread, block):
    pieces = _pieces(block)
    path = tmp_path / "f.bin"
    writer = DirectWriter(path, thread, block)
    for piece in pieces:
        writer.write(np.frombuffer(piece, np.uint8) if len(piece) % 2 else piece)
    writer.close()
    assert path.read_bytes() == b"".join(pieces)


def test_files_written_one_after_another_with_lent_buffers(tmp_path, thread):
    """A caller writing many files lends the same two buffers to each (no new pages a file):
    each file holds its own bytes (none of the previous file's left in a padded last block),
    and the buffers stay open for the next file, also after a discarded one."""
    buffers = direct.make_buffers(4 * ALIGN)
    for n in range(3):
        pieces = _pieces(10 + n)[: 12 - 3 * n]  # shorter each time
        path = tmp_path / f"f{n}.bin"
        writer = DirectWriter(path, thread, 4 * ALIGN, buffers=buffers)
        for piece in pieces:
            writer.write(piece)
        writer.close()
        assert path.read_bytes() == b"".join(pieces)
        assert not any(buffer.closed for buffer in buffers)
    DirectWriter(tmp_path / "dropped.bin", thread, 4 * ALIGN, buffers=buffers).discard()
    assert not any(buffer.closed for buffer in buffers)
    with pytest.raises(ValueError, match="two of"):
        DirectWriter(tmp_path / "x.bin", thread, 8 * ALIGN, buffers=buffers)


def _direct_io_works(folder) -> bool:
    if not hasattr(os, "O_DIRECT"):
        return False
    try:
        fd = os.open(folder / "probe", os.O_WRONLY | os.O_CREAT | os.O_DIRECT)
    except OSError:
        return False
    try:
        import mmap

        with mmap.mmap(-1, ALIGN) as buffer:
            os.pwrite(fd, buffer, 0)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def test_direct_io_is_used_where_the_file_system_takes_it(tmp_path, thread):
    if not _direct_io_works(tmp_path):
        pytest.skip("this file system has no direct I/O")
    writer = DirectWriter(tmp_path / "f.bin", thread, ALIGN)
    writer.write(b"x" * (3 * ALIGN + 5))
    writer.close()
    assert writer.direct
    assert (tmp_path / "f.bin").read_bytes() == b"x" * (3 * ALIGN + 5)


def test_direct_io_refused_at_the_first_write_falls_back_to_buffered(tmp_path, thread,
                                                                     monkeypatch):
    real = os.pwrite
    refused = []

    def pwrite(fd, data, offset):
        if os.O_DIRECT & fcntl.fcntl(fd, fcntl.F_GETFL):
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real(fd, data, offset)

    if not hasattr(os, "O_DIRECT"):
        pytest.skip("no O_DIRECT on this platform")
    monkeypatch.setattr(direct.os, "pwrite", pwrite)
    pieces = _pieces(1)
    writer = DirectWriter(tmp_path / "f.bin", thread, ALIGN)
    for piece in pieces:
        writer.write(piece)
    writer.close()
    assert (tmp_path / "f.bin").read_bytes() == b"".join(pieces)
    assert not writer.direct and len(refused) <= 1


@pytest.mark.parametrize("sent", [False, True])
def test_the_head_is_rewritten_before_or_after_its_block_was_sent(tmp_path, thread, sent):
    path = tmp_path / "f.bin"
    writer = DirectWriter(path, thread, ALIGN)
    writer.write(b"HEAD-0" + b"." * (3 * ALIGN if sent else 100))
    writer.rewrite_head(b"HEAD-9")
    writer.close()
    assert path.read_bytes() == b"HEAD-9" + b"." * (3 * ALIGN if sent else 100)
    assert (writer.head is not None) == sent


def test_a_failed_write_is_raised_naming_the_file(tmp_path, thread, monkeypatch):
    def full_disk(self, index, length, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(DirectWriter, "_pwrite", full_disk)
    path = tmp_path / "f.bin"
    writer = DirectWriter(path, thread, ALIGN)
    with pytest.raises(OSError) as caught:
        writer.write(b"x" * (2 * ALIGN))  # the second block waits for the first: raised here
        writer.close()
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(path)
    writer.discard()  # as the caller does on an error: nothing left open
    assert writer.fd == -1
