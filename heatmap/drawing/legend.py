"""The legend panel burned into exported PNGs: what the map shows, n, page, dates, segment, colour scale.

Fonts: Japanese page paths and segment values need a CJK font. The first of these that exists is used:
`$HEATMAP_FONT`, Noto Sans CJK / IPA / Takao (Debian `fonts-noto-cjk`, `fonts-ipafont`; on Streamlit Community
Cloud list `fonts-noto-cjk` in packages.txt), macOS Hiragino, Windows Meiryo / MS Gothic, then DejaVu Sans,
then Pillow's built-in font. When the chosen font lacks a character, the text is shown percent-encoded
(as a URL would carry it) rather than as empty boxes, so the legend stays exact and readable.
"""

from __future__ import annotations

import glob
import os
import re
import urllib.parse
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from heatmap.drawing.ramps import Lut

FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont

_CJK_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKjp-Regular.otf",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",
    "/System/Library/Fonts/ヒラギノ角ゴシック W3.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "C:/Windows/Fonts/meiryo.ttc",
    "C:/Windows/Fonts/msgothic.ttc",
)
_CJK_GLOBS = ("/usr/share/fonts/**/*CJK*.tt[cf]", "/usr/share/fonts/**/*CJK*.otf", "/usr/share/fonts/**/ipa*.ttf")
_LATIN_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
_MISSING = "\U0010fffd"  # a private-use code point no font draws: its rendering is the "no glyph" box


@cache
def font_path() -> str | None:
    """The font file the legend uses, or None for Pillow's built-in font."""
    env = os.environ.get("HEATMAP_FONT")
    if env and Path(env).is_file():
        return env
    for candidate in _CJK_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    for pattern in _CJK_GLOBS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    for candidate in _LATIN_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    return None


@cache
def legend_font(size: int) -> FontType:
    path = font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _mask(font: FontType, char: str) -> bytes:
    box = 64
    image = Image.new("L", (box, box))
    ImageDraw.Draw(image).text((8, 8), char, font=font, fill=255)
    return image.tobytes()


@cache
def _has_glyph(font: FontType, char: str) -> bool:
    return _mask(font, char) != _mask(font, _MISSING)


def displayable(text: str, font: FontType) -> str:
    """`text` if the font draws every character, else percent-encoded (ASCII stays as is)."""
    if all(ord(ch) < 128 or _has_glyph(font, ch) for ch in text):
        return text
    return urllib.parse.quote(text, safe="".join(chr(c) for c in range(32, 127) if chr(c) != "%"))


def _line_height(font: FontType) -> int:
    _, top, _, bottom = font.getbbox("Ag漢/")
    return int(bottom - min(top, 0)) + 2


_CJK = "\u3000-\u30ff\u3400-\u9fff\uff00-\uffef"
_BREAKABLE = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+|\s+")  # a CJK character, a word, or a run of spaces


def wrap(text: str, font: FontType, max_width: float) -> list[str]:
    """Greedy wrap to `max_width` px, between words and between any two CJK characters (Japanese has no
    spaces); a single over-long word is kept on its own line."""
    lines: list[str] = []
    current = ""
    for token in _BREAKABLE.findall(text):
        candidate = current + token
        if current.strip() and not token.isspace() and font.getlength(candidate.rstrip()) > max_width:
            lines.append(current.rstrip())
            current = token
        else:
            current = candidate
    lines.append(current.rstrip())
    return lines


def legend_panel(
    width: int,
    lines: Sequence[str],
    ramp: Lut,
    low_label: str,
    high_label: str,
    scale: float = 1.0,
    notes: Sequence[str] = (),
) -> Image.Image:
    """A white panel `width` px wide: text lines, a colour bar with its end labels, then notes (warnings).

    `scale` is image px per CSS px, so the text is as readable on a dpr-2 screenshot as on a dpr-1 one.
    """
    size = max(12, round(15 * scale))
    font = legend_font(size)
    small = legend_font(max(10, round(13 * scale)))
    pad = round(12 * scale)
    line_h = _line_height(font)
    small_h = _line_height(small)
    room = max(1, width - 2 * pad)
    lines = [part for text in lines for part in wrap(displayable(text, font), font, room)]
    notes = [part for text in notes for part in wrap(displayable(text, small), small, room)]
    bar_h = round(14 * scale)
    height = pad + line_h * len(lines) + pad // 2 + bar_h + small_h + small_h * len(notes) + pad
    panel = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(panel)
    draw.line([(0, 0), (width, 0)], fill=(160, 160, 160), width=max(1, round(scale)))
    y = pad
    for text in lines:
        draw.text((pad, y), text, font=font, fill=(20, 20, 20))
        y += line_h
    y += pad // 2
    bar_w = max(16, min(width - 2 * pad, round(360 * scale)))
    gradient = ramp[np.linspace(0, 255, bar_w).round().astype(np.intp)]
    bar = Image.fromarray(np.ascontiguousarray(np.broadcast_to(gradient[None, :, :], (bar_h, bar_w, 3))))
    panel.paste(bar, (pad, y))
    draw.rectangle([pad - 1, y - 1, pad + bar_w, y + bar_h], outline=(90, 90, 90))
    y += bar_h + 2
    draw.text((pad, y), displayable(low_label, small), font=small, fill=(40, 40, 40))
    high = displayable(high_label, small)
    high_w = draw.textlength(high, font=small)
    draw.text((pad + bar_w - high_w, y), high, font=small, fill=(40, 40, 40))
    y += small_h
    for note in notes:
        draw.text((pad, y), note, font=small, fill=(150, 60, 0))
        y += small_h
    return panel
