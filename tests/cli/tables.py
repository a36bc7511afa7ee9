"""Tables the CLI tests of the decoding pool's start-up share."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image


def png_table(folder: Path, rows: int, missing_at: int | None = None) -> Path:
    """``folder/data.csv``: ``rows`` rows over one tiny PNG (a large table that decodes in a
    blink); the row ``missing_at`` names a file that does not exist."""
    Image.new("RGB", (8, 8), (200, 30, 30)).save(folder / "red.png")
    table = folder / "data.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "image", "text", "label"])
        for i in range(rows):
            image = "gone.png" if i == missing_at else "red.png"
            writer.writerow([f"r{i}", image, f"item {i}", "a" if i % 2 else "b"])
    return table
