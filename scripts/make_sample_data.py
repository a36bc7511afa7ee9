"""Write a small image+text dataset where only fusing both modalities predicts the label.

Usage::

    python scripts/make_sample_data.py [--out sample_data] [--seed 0] [--rows 480]

Writes ``<out>/data.csv`` (columns ``id,image,text,label,split``) and
``<out>/images/<id>.jpg`` (64x64 RGB JPEG, quality 90). The same seed gives
byte-identical files. Only numpy, Pillow and the standard library are used.

Each row has:

- an image: a noisy grey background, ONE main shape (circle, square or
  triangle, 18-34 px) that is red-ish or blue-ish, and one small (6-10 px)
  green or yellow distractor shape;
- a text: a short sentence with exactly ONE mood word, from the happy group
  (happy, joyful, cheerful, glad, delighted) or the sad group (sad, gloomy,
  unhappy, somber, miserable), among distractor words that carry no label
  information (colour words unrelated to the image, shape words, nouns);
- a label ``f"{colour}_{mood}"``: red_happy, red_sad, blue_happy or blue_sad,
  balanced (120 each for 480 rows). An image-only or a text-only model can
  reach about 50% accuracy; a model that fuses both can reach about 100%;
- a split: 75% train / 25% test within each label.

Three rows are deliberately messy, to show how mmcli reports bad rows. All
three are in the train split:

- ``ex0001``: its image file is not written (missing file);
- ``ex0002``: its image file holds 16 random bytes (corrupt image);
- ``ex0003``: its text is empty.

A second table, ``<out>/four.csv`` (columns ``id,image,text,audio,size,label,split``),
gives the same rows (same ids, images, texts and splits) two more modalities and a label
that needs all four:

- an audio file ``<out>/audio/<id>.wav`` (8 kHz mono 16-bit WAV, 0.4 s): a tone in noise,
  LOW (200-330 Hz) or HIGH (800-1300 Hz);
- a number ``size`` in [0, 100): SMALL below 50, LARGE from 50 (tabular);
- a label ``f"{colour}_{mood}_{pitch}_{size}"``, e.g. ``red_happy_low_large``: 16 classes,
  30 rows each for 480 rows (each data.csv label split evenly over the 4 pitch x size
  combinations). Each modality alone knows one of the four halvings, so it can reach about
  1/8 accuracy; only a model using all four reaches about 100%.
- one more messy row: ``ex0004``'s audio is digital silence (audio ``silent``).

``data.csv`` and its images are written first, exactly as without ``four.csv`` (its own random
stream, seed + 1, draws the audio and sizes).

The output folder is replaced only if it is missing, empty, or holds a
``data.csv`` (a folder this script wrote); anything else is refused.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 64
JPEG_QUALITY = 90
TRAIN_FRACTION = 0.75
COLUMNS = ("id", "image", "text", "label", "split")
MISSING_IMAGE_ID, CORRUPT_IMAGE_ID, EMPTY_TEXT_ID = "ex0001", "ex0002", "ex0003"
FOUR_COLUMNS = ("id", "image", "text", "audio", "size", "label", "split")
AUDIO_RATE, AUDIO_SECONDS, SILENT_AUDIO_ID = 8000, 0.4, "ex0004"
PITCHES = {"low": (200.0, 330.0), "high": (800.0, 1300.0)}  # tone frequency, Hz
SIZES = {"small": (0.0, 50.0), "large": (50.0, 100.0)}

# Inclusive (low, high) per RGB channel.
MAIN_COLOURS = {
    "red": ((200, 255), (0, 70), (0, 70)),
    "blue": ((0, 70), (0, 90), (200, 255)),
}
DISTRACTOR_COLOURS = {
    "green": ((0, 70), (160, 255), (0, 70)),
    "yellow": ((200, 255), (200, 255), (0, 60)),
}
SHAPES = ("circle", "square", "triangle")
MOODS = {
    "happy": ("happy", "joyful", "cheerful", "glad", "delighted"),
    "sad": ("sad", "gloomy", "unhappy", "somber", "miserable"),
}
LABELS = tuple(f"{colour}_{mood}" for colour in MAIN_COLOURS for mood in MOODS)

# Filler words: none of them is or contains a mood word.
COLOUR_WORDS = ("red", "blue", "green", "yellow")
SHAPE_WORDS = ("circle", "square", "triangle", "ring", "star")
NOUNS = ("kite", "dog", "bicycle", "teapot", "lantern", "boat", "letter", "umbrella", "train")
PLACES = ("bridge", "market", "station", "river", "library", "hill", "harbour", "kitchen")
ADJECTIVES = ("old", "small", "wooden", "tall", "distant", "painted", "narrow", "quiet")
TEMPLATES = (
    "a {mood} {colour} {noun} near the {adj} {place}",
    "the {noun} by the {place} felt {mood} beside a {colour} {shape}",
    "{mood} faces around a {colour} {shape} at the {place}",
    "we saw a {adj} {colour} {noun} and everyone was {mood}",
    "a {shape} drawn in {colour} chalk made the {noun} look {mood}",
    "my {adj} {noun} seemed {mood} under the {colour} {shape}",
    "near the {place} a {colour} {noun} waited and the crowd was {mood}",
    "the {adj} {shape} on the {noun} was {colour} and the mood was {mood}",
)


def assign_labels(rng: np.random.Generator, rows: int) -> list[str]:
    """Return `rows` labels, the same number of each, in a random order.

    Args:
        rng: The random generator.
        rows: Number of rows, a multiple of the number of labels.

    Returns:
        One label per row.
    """
    labels = np.repeat(np.array(LABELS), rows // len(LABELS))
    return [str(label) for label in rng.permutation(labels)]


def assign_splits(rng: np.random.Generator, ids: list[str], labels: list[str]) -> list[str]:
    """Split each label 75% train / 25% test; the messy rows always go to train.

    Args:
        rng: The random generator.
        ids: Row ids.
        labels: One label per row.

    Returns:
        "train" or "test" per row.
    """
    messy = {MISSING_IMAGE_ID, CORRUPT_IMAGE_ID, EMPTY_TEXT_ID}
    splits = ["test"] * len(ids)
    for label in LABELS:
        members = [i for i, row_label in enumerate(labels) if row_label == label]
        first = [i for i in members if ids[i] in messy]
        rest = [members[j] for j in rng.permutation(len(members)) if ids[members[j]] not in messy]
        for i in (first + rest)[: round(TRAIN_FRACTION * len(members))]:
            splits[i] = "train"
    return splits


def random_colour(rng: np.random.Generator, ranges: tuple[tuple[int, int], ...]) -> tuple:
    """Return an RGB tuple drawn uniformly within inclusive per-channel ranges."""
    return tuple(int(rng.integers(low, high + 1)) for low, high in ranges)


def draw_shape(draw: ImageDraw.ImageDraw, kind: str, box: tuple[int, int, int], fill: tuple):
    """Draw a filled circle, square or triangle of side `size` at (x, y) = `box[:2]`."""
    x, y, size = box
    right, bottom = x + size - 1, y + size - 1
    if kind == "circle":
        draw.ellipse((x, y, right, bottom), fill=fill)
    elif kind == "square":
        draw.rectangle((x, y, right, bottom), fill=fill)
    else:
        draw.polygon(((x + (size - 1) / 2, y), (x, bottom), (right, bottom)), fill=fill)


def make_image(rng: np.random.Generator, colour: str) -> Image.Image:
    """Return a noisy grey 64x64 image with one main shape in `colour` and a small distractor.

    Args:
        rng: The random generator.
        colour: "red" or "blue", the colour of the main shape.

    Returns:
        An RGB image.
    """
    grey = int(rng.integers(90, 171))
    image = Image.new("RGB", (IMAGE_SIZE, IMAGE_SIZE), (grey, grey, grey))
    draw = ImageDraw.Draw(image)
    size = int(rng.integers(18, 35))
    main = (
        int(rng.integers(0, IMAGE_SIZE - size + 1)),
        int(rng.integers(0, IMAGE_SIZE - size + 1)),
    )
    kind = str(rng.choice(SHAPES))
    draw_shape(draw, kind, (*main, size), random_colour(rng, MAIN_COLOURS[colour]))

    small = int(rng.integers(6, 11))
    for _ in range(20):  # look for a spot clear of the main shape
        spot = (
            int(rng.integers(0, IMAGE_SIZE - small + 1)),
            int(rng.integers(0, IMAGE_SIZE - small + 1)),
        )
        clear_x = spot[0] + small + 2 <= main[0] or spot[0] >= main[0] + size + 2
        clear_y = spot[1] + small + 2 <= main[1] or spot[1] >= main[1] + size + 2
        if clear_x or clear_y:
            break
    distractor = str(rng.choice(sorted(DISTRACTOR_COLOURS)))
    draw_shape(
        draw,
        str(rng.choice(SHAPES)),
        (*spot, small),
        random_colour(rng, DISTRACTOR_COLOURS[distractor]),
    )

    noise = rng.normal(0.0, 8.0, size=(IMAGE_SIZE, IMAGE_SIZE, 3))
    pixels = np.clip(np.asarray(image, dtype=np.float64) + noise, 0, 255).round().astype(np.uint8)
    return Image.fromarray(pixels)


def make_text(rng: np.random.Generator, mood: str) -> str:
    """Return a short sentence with exactly one word from the `mood` group.

    Args:
        rng: The random generator.
        mood: "happy" or "sad".

    Returns:
        A lowercase sentence.
    """
    template = str(rng.choice(TEMPLATES))
    text = template.format(
        mood=str(rng.choice(MOODS[mood])),
        colour=str(rng.choice(COLOUR_WORDS)),
        shape=str(rng.choice(SHAPE_WORDS)),
        noun=str(rng.choice(NOUNS)),
        place=str(rng.choice(PLACES)),
        adj=str(rng.choice(ADJECTIVES)),
    )
    text = re.sub(r"\ba (?=[aeiou])", "an ", text)
    all_moods = {word for words in MOODS.values() for word in words}
    assert sum(word in all_moods for word in text.split()) == 1, text
    return text


def prepare_out(out: Path) -> None:
    """Empty `out` of a previous run (data.csv and images/), or refuse a foreign folder.

    Raises:
        FileExistsError: When `out` is a file, or a non-empty folder without data.csv.
    """
    if out.exists():
        if not out.is_dir():
            raise FileExistsError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / "data.csv").is_file():
            raise FileExistsError(
                f"{out} is not empty and holds no data.csv; refusing to overwrite"
            )
        (out / "data.csv").unlink(missing_ok=True)
        (out / "four.csv").unlink(missing_ok=True)
        for folder in ("images", "audio"):
            if (out / folder).is_dir():
                shutil.rmtree(out / folder)
    (out / "images").mkdir(parents=True, exist_ok=True)


def write_dataset(out: Path, seed: int, rows: int) -> list[dict[str, str]]:
    """Generate the rows and write data.csv and the images under `out`.

    Args:
        out: The output folder (see `prepare_out`).
        seed: The random seed; the same seed writes the same bytes.
        rows: Number of rows, a positive multiple of 4, at least 16.

    Returns:
        The rows written, as dicts keyed by column name.
    """
    rng = np.random.default_rng(seed)
    ids = [f"ex{number:04d}" for number in range(1, rows + 1)]
    labels = assign_labels(rng, rows)
    splits = assign_splits(rng, ids, labels)
    prepare_out(out)
    records = []
    for ident, label, split in zip(ids, labels, splits, strict=True):
        colour, mood = label.split("_")
        image, text = make_image(rng, colour), make_text(rng, mood)
        path = out / "images" / f"{ident}.jpg"
        if ident == CORRUPT_IMAGE_ID:
            path.write_bytes(rng.bytes(16))
        elif ident != MISSING_IMAGE_ID:
            image.save(path, format="JPEG", quality=JPEG_QUALITY)
        if ident == EMPTY_TEXT_ID:
            text = ""
        records.append(
            {
                "id": ident,
                "image": f"images/{ident}.jpg",
                "text": text,
                "label": label,
                "split": split,
            }
        )
    with open(out / "data.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    return records


def write_tone(path: Path, rng: np.random.Generator, pitch: str) -> None:
    """Write a 0.4 s tone of the pitch class in noise (8 kHz mono 16-bit WAV)."""
    t = np.arange(int(AUDIO_RATE * AUDIO_SECONDS)) / AUDIO_RATE
    freq = rng.uniform(*PITCHES[pitch])
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)  # 20 ms fades: no clicks
    signal = rng.uniform(0.2, 0.5) * np.sin(2 * np.pi * freq * t) * fade
    signal = signal + rng.normal(0.0, 0.05, len(t))
    if path.stem == SILENT_AUDIO_ID:
        signal = np.zeros_like(t)
    samples = np.clip(np.round(signal * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(AUDIO_RATE)
        handle.writeframes(samples.tobytes())


def write_four(out: Path, seed: int, records: list[dict[str, str]]) -> list[dict[str, str]]:
    """Write four.csv and audio/ beside data.csv: the same rows with a tone and a size, and
    a 16-class label needing all four modalities (see the module docstring)."""
    rng = np.random.default_rng(seed + 1)
    (out / "audio").mkdir(exist_ok=True)
    combos = [(p, z) for p in PITCHES for z in SIZES]
    extra: dict[str, tuple[str, str]] = {}
    for label in LABELS:  # each data.csv label spread evenly over the 4 combinations
        members = [r["id"] for r in records if r["label"] == label]
        for i, index in enumerate(rng.permutation(len(members))):
            extra[members[index]] = combos[i % len(combos)]
    rows = []
    for record in records:
        ident = record["id"]
        pitch, size_class = extra[ident]
        write_tone(out / "audio" / f"{ident}.wav", rng, pitch)
        size = rng.uniform(*SIZES[size_class])
        rows.append({**record, "audio": f"audio/{ident}.wav", "size": f"{size:.1f}",
                     "label": f"{record['label']}_{pitch}_{size_class}"})
    with open(out / "four.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FOUR_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, write the dataset, and print a summary on stderr."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("sample_data"), help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--rows", type=int, default=480, help="rows, a multiple of 4, >= 16")
    args = parser.parse_args(argv)
    if args.rows < 16 or args.rows % len(LABELS):
        parser.error(f"--rows must be a multiple of {len(LABELS)} and at least 16")
    try:
        records = write_dataset(args.out, args.seed, args.rows)
        four = write_four(args.out, args.seed, records)
    except FileExistsError as error:
        parser.error(str(error))
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    print(f"wrote {len(records)} rows to {args.out} ({size / 1e6:.2f} MB)", file=sys.stderr)
    for label in LABELS:
        counts = {
            split: sum(r["label"] == label and r["split"] == split for r in records)
            for split in ("train", "test")
        }
        print(f"  {label}: {counts['train']} train, {counts['test']} test", file=sys.stderr)
    print(
        f"  messy rows (train): {MISSING_IMAGE_ID} missing image, "
        f"{CORRUPT_IMAGE_ID} corrupt image, {EMPTY_TEXT_ID} empty text",
        file=sys.stderr,
    )
    print(f"  four.csv: {len(four)} rows, {len({r['label'] for r in four})} labels "
          f"(colour x mood x pitch x size); {SILENT_AUDIO_ID} silent audio", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
