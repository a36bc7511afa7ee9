"""Tests for mmcli.io.images: the fault corpus, path resolution and batch decoding."""

from __future__ import annotations

import concurrent.futures
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmcli.errors import ImageError, UsageError
from mmcli.io import images
from mmcli.io.images import ImageOptions, decode_images, load_image, resolve_image_path

pytestmark = pytest.mark.filterwarnings("error")  # e.g. a leaked DecompressionBombWarning
SMALL = ImageOptions(size=8)


def _reason(path: Path, options: ImageOptions = SMALL) -> str:
    with pytest.raises(ImageError) as info:
        load_image(path, options)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return info.value.reason


def _solid(array: np.ndarray, colour: tuple[int, int, int], tolerance: int = 3) -> bool:
    return bool(np.all(np.abs(array.astype(int) - colour) <= tolerance))


# ImageOptions


def test_options_defaults_and_round_trip():
    options = ImageOptions()
    assert (options.size, options.max_pixels, options.min_side) == (64, 89_478_485, 8)
    assert ImageOptions.from_dict(options.to_dict()) == options
    assert ImageOptions(background=[1, 2, 3]).background == (1, 2, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": 0}, "Expected a positive integer for `size`. Received: size=0"),
        ({"max_pixels": -1}, "Received: max_pixels=-1"),
        ({"min_side": 2.5}, "Received: min_side=2.5"),
        ({"size": True}, "Received: size=True"),
        ({"background": (0, 0)}, "`background`"),
        ({"background": (0, 0, 256)}, "`background`"),
    ],
)
def test_options_reject_bad_values(kwargs, message):
    with pytest.raises(UsageError, match=message.replace("`", ".").replace("(", ".")):
        ImageOptions(**kwargs)


def test_options_from_dict_rejects_unknown_keys():
    with pytest.raises(UsageError, match="colour"):
        ImageOptions.from_dict({"size": 8, "colour": 1})


# load_image: images that decode


@pytest.mark.parametrize("name", ["good_jpeg", "good_png"])
def test_good_images(corpus, name):
    array = load_image(corpus[name], SMALL)
    assert array.shape == (8, 8, 3) and array.dtype == np.uint8 and array.flags.c_contiguous
    assert _solid(array, (0, 200, 0))


def test_png_with_jpg_extension_decodes(corpus):
    assert _solid(load_image(corpus["png_named_jpg"], SMALL), (0, 0, 255), tolerance=0)


def test_rgba_is_composited_over_background(corpus):
    array = load_image(corpus["rgba"], SMALL)
    assert _solid(array[:, :3], (255, 255, 255), tolerance=0)  # transparent left half
    assert _solid(array[:, 5:], (255, 0, 0), tolerance=0)
    black = load_image(corpus["rgba"], ImageOptions(size=8, background=(0, 0, 0)))
    assert _solid(black[:, :3], (0, 0, 0), tolerance=0)


def test_palette_with_transparency(corpus):
    array = load_image(corpus["p_transparent"], ImageOptions(size=8, background=(10, 20, 30)))
    assert _solid(array[:, :3], (10, 20, 30), tolerance=0)
    assert _solid(array[:, 5:], (0, 0, 255), tolerance=0)


def test_cmyk_jpeg(corpus):
    assert _solid(load_image(corpus["cmyk"], SMALL), (255, 0, 0))


def test_16_bit_grayscale_is_scaled_not_clipped(corpus):
    with Image.open(corpus["gray16"]) as img:
        assert img.mode in ("I;16", "I")
    array = load_image(corpus["gray16"], SMALL)
    assert _solid(array[:, :3], (255, 255, 255), tolerance=0)  # 65535
    assert _solid(array[:, 5:], (128, 128, 128), tolerance=0)  # 32768


def test_grayscale_and_mode_1(corpus):
    assert _solid(load_image(corpus["gray_l"], SMALL), (100, 100, 100), tolerance=0)
    mono = load_image(corpus["mono"], SMALL)
    assert _solid(mono[:, :3], (0, 0, 0), tolerance=0)
    assert _solid(mono[:, 5:], (255, 255, 255), tolerance=0)


def test_exif_orientation_is_applied(corpus):
    # Stored 40x20: left red, right blue. Orientation 6 turns it 90 degrees clockwise,
    # so the left edge comes to the top: red above, blue below.
    array = load_image(corpus["exif_rotated"], ImageOptions(size=16))
    assert _solid(array[:6], (255, 0, 0), tolerance=8)
    assert _solid(array[10:], (0, 0, 255), tolerance=8)


# load_image: faults


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt", "unreadable"),
        ("truncated", "truncated"),
        ("zero_bytes", "unreadable"),
        ("text", "unreadable"),
        ("too_small", "too_small"),
        ("over_limit", "too_large"),
        ("missing", "missing"),
        ("directory", "not_a_file"),
    ],
)
def test_faults(corpus, name, reason):
    assert _reason(corpus[name]) == reason


