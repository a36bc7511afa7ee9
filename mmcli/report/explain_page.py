"""``mmcli explain``'s page: one self-contained ``index.html`` (no external file: pictures are
embedded as data URIs, styles inline) with a card per row: the prediction, the modality bar
(Shapley values), each picture (input and saliency overlay), the highlighted text and the
column scores. Takes plain dicts (the explanation records) and uint8 pictures; PNG encoding
is here too."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import numpy as np

STYLE = """
body{font:14px system-ui,sans-serif;margin:24px;background:#f4f4f6;color:#222}
.card{background:#fff;border-radius:8px;padding:16px;margin:0 0 16px;box-shadow:0 1px 3px #0002}
.card h2{font-size:15px;margin:0 0 8px}.pred{color:#555;margin-bottom:8px}
.bar{display:flex;align-items:center;margin:2px 0}.bar .name{width:90px}
.bar .track{width:240px;height:12px;background:#eee;position:relative;margin-right:8px}
.bar .fill{position:absolute;top:0;height:12px}.pos{background:#2a9d55}.neg{background:#d1495b}
.pictures{display:flex;gap:12px;margin:8px 0}.pictures figure{margin:0}
.pictures img{width:192px;image-rendering:pixelated}figcaption{font-size:12px;color:#666}
.text{line-height:1.9}.text span{padding:1px 3px;border-radius:3px}
table.columns td{padding:1px 8px}
"""


def png_bytes(picture: np.ndarray) -> bytes:
    """A uint8 ``(H, W, 3)`` array as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(picture, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _bar(shapley: Mapping[str, float]) -> str:
    top = max([abs(v) for v in shapley.values()] + [1e-12])
    parts = []
    for name, value in shapley.items():
        width = 50 * abs(value) / top
        left = 50 if value >= 0 else 50 - width
        parts.append(
            f'<div class="bar" data-modality="{escape(name)}"><span class="name">'
            f'{escape(name)}</span><span class="track"><span class="fill '
            f'{"pos" if value >= 0 else "neg"}" style="left:{left:.1f}%;width:{width:.1f}%">'
            f'</span></span><span class="value">{value:+.4f}</span></div>')
    return "".join(parts)


def _text(name: str, tokens: Sequence[Sequence[Any]]) -> str:
    top = max([abs(float(s)) for _, s in tokens] + [1e-12])
    spans = []
    for token, score in tokens:
        alpha = min(1.0, abs(float(score)) / top)
        rgb = "42,157,85" if float(score) >= 0 else "209,73,91"
        spans.append(f'<span title="{float(score):+.4f}" data-score="{float(score):.6f}" '
                     f'style="background:rgba({rgb},{alpha:.2f})">{escape(str(token))}</span>')
    return f'<div class="text" data-input="{escape(name)}"><b>{escape(name)}</b>: ' + \
        " ".join(spans) + "</div>"


def card(record: Mapping[str, Any], pictures: Mapping[str, bytes],
         ordered_tokens: Mapping[str, Sequence[Sequence[Any]]]) -> str:
    """One row's card. ``pictures``: file name -> PNG bytes; ``ordered_tokens``: text input ->
    ``[token, score]`` in text order."""
    true = record.get("true_label")
    lines = [
        f'<div class="card" data-id="{escape(str(record["id"]))}">',
        f'<h2>{escape(str(record["id"]))}</h2>',
        f'<div class="pred">predicted <b>{escape(str(record["label"]))}</b>'
        + (f' · true <b>{escape(str(true))}</b>' if true is not None else "")
        + f' · explaining <b>{escape(str(record["target"]))}</b>: '
        f'p = {record["target_probability"]:.4f} with every modality, '
        f'{record["empty_probability"]:.4f} with none</div>',
        _bar(record["shapley"]),
    ]
    if pictures:
        lines.append('<div class="pictures">' + "".join(
            f'<figure><img alt="{escape(name)}" src="data:image/png;base64,'
            f'{base64.b64encode(data).decode()}"><figcaption>{escape(name)}</figcaption></figure>'
            for name, data in pictures.items()) + "</div>")
    lines += [_text(name, tokens) for name, tokens in ordered_tokens.items()]
    if record.get("columns"):
        lines.append('<table class="columns">' + "".join(
            f"<tr><td>{escape(str(c))}</td><td>{float(s):+.4f}</td></tr>"
            for c, s in record["columns"].items()) + "</table>")
    lines.append("</div>")
    return "\n".join(lines)


def page(title: str, cards: Sequence[str], note: str = "") -> str:
    """The whole page around the cards."""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>{escape(note)}</p>\n" + "\n".join(cards)
            + "\n</body></html>\n")
