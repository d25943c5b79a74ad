"""Printable enrolment links: QR codes with a caption (campaign, who it is for, a short
code), as one PNG per link or as one HTML page of them to print and cut.

A caption matters on paper: a stack of unlabelled QR codes cannot be handed to the right
unit. Chinese captions use Noto Sans CJK SC from the ``mplfonts`` package (a dependency
already, for the charts), so a fresh machine needs no system font. The HTML sheet embeds
each code as inline SVG (``segno``), so it prints sharp at any size and needs no files
beside it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path


@dataclass(frozen=True)
class Printed:
    """One link to print: its URL and the caption lines under the code."""

    name: str  # file name without extension
    url: str
    caption: tuple[str, ...]


def _font(size: int):  # noqa: ANN202
    from PIL import ImageFont

    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return ImageFont.truetype(str(path), size)


def png(item: Printed, scale: int = 8) -> bytes:
    """The QR code with its caption lines centred below it."""
    import segno
    from PIL import Image, ImageDraw

    buf = io.BytesIO()
    segno.make(item.url, error="m").save(buf, kind="png", scale=scale, border=2)
    code = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    font = _font(max(14, scale * 2 + 2))
    draw = ImageDraw.Draw(code)
    lines = [ln for ln in item.caption if ln]
    boxes = [draw.textbbox((0, 0), ln, font=font) for ln in lines]
    width = max([code.width] + [b[2] - b[0] + 2 * scale for b in boxes])
    line_h = max([b[3] - b[1] for b in boxes], default=0) + scale
    out = Image.new("RGB", (width, code.height + line_h * len(lines) + scale), "white")
    out.paste(code, ((width - code.width) // 2, 0))
    draw = ImageDraw.Draw(out)
    y = code.height
    for ln, b in zip(lines, boxes, strict=True):
        draw.text(((width - (b[2] - b[0])) // 2 - b[0], y - b[1]), ln, fill="black", font=font)
        y += line_h
    data = io.BytesIO()
    out.save(data, format="PNG")
    return data.getvalue()


def write_pngs(directory: Path, items: Sequence[Printed]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in items:
        path = directory / f"{item.name}.png"
        path.write_bytes(png(item))
        paths.append(path)
    return paths


def sheet(title: str, items: Sequence[Printed]) -> str:
    """One self-contained HTML page: a grid of captioned codes, A4, cut marks by the
    card borders; printing from a browser gives the paper to hand out."""
    import segno

    cards = []
    for item in items:
        svg = segno.make(item.url, error="m").svg_inline(scale=4, border=2, omitsize=True)
        caption = "".join(f"<div>{escape(ln)}</div>" for ln in item.caption if ln)
        cards.append(f"<figure>{svg}<figcaption>{caption}</figcaption></figure>")
    return ("<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
            f"<title>{escape(title)}</title><style>"
            "@page{size:A4;margin:10mm}body{font-family:'Noto Sans CJK SC','Source Han Sans SC',"
            "'Microsoft YaHei',sans-serif;margin:0}h1{font-size:14pt;margin:0 0 4mm}"
            "main{display:grid;grid-template-columns:repeat(3,1fr);gap:4mm}"
            "figure{margin:0;padding:3mm;border:1px dashed #999;text-align:center;break-inside:avoid}"
            "figure svg{width:45mm;height:45mm}figcaption{font-size:8.5pt;line-height:1.3}"
            "figcaption div:first-child{font-weight:bold}</style></head><body>"
            f"<h1>{escape(title)}</h1><main>{''.join(cards)}</main></body></html>")
