"""The C heap of a decoding worker process: freed memory kept for the next chunk instead of
handed back to the operating system after each one.

A worker holds a chunk's decoded arrays (64 of them, 64 KB each for a second of 16 kHz audio)
and frees them together; glibc's default policy then trims the heap's top and maps
blocks of a few MB afresh for each chunk, and every page touched again is a page fault. On the
2-core machine that was a third of an audio worker's CPU time in the kernel (measured
2026-11-30: workers' system time 0.41-0.59 s for 5,000 files, 0.13-0.21 s with the heap kept).
"""

from __future__ import annotations

import functools

# mallopt parameters (glibc's malloc.h) and the values set
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
SETTINGS = (
    (M_TRIM_THRESHOLD, 256 * 2**20),  # free top of heap kept up to this much
    (M_TOP_PAD, 16 * 2**20),  # the heap grows by this much at least
    (M_MMAP_THRESHOLD, 32 * 2**20),  # blocks below this size come from the heap (glibc's max)
)


@functools.cache
def keep_freed_memory() -> bool:
    """Set this process' C heap to keep freed memory (glibc ``mallopt``), once.

    Returns:
        Whether every setting was taken: False where the C library has no ``mallopt``
        (macOS, Windows) or ignores it (musl), which changes nothing else.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(option, value) == 1 for option, value in SETTINGS)
