"""Encoding rendered maps: a fast full-resolution PNG for download and a small JPEG preview for the browser.

The PNG writer is a plain PNG (8-bit RGB, one zlib stream split over IDAT chunks) built strip by strip: every
scanline uses the "Up" filter (difference to the row above, computed with numpy), which suits screenshots
(long vertical runs of identical rows), and zlib level 1. On a 1440×20000 page it is about twice as fast as
Pillow's encoder at the same size, and it never holds more than one strip of filtered rows in memory.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from collections.abc import Callable

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRIP_ROWS = 512
IDAT_TARGET = 1 << 20  # bytes per IDAT chunk, roughly
PREVIEW_WIDTH = 1200  # px: the viewer fills ~1,350 CSS px of a 1920 px screen; sharper text than 900
PREVIEW_MAX_BYTES = 2_000_000
JPEG_MAX_SIDE = 65_000


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def encode_png(image: Image.Image, compress_level: int = 1) -> bytes:
    """PNG bytes of an RGB image (other modes are converted), Up-filtered, zlib `compress_level` (0-9)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    width, height = image.size
    out = io.BytesIO()
    out.write(PNG_SIGNATURE)
    out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
    compressor = zlib.compressobj(compress_level, zlib.DEFLATED, 15, 9)
    previous = np.zeros(width * 3, dtype=np.uint8)
    pending: list[bytes] = []
    pending_size = 0
    for y0 in range(0, height, STRIP_ROWS):
        y1 = min(height, y0 + STRIP_ROWS)
        rows = np.asarray(image.crop((0, y0, width, y1)), dtype=np.uint8).reshape(y1 - y0, width * 3)
        filtered = np.empty((y1 - y0, width * 3 + 1), dtype=np.uint8)
        filtered[:, 0] = 2  # filter type Up
        np.subtract(rows[0], previous, out=filtered[0, 1:])
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
        previous = rows[-1].copy()
        data = compressor.compress(filtered.data)
        if data:
            pending.append(data)
            pending_size += len(data)
        if pending_size >= IDAT_TARGET:
            out.write(_chunk(b"IDAT", b"".join(pending)))
            pending, pending_size = [], 0
    pending.append(compressor.flush())
    out.write(_chunk(b"IDAT", b"".join(pending)))
    out.write(_chunk(b"IEND", b""))
    return out.getvalue()


