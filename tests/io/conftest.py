"""A fault corpus of tiny image files, written with Pillow into ``tmp_path``."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)
GREEN = (0, 200, 0)


def _noise(width: int, height: int, seed: int = 0) -> Image.Image:
    """Returns: a random RGB image (noise compresses badly, so files have a long body)."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def _patch_png_size(data: bytes, width: int, height: int) -> bytes:
    """Returns: PNG bytes whose IHDR claims ``width x height``, with a valid CRC."""
    assert data[12:16] == b"IHDR"
    ihdr = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


def _write_corpus(root: Path) -> dict[str, Path]:
    """Write one file per case under ``root``. Returns: case name -> path."""
    files: dict[str, Path] = {}

    def path(name: str) -> Path:
        files[name.split(".")[0]] = root / name
        return root / name

    Image.new("RGB", (40, 30), GREEN).save(path("good_jpeg.jpg"), quality=95)
    Image.new("RGB", (40, 30), GREEN).save(path("good_png.png"))
    path("corrupt.jpg").write_bytes(np.random.default_rng(1).bytes(2000))
    noisy = root / "noisy.jpg"
    _noise(40, 30).save(noisy, quality=95)
    whole = noisy.read_bytes()
    path("truncated.jpg").write_bytes(whole[: len(whole) // 2])
    path("zero_bytes.jpg").write_bytes(b"")
    path("text.png").write_text("this is not an image\n")
    Image.new("RGB", (40, 30), BLUE).save(path("png_named_jpg.jpg"), format="PNG")

    rgba = Image.new("RGBA", (40, 30), (*RED, 255))
    rgba.paste((0, 0, 0, 0), (0, 0, 20, 30))  # left half fully transparent
    rgba.save(path("rgba.png"))

    pal = Image.new("P", (40, 30), 1)
    pal.putpalette([0, 0, 0] + list(BLUE) + [0] * 762)
    pal.paste(0, (0, 0, 20, 30))  # left half uses index 0, the transparent one
    pal.save(path("p_transparent.png"), transparency=0)

    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(path("cmyk.jpg"))  # red in CMYK
    gray16 = np.full((30, 40), 65535, dtype=np.uint16)
    gray16[:, 20:] = 32768
    Image.fromarray(gray16).save(path("gray16.png"))
    Image.new("L", (40, 30), 100).save(path("gray_l.png"))
    mono = Image.new("1", (40, 30), 0)
    mono.paste(1, (20, 0, 40, 30))  # right half white
    mono.save(path("mono.png"))

    rotated = Image.new("RGB", (40, 20), RED)
    rotated.paste(BLUE, (20, 0, 40, 20))  # left red, right blue as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    rotated.save(path("exif_rotated.jpg"), exif=exif, quality=95)

    small = root / "small_for_bomb.png"
    Image.new("L", (40, 30), 0).save(small)
    path("bomb.png").write_bytes(_patch_png_size(small.read_bytes(), 100_000, 100_000))
    path("over_limit.png").write_bytes(_patch_png_size(small.read_bytes(), 10_000, 9_000))
    Image.new("RGB", (5, 30), GREEN).save(path("too_small.png"))
    files["missing"] = root / "does_not_exist.jpg"
    (root / "a_directory").mkdir()
    files["directory"] = root / "a_directory"
    return files


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    """Returns: case name -> path of a file in a fresh fault corpus."""
    root = tmp_path / "data"
    root.mkdir()
    return _write_corpus(root)


@pytest.fixture
def made(monkeypatch) -> list[str]:
    """The names of the shared-memory rings this process makes (other processes' blocks are
    not ours), in the order made."""
    from mmcli.io import ring

    names: list[str] = []
    original = ring.Ring.__init__

    def init(self, *args):
        original(self, *args)
        names.append(self.memory.name)

    monkeypatch.setattr(ring.Ring, "__init__", init)
    return names