def test_decompression_bomb_is_refused_fast(corpus):
    start = time.perf_counter()
    assert _reason(corpus["bomb"]) == "too_large"  # header claims 100,000 x 100,000
    assert time.perf_counter() - start < 1.0


def test_max_pixels_is_checked_before_decoding(corpus):
    assert _reason(corpus["good_png"], ImageOptions(size=8, max_pixels=40 * 30 - 1)) == "too_large"
    assert load_image(corpus["good_png"], ImageOptions(size=8, max_pixels=40 * 30)).shape == (
        8,
        8,
        3,
    )


def test_unknown_formats_are_not_tried(tmp_path):
    path = tmp_path / "a.tga"
    Image.new("RGB", (40, 30)).save(path)
    assert _reason(path) == "unreadable"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_fifo_is_not_opened(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    assert _reason(fifo) == "not_a_file"  # would block forever if opened


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs file permissions")
def test_unreadable_permissions(corpus):
    corpus["good_png"].chmod(0)
    assert _reason(corpus["good_png"]) == "unreadable"


# resolve_image_path


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True)
    (root / "imgs" / "a.jpg").write_bytes(b"x")
    (tmp_path / "outside.jpg").write_bytes(b"x")
    return root


def test_resolve_relative_and_absolute_inside(tree):
    expected = (tree / "imgs" / "a.jpg").resolve()
    assert resolve_image_path("imgs/a.jpg", tree) == expected
    assert resolve_image_path("imgs/../imgs/a.jpg", tree) == expected
    assert resolve_image_path(str(expected), tree) == expected


@pytest.mark.parametrize("value", ["../outside.jpg", "imgs/../../outside.jpg", "ABSOLUTE"])
def test_resolve_refuses_outside_root(tree, value):
    outside = tree.parent / "outside.jpg"
    value = str(outside) if value == "ABSOLUTE" else value
    with pytest.raises(ImageError) as info:
        resolve_image_path(value, tree)
    assert info.value.reason == "outside_root"
    assert resolve_image_path(value, tree, allow_outside_root=True) == outside.resolve()


def test_resolve_refuses_symlink_out_of_root(tree):
    link = tree / "imgs" / "link.jpg"
    link.symlink_to(tree.parent / "outside.jpg")
    with pytest.raises(ImageError) as info:
        resolve_image_path("imgs/link.jpg", tree)
    assert info.value.reason == "outside_root"
    assert resolve_image_path("imgs/link.jpg", tree, allow_outside_root=True).name == "outside.jpg"


def test_resolve_outside_root_never_stats(tree, monkeypatch):
    """Nothing outside the root is stat-ed, lstat-ed or opened (only the root's own path may
    be resolved): the answer says nothing about files there."""
    allowed = {str(p) for p in (tree.resolve(), *tree.resolve().parents)} | {str(tree)}
    looked_at = []

    def guard(real):
        def check(path, *args, **kwargs):
            if os.fspath(path) not in allowed:
                looked_at.append(os.fspath(path))
                raise AssertionError(f"{path} was looked at")
            return real(path, *args, **kwargs)
        return check

    def refuse(*args, **kwargs):
        raise AssertionError("the file was looked at")

    for value in ("../outside.jpg", "../no_such_file.jpg", "imgs/../../outside.jpg",
                  str(tree.parent / "outside.jpg")):
        with monkeypatch.context() as patch:
            patch.setattr(os, "stat", guard(os.stat))
            patch.setattr(os, "lstat", guard(os.lstat))
            patch.setattr(os, "open", guard(os.open))
            for name in ("stat", "lstat", "open", "exists", "is_file", "is_dir", "resolve"):
                patch.setattr(Path, name, refuse)
            with pytest.raises(ImageError) as info:
                resolve_image_path(value, tree)
        assert info.value.reason == "outside_root"
    assert looked_at == []


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("imgs/none.jpg", "missing"),
        ("imgs/a.jpg/b.jpg", "missing"),
        ("", "missing"),
        ("  ", "missing"),
        ("a\x00.jpg", "missing"),
        ("imgs", "not_a_file"),
        (".", "not_a_file"),
    ],
)
def test_resolve_faults(tree, value, reason):
    with pytest.raises(ImageError) as info:
        resolve_image_path(value, tree)
    assert info.value.reason == reason
    assert "\n" not in str(info.value)


# decode_images


def _mixed_paths(corpus: dict[str, Path]) -> list[Path]:
    names = [
        "good_jpeg",
        "corrupt",
        "good_png",
        "missing",
        "rgba",
        "truncated",
        "cmyk",
        "directory",
        "gray16",
        "bomb",
        "mono",
        "too_small",
        "exif_rotated",
        "text",
        "zero_bytes",
        "p_transparent",
        "gray_l",
        "over_limit",
        "png_named_jpg",
        "good_png",
    ]
    return [corpus[name] for name in names]