def downscale(image: Image.Image, width: int, height: int) -> Image.Image:
    """Bilinear resize to (width, height) in horizontal strips, so a long page never needs a full-height
    intermediate (Pillow resizes in two passes; the first pass alone would be width × source height)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    if image.size == (width, height):
        return image
    out = Image.new("RGB", (width, height), None)
    step = image.height / height
    for y0 in range(0, height, STRIP_ROWS * 4):
        y1 = min(height, y0 + STRIP_ROWS * 4)
        box = (0.0, y0 * step, float(image.width), min(image.height, y1 * step))
        out.paste(image.resize((width, y1 - y0), Image.Resampling.BILINEAR, box=box), (0, y0))
    return out


QUALITIES = (82, 70, 55, 40)
# A JPEG's size relative to quality 82 (measured on tall screenshots and renders: within ±5 %); how it grows with
# the width is measured on the picture itself (about width ** 1.3 for screenshots, ** 2 for noise).
RELATIVE_SIZE = {82: 1.0, 70: 0.8, 55: 0.67, 40: 0.57}
WIDTH_EXPONENT = 1.3  # until a second width is measured
TARGET = 0.95  # aim a little under the budget: the estimate is an estimate
MAX_ENCODES = 6


def preview_jpeg(image: Image.Image, max_width: int = PREVIEW_WIDTH, max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
    """A downscaled JPEG for the browser, at most `max_width` wide and `max_bytes` large.

    The first (width, quality) that fits, in the order quality 82, 70, 55, 40, then the width 20 % smaller and again
    from 82; JPEG's 65,535 px side limit is respected for very long pages. Encoding is most of a preview's time, so
    the sizes are estimated from the encodes made so far and only the likely first fit is encoded: two to four
    encodes instead of up to twenty, landing on the exhaustive choice or one step after it."""
    candidates = [(w, q) for w in _widths(image, min(max_width, image.width)) for q in QUALITIES]
    sizes: dict[int, int] = {}  # candidate -> bytes, for those encoded
    small: dict[int, Image.Image] = {}
    best: tuple[int, bytes] | None = None  # the earliest candidate known to fit

    def encode(at: int) -> bytes:
        width, quality = candidates[at]
        if width not in small:
            height = min(JPEG_MAX_SIDE, max(1, round(image.height * width / image.width)))  # 1 px: squeezed
            small.clear()
            small[width] = downscale(image, width, height)
        buffer = io.BytesIO()
        # Baseline, not progressive: streamed, where progressive holds every coefficient (+120 MB on a tall page)
        # and took 6x as long; the frame arrives whole anyway.
        small[width].save(buffer, format="JPEG", quality=quality)
        data = buffer.getvalue()
        sizes[at] = len(data)
        return data

    at = 0
    while len(sizes) < MAX_ENCODES:
        data = encode(at)
        if len(data) <= max_bytes:
            best = (at, data)
        estimate = _estimator(candidates, sizes)
        stop = best[0] if best else len(candidates)
        ahead = [i for i in range(stop) if i not in sizes and (i > at or best)]
        likely = [i for i in ahead if estimate(i) <= max_bytes * TARGET]
        if not likely:
            if best or not ahead:
                break
            likely = [ahead[-1]]
        at = likely[0]
    if best is not None:
        return best[1]
    return encode(len(candidates) - 1) if len(candidates) - 1 not in sizes else data


def _estimator(candidates: list[tuple[int, int]], sizes: dict[int, int]) -> Callable[[int], float]:
    """Bytes of candidate i, from those encoded: size = s(width) * RELATIVE_SIZE[quality] ** k. s is measured at
    the widths encoded and taken from the nearest as width ** exponent in between or beyond; k (how much this
    picture shrinks with quality) from two qualities at one width, else 1; the exponent from the widest and
    narrowest widths measured, else WIDTH_EXPONENT."""
    by_width: dict[int, dict[int, int]] = {}
    for i, size in sizes.items():
        width, quality = candidates[i]
        by_width.setdefault(width, {})[quality] = size
    k = 1.0
    for at in by_width.values():
        if len(at) > 1:
            (q0, s0), (q1, s1) = max(at.items()), min(at.items())
            k = min(3.0, max(0.3, math.log(s0 / s1) / math.log(RELATIVE_SIZE[q0] / RELATIVE_SIZE[q1])))
    measured = {w: sum(s / RELATIVE_SIZE[q] ** k for q, s in at.items()) / len(at) for w, at in by_width.items()}
    exponent = WIDTH_EXPONENT
    if len(measured) > 1:
        widest, narrowest = max(measured), min(measured)
        exponent = min(4.0, max(0.5, math.log(measured[widest] / measured[narrowest]) / math.log(widest / narrowest)))

    def estimate(i: int) -> float:
        width, quality = candidates[i]
        nearest = min(measured, key=lambda w: abs(math.log(w / width)))
        return float(measured[nearest] * RELATIVE_SIZE[quality] ** k * (width / nearest) ** exponent)

    return estimate


def _widths(image: Image.Image, width: int) -> list[int]:
    """The widths to try, largest first: each 20 % narrower, none under 64 px, no side past JPEG's limit."""
    widths = []
    while True:
        height = round(image.height * width / image.width)
        if height > JPEG_MAX_SIDE and width > 1:
            width = max(1, math.floor(width * JPEG_MAX_SIDE / height))
            continue
        widths.append(width)
        if width <= 64:
            return widths
        width = max(64, round(width * 0.8))


def thumbnail_jpeg(png: bytes, width: int = 320, max_height: int = 480) -> bytes:
    """A small picture of the top of a rendered map (what a list of saved runs shows to recognise each)."""
    with Image.open(io.BytesIO(png)) as image:
        crop_height = min(image.height, round(max_height * image.width / width))
        top = image.crop((0, 0, image.width, crop_height)).convert("RGB")
    small = top.resize((width, max(1, round(crop_height * width / top.width))), Image.Resampling.BILINEAR)
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()
