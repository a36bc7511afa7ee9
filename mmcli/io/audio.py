"""Read audio files named in a table: decode one to a fixed-length mono float32 waveform.

A file is opened with soundfile (libsndfile, bundled in its wheels: WAV, FLAC, OGG/Vorbis,
MP3 ...), its header checked (duration guard) before any sample is decoded, only the first
``seconds`` of it read, mixed down to mono, resampled with soxr to ``rate`` and cut or
zero-padded to ``round(seconds * rate)`` samples. Every fault becomes a
:class:`~mmcli.errors.CellError` with a stable reason:

========================  =================================================================
``missing``               no such file (see :func:`mmcli.io.paths.resolve_path`)
``not_a_file``            a directory, a FIFO ...
``outside_root``          outside the data folder: never opened
``unreadable``            zero bytes, not audio, or a header libsndfile cannot parse
``unsupported``           a WAV whose codec (format tag) libsndfile cannot decode
``truncated``             fewer samples than the header promises, or a read that fails
``too_long``              longer than ``max_seconds`` by its header (nothing decoded)
``silent``                every sample of the kept part below ``SILENCE`` (1e-4, -80 dBFS)
========================  =================================================================
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import re
import stat
import struct
from pathlib import Path

import numpy as np

from mmcli.errors import CellError, UsageError
from mmcli.io.decode import describe
from mmcli.io.heap import keep_freed_memory

SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3")
SILENCE = 1e-4  # peak amplitude (full scale 1.0) below which a clip is silent: -80 dBFS
# WAVE format tags libsndfile decodes: PCM, MS ADPCM, IEEE float, A-law, mu-law, IMA ADPCM,
# GSM 6.10, G.721, G.723, extensible (its sub-format is checked by libsndfile itself).
WAV_CODECS = {0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0x0031, 0x0040, 0x0014,
              0xFFFE}
# Sample codes whose decoded floats are always finite (no NaN or inf to zero before resampling).
INTEGER_SUBTYPES = frozenset({"PCM_S8", "PCM_16", "PCM_24", "PCM_32", "PCM_U8", "ULAW", "ALAW",
                              "IMA_ADPCM", "MS_ADPCM"})
_BEYOND = object()  # _wav_codec: the fmt chunk may lie after the bytes read so far
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class AudioOptions:
    """How audio is decoded.

    Args:
        rate: Output sampling rate, in Hz.
        seconds: Output length, in seconds (longer clips are cut, shorter ones zero-padded).
        max_seconds: Longest duration accepted, read from the header before any sample is
            decoded (the duration guard).
    """

    rate: int = 16_000
    seconds: float = 1.0
    max_seconds: float = 600.0

    def __post_init__(self) -> None:
        if isinstance(self.rate, bool) or not isinstance(self.rate, int) or self.rate < 1000:
            raise UsageError(
                f"Expected an integer >= 1000 for `rate`. Received: rate={self.rate!r}"
            )
        for name in ("seconds", "max_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise UsageError(
                    f"Expected a positive number for `{name}`. Received: {name}={value!r}"
                )

    @property
    def samples(self) -> int:
        """Samples per decoded waveform."""
        return max(1, round(self.seconds * self.rate))


def load_audio(path: Path | str, options: AudioOptions) -> np.ndarray:
    """Decode one audio file into a mono waveform.

    Args:
        path: The audio file (resolved under the data root by the caller).
        options: Output rate and length, duration guard.

    Returns:
        A C-contiguous float32 array of ``options.samples`` samples in [-1, 1].

    Raises:
        CellError: reason ``missing``, ``not_a_file``, ``unreadable``, ``unsupported``,
            ``truncated``, ``too_long`` or ``silent`` (see the module docstring).
    """
    import soundfile

    try:  # one open per file: O_NONBLOCK so that a FIFO cannot block before it is refused
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        raise _error("missing", path, "file not found") from None
    except OSError as exc:
        raise _error("unreadable", path, describe(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):  # never read a FIFO or device: it may block
            raise _error("not_a_file", path, "not a regular file")
        if info.st_size == 0:
            raise _error("unreadable", path, "empty file (0 bytes)")
        codec = _wav_codec(os.pread(fd, 4096, 0))
        if codec is _BEYOND:  # the fmt chunk is further in: look in the first 64 KB
            codec = _wav_codec(os.pread(fd, 65_536, 0))
        codec = None if codec is _BEYOND else codec
        if codec is not None and codec not in WAV_CODECS:
            raise _error("unsupported", path, f"WAV codec 0x{codec:04x} is not supported")
        with soundfile.SoundFile(fd, closefd=False) as sound:
            return _decode(sound, path, options)
    except CellError:
        raise
    except soundfile.LibsndfileError as exc:
        text = describe(exc).split(": ", 1)[-1] if "Error opening" in str(exc) else describe(exc)
        reason = "truncated" if "malformed" in text.lower() else "unreadable"
        raise _error(reason, path, text) from None
    except (RuntimeError, OSError, ValueError) as exc:
        raise _error("truncated", path, describe(exc)) from None
    finally:
        os.close(fd)


def _decode(sound, path: Path, options: AudioOptions) -> np.ndarray:
    rate, frames = int(sound.samplerate), int(sound.frames)
    if rate <= 0:
        raise _error("unreadable", path, f"sampling rate {rate} Hz in the header")
    if frames / rate > options.max_seconds:
        raise _error("too_long", path, f"{frames / rate:.1f} s is more than "
                                       f"max_audio_seconds={options.max_seconds:g}")
    short = _SHORT_DATA.search(sound.extra_info or "")
    if short and int(short.group(1)) > int(short.group(2)):
        raise _error("truncated", path, f"the data chunk holds {short.group(2)} of "
                                        f"{short.group(1)} bytes")
    wanted = min(frames, math.ceil(options.seconds * rate) + 1)
    data = sound.read(wanted, dtype="float32", always_2d=True)
    if len(data) < wanted:
        raise _error("truncated", path, f"{len(data)} of {wanted} frames could be decoded")
    wave = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)  # mono: mean of one = it
    # a NaN or inf sample (else nan_to_num changes nothing); integer codes are always finite
    if sound.subtype not in INTEGER_SUBTYPES and not np.isfinite(wave.sum()):
        wave = np.nan_to_num(wave, nan=0.0, posinf=0.0, neginf=0.0)
    wave = np.ascontiguousarray(wave)
    if rate != options.rate and len(wave):
        import soxr

        wave = soxr.resample(wave, rate, options.rate, quality="HQ")
    return _fit(wave, path, options.samples)


def _fit(wave: np.ndarray, path: Path, samples: int) -> np.ndarray:
    """``wave`` (float32, owned: clipped in place) cut or zero-padded to ``samples`` and
    clipped to [-1, 1]; ``silent`` when no kept sample reaches ``SILENCE``."""
    kept = wave[:samples]
    high, low = (float(kept.max()), float(kept.min())) if len(kept) else (0.0, 0.0)
    if high > 1.0 or low < -1.0:  # clipping is rare: a clip within [-1, 1] changes nothing
        np.clip(kept, -1.0, 1.0, out=kept)
        high, low = min(high, 1.0), max(low, -1.0)
    if not len(kept) or max(high, -low) < SILENCE:
        raise _error("silent", path, f"every sample is below {SILENCE:g} (-80 dBFS)")
    # A copy, not a view of soxr's buffer: a pool chunk's 64 views kept those buffers alive
    # and cost the workers more system time (page faults) than the copy (measured 2026-11-30).
    out = np.empty(samples, np.float32)
    out[: len(kept)] = kept
    out[len(kept):] = 0.0
    return out


def _wav_codec(head: bytes) -> int | None | object:
    """The format tag of a RIFF/WAVE file's ``fmt `` chunk, given the file's first bytes (at
    most 64 KB are looked at), or None (not a WAV, or no fmt chunk in the first 64 KB), or
    ``_BEYOND`` when ``head`` ends before the chunk walk does (read more and ask again)."""
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    at = 12
    while at + 10 <= len(head):
        chunk, size = head[at:at + 4], struct.unpack("<I", head[at + 4:at + 8])[0]
        if chunk == b"fmt ":
            return struct.unpack("<H", head[at + 8:at + 10])[0]
        at += 8 + size + (size & 1)
    return _BEYOND if len(head) == 4096 else None


@dataclasses.dataclass(frozen=True)
class AudioDecoder:
    """A picklable decoder job for :func:`mmcli.io.decode.decode_jobs`: ``decoder(path)`` is
    :func:`load_audio` with these options. In a worker process it first sets the process'
    C heap to keep freed memory (:func:`mmcli.io.heap.keep_freed_memory`, once)."""

    options: AudioOptions
    what = "audio"

    def __call__(self, path: Path | str) -> np.ndarray:
        if multiprocessing.parent_process() is not None:  # a worker of a decoding pool
            keep_freed_memory()
        return load_audio(path, self.options)


def _error(reason: str, path: Path, cause: str) -> CellError:
    """A ``CellError`` whose one-line message names the file and the cause."""
    return CellError(reason, f"cannot decode audio '{path}': {cause}")