def _expected(path: Path) -> np.ndarray | str:
    try:
        return load_image(path, SMALL)
    except ImageError as exc:
        return exc.reason


def _same(results, paths):
    assert [index for index, _ in results] == list(range(len(paths)))
    for (_, got), path in zip(results, paths, strict=True):
        want = _expected(path)
        if isinstance(want, str):
            assert isinstance(got, ImageError) and got.reason == want and str(path) in str(got)
        else:
            assert isinstance(got, np.ndarray) and np.array_equal(got, want)


@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_decode_images_in_process(corpus, chunk_size):
    paths = _mixed_paths(corpus)
    _same(list(decode_images(paths, SMALL, chunk_size=chunk_size)), paths)


def test_decode_images_with_workers_matches_in_process(corpus):
    paths = _mixed_paths(corpus)
    serial = list(decode_images(paths, SMALL, workers=1, chunk_size=3))
    pooled = list(decode_images(paths, SMALL, workers=2, chunk_size=3))
    _same(pooled, paths)
    for (_, a), (_, b) in zip(serial, pooled, strict=True):
        if isinstance(a, ImageError):
            assert (type(b), b.reason, str(b)) == (ImageError, a.reason, str(a))
        else:
            assert np.array_equal(a, b)


def test_decode_images_unexpected_error_becomes_unreadable():
    results = list(decode_images([None], SMALL))  # type: ignore[list-item]
    assert results[0][0] == 0 and isinstance(results[0][1], ImageError)
    assert results[0][1].reason == "unreadable"


def test_decode_images_empty_and_bad_chunk_size():
    assert list(decode_images([], SMALL, workers=2)) == []
    with pytest.raises(UsageError, match="chunk_size"):
        decode_images([], SMALL, chunk_size=0)


def test_decode_images_keeps_at_most_two_chunks_per_worker_in_flight(tmp_path, monkeypatch):
    class CountingPool:
        """Runs tasks at once; counts submissions so the test can see the look-ahead."""

        def __init__(self, max_workers, mp_context, initializer=None, initargs=()):
            self.submitted = 0
            pools.append(self)

        def submit(self, fn, *args):
            self.submitted += fn is not int  # not the no-ops that start the workers early
            future = concurrent.futures.Future()
            future.set_result(fn(*args))
            return future

        def shutdown(self, wait, cancel_futures):
            pass

    pools: list[CountingPool] = []
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", CountingPool)
    paths = [tmp_path / f"{i}.jpg" for i in range(100)]
    for index, result in decode_images(paths, SMALL, workers=3, chunk_size=2):
        assert result.reason == "missing"
        assert pools[0].submitted <= index // 2 + 1 + 2 * 3 - 1
    assert pools[0].submitted == 50


def test_module_imports_neither_tensorflow_nor_pandas():
    code = (
        "import sys, mmcli.io.images; "
        "assert not {'tensorflow', 'pandas'} & set(sys.modules), 'heavy import'"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(images.__file__).parents[2])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_resolve_symlink_loop_is_unreadable(tree):
    (tree / "loop.jpg").symlink_to(tree / "loop.jpg")
    with pytest.raises(ImageError) as info:
        resolve_image_path("loop.jpg", tree)
    assert info.value.reason == "unreadable"


def test_notes_stay_with_their_file_when_a_chunk_is_decoded_at_once(tmp_path):
    """One warnings context serves a whole chunk: each file still gets only its own notes."""
    import struct
    import zlib

    from mmcli.io.decode import Noted, decode_jobs
    from mmcli.io.images import ImageDecoder

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(buffer, "PNG")
    data = buffer.getvalue()
    body = struct.pack(">II", 0, 0)  # an acTL chunk with no frames: Pillow warns, decodes
    chunk = struct.pack(">I", 8) + b"acTL" + body + struct.pack(">I", zlib.crc32(b"acTL" + body))
    at = data.index(b"IDAT") - 4
    (tmp_path / "w.png").write_bytes(data[:at] + chunk + data[at:])
    Image.new("RGB", (16, 16)).save(tmp_path / "ok.png")
    names = ["ok.png", "w.png", "ok.png", "w.png", "missing.png", "ok.png"]
    decoder = ImageDecoder(ImageOptions(size=8))

    results = [r for _, r in decode_jobs([(decoder, str(tmp_path / n)) for n in names])]

    noted = [isinstance(r, Noted) for r in results]
    assert noted == [False, True, False, True, False, False]
    assert all(len(r.notes) == 1 and "w.png" in r.notes[0] for r in results if isinstance(r, Noted))
    assert getattr(results[4], "reason", None) == "missing"
