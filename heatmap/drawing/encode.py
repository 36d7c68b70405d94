"""Encoding rendered maps: a fast full-resolution PNG for download and a small JPEG preview for the browser.

The PNG writer is a plain PNG (8-bit RGB, one zlib stream split over IDAT chunks) built strip by strip: every
scanline uses the "Up" filter (difference to the row above, computed with numpy), which suits screenshots
(long vertical runs of identical rows), deflated by ISA-L (the isal package: Intel's deflate, level 1 several
times faster than zlib's level 1 at about its size; the stream is plain zlib, which any PNG reader takes). Strips
are deflated on every core, and it holds a few strips of filtered rows in memory, never the whole page.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np
from isal import isal_zlib
from PIL import Image

from heatmap.cores import usable_cores
from heatmap.drawing.size_probe import ProbedSize, SizeProbe, band_rows, band_spacing, probe_factor

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STRIP_ROWS = 512
IDAT_TARGET = 1 << 20  # bytes per IDAT chunk, roughly
PREVIEW_WIDTH = 1200  # px: the viewer fills ~1,350 CSS px of a 1920 px screen; sharper text than 900
PREVIEW_MAX_BYTES = 2_000_000
JPEG_MAX_SIDE = 65_000


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


Rows = Callable[[int, int], Image.Image]  # rows [y0, y1) of a picture, made when asked for


class Source(Protocol):
    """A picture whose rows are made when asked for: a Pillow image, a packed screenshot (heatmap.drawing.packed),
    a plain page (render.Plain). `crop` returns a new RGB image of the box, as Pillow's does."""

    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    def crop(self, box: tuple[int, int, int, int]) -> Image.Image: ...


def encode_png(image: Image.Image, compress_level: int = 1) -> bytes:
    """PNG bytes of an image (RGB; other modes are converted), as `encode_rows_png`."""
    return encode_rows_png(image.size, lambda y0, y1: image.crop((0, y0, image.width, y1)), compress_level)


def encode_rows_png(size: tuple[int, int], rows: Rows, compress_level: int = 1) -> bytes:
    """PNG bytes of a picture of `size` whose rows `rows` makes (a rendered map paints them), filtered and
    deflated at ISA-L `compress_level` (0-3; higher levels are taken as 3).

    Strips of STRIP_ROWS rows are made, filtered and deflated in parallel threads (Pillow, ISA-L and numpy let
    go of the GIL), each its own raw deflate stream ended on a byte boundary (a sync flush), joined into the one
    zlib stream PNG wants with the checksums combined, as pigz does: a full page saves in about half the time on
    two cores. At most a few strips are in flight, so memory stays one strip per thread."""
    width, height = size
    out = io.BytesIO()
    out.write(PNG_SIGNATURE)
    out.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
    strips = range(0, height, STRIP_ROWS)
    adler, pending, pending_size = 1, [ZLIB_HEADER], len(ZLIB_HEADER)
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        running: deque[Future[tuple[bytes, int, int]]] = deque()
        for y0 in strips:
            y1 = min(height, y0 + STRIP_ROWS)
            running.append(pool.submit(_deflate_strip, rows, y0, y1, min(3, compress_level), y0 == strips[-1]))
            if len(running) <= ENCODE_THREADS:
                continue
            adler, pending_size = _take(running.popleft(), adler, pending, pending_size, out)
        while running:
            adler, pending_size = _take(running.popleft(), adler, pending, pending_size, out)
    pending.append(struct.pack(">I", adler))
    out.write(_chunk(b"IDAT", b"".join(pending)))
    out.write(_chunk(b"IEND", b""))
    return out.getvalue()


ZLIB_HEADER = b"\x78\x01"  # deflate, 32 KiB window, no preset dictionary (the level bits are only a hint)
ENCODE_THREADS = min(4, usable_cores())


def _take(
    done: Future[tuple[bytes, int, int]], adler: int, pending: list[bytes], pending_size: int, out: io.BytesIO
) -> tuple[int, int]:
    """Append a deflated strip in order; write an IDAT chunk once about IDAT_TARGET bytes are pending."""
    data, strip_adler, length = done.result()
    pending.append(data)
    pending_size += len(data)
    if pending_size >= IDAT_TARGET:
        out.write(_chunk(b"IDAT", b"".join(pending)))
        pending.clear()
        pending_size = 0
    return _adler32_combine(adler, strip_adler, length), pending_size


def _deflate_strip(rows: Rows, y0: int, y1: int, level: int, last: bool) -> tuple[bytes, int, int]:
    """Rows [y0, y1) filtered and deflated raw, ending on a byte boundary (the last strip ends the stream); with
    the Adler-32 and length of the filtered bytes. The first row is Sub-filtered (against the pixel to its left)
    and the others Up-filtered (against the row above), so a strip needs no row of another strip."""
    filtered = filter_rows(rows(y0, y1))
    compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15, 9)
    data = compressor.compress(filtered.data) + compressor.flush(isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH)
    return data, isal_zlib.adler32(filtered.data), filtered.nbytes


def filter_rows(strip: Image.Image) -> np.ndarray:
    """A strip's PNG scanlines, each led by its filter type: the first row Sub (less the pixel to its left), the
    others Up (less the row above), so the strip stands alone. `unfilter_rows` undoes it."""
    if strip.mode != "RGB":
        strip = strip.convert("RGB")
    width, height = strip.size
    pixels = np.asarray(strip, dtype=np.uint8).reshape(height, width * 3)
    filtered = np.empty((height, width * 3 + 1), dtype=np.uint8)
    filtered[0, 0] = 1  # filter type Sub
    filtered[1:, 0] = 2  # filter type Up
    filtered[0, 1:4] = pixels[0, :3]
    np.subtract(pixels[0, 3:], pixels[0, :-3], out=filtered[0, 4:])
    np.subtract(pixels[1:], pixels[:-1], out=filtered[1:, 1:])
    return filtered


def unfilter_rows(filtered: np.ndarray, width: int) -> Image.Image:
    """The RGB strip that `filter_rows` filtered (sums modulo 256, as the filters are differences). Row by row:
    numpy's cumulative sum down the rows of a C-ordered strip is ten times slower than adding each row."""
    height = filtered.shape[0]
    pixels = filtered[:, 1:].copy()
    first = pixels[0].reshape(width, 3)
    np.cumsum(first, axis=0, dtype=np.uint8, out=first)
    for row in range(1, height):
        np.add(pixels[row], pixels[row - 1], out=pixels[row])
    return Image.fromarray(pixels.reshape(height, width, 3), "RGB")


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from theirs (zlib's adler32_combine)."""
    base = 65521
    rem = second_length % base
    sum1 = first & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 = (sum1 + (second & 0xFFFF) + base - 1) % base
    sum2 = (sum2 + (first >> 16) + (second >> 16) + base - rem) % base
    return sum1 | (sum2 << 16)


def downscale(image: Source, width: int, height: int) -> Image.Image:
    """Bilinear resize to (width, height) in horizontal strips, so a long page never needs a full-height
    intermediate (Pillow resizes in two passes; the first pass alone would be width × source height), and a packed
    picture is unpacked a strip at a time. The strips are resized on every core (Pillow lets go of the GIL), a
    few at a time, each from the source rows its filter reaches."""
    if isinstance(image, Image.Image) and image.mode != "RGB":
        image = image.convert("RGB")
    if (image.width, image.height) == (width, height):
        return image if isinstance(image, Image.Image) else image.crop((0, 0, width, height))
    out = Image.new("RGB", (width, height), None)
    step = image.height / height
    margin = math.ceil(step) + 2  # beyond the bilinear filter's reach (one output row: `step` source rows)
    rows = STRIP_ROWS * 4 if isinstance(image, Image.Image) else STRIP_ROWS  # what a strip holds: its output

    def strip(y0: int) -> Image.Image:
        y1 = min(height, y0 + rows)
        top, bottom = y0 * step, min(image.height, y1 * step)
        if isinstance(image, Image.Image):  # no copy to make: exactly the whole picture's resize
            return image.resize((width, y1 - y0), Image.Resampling.BILINEAR, box=(0.0, top, image.width, bottom))
        # the rows the filter reaches (Pillow's fixed-point weights of this box may differ by one level)
        first, last = max(0, math.floor(top) - margin), min(image.height, math.ceil(bottom) + margin)
        box = (0.0, top - first, float(image.width), bottom - first)
        return image.crop((0, first, image.width, last)).resize((width, y1 - y0), Image.Resampling.BILINEAR, box=box)

    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        running: deque[tuple[int, Future[Image.Image]]] = deque()
        for y0 in range(0, height, rows):
            running.append((y0, pool.submit(strip, y0)))
            while len(running) > ENCODE_THREADS:
                at, done = running.popleft()
                out.paste(done.result(), (0, at))
        for at, done in running:
            out.paste(done.result(), (0, at))
    return out


QUALITIES = (82, 70, 55, 40)
# A JPEG's size relative to quality 82 (measured on tall screenshots and renders: within ±5 %); how it grows with
# the width is measured on the picture itself (about width ** 1.3 for screenshots, ** 2 for noise).
RELATIVE_SIZE = {82: 1.0, 70: 0.8, 55: 0.67, 40: 0.57}
WIDTH_EXPONENT = 1.3  # until a second width is measured
TARGET = 0.95  # aim a little under the budget: the estimate is an estimate
# The size probe's first guess is within 4 % (tests/test_render.py), and a guess one width too narrow costs a second
# downscale as surely as one too wide: at 0.95 one long page in eight was downscaled twice, at 0.98 one in thirteen.
PROBE_TARGET = 0.98
MAX_ENCODES = 6


def preview_jpeg(image: Source, max_width: int = PREVIEW_WIDTH, max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
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

    at = _likely_first(image, candidates, max_bytes)
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


def _likely_first(image: Source, candidates: list[tuple[int, int]], max_bytes: int) -> int:
    """The first candidate likely to fit, judged from a copy box-reduced to about half the widest candidate
    (heatmap.drawing.size_probe). Each candidate tried costs a downscale from the original, so starting near the
    fit saves those that could not. 0 when no cheap copy can be had."""
    factor = probe_factor(image.width, candidates[0][0])
    if factor < 2 or image.height // factor > JPEG_MAX_SIDE:
        return 0
    measured = _probed(image, factor)
    probe_width = -(-image.width // factor)
    for at, (width, quality) in enumerate(candidates):
        scale = (width / probe_width) ** WIDTH_EXPONENT * RELATIVE_SIZE[quality] / RELATIVE_SIZE[QUALITIES[0]]
        if measured * scale <= max_bytes * PROBE_TARGET:
            return at
    return len(candidates) - 1


def _probed(image: Source, factor: int) -> float:
    """The picture's JPEG bytes at the first quality once reduced by `factor`: what a packed screenshot measured
    while it was read (heatmap.drawing.png_packer), else measured on bands read from it now."""
    known = getattr(image, "probed", None)
    if isinstance(known, ProbedSize) and (known.factor, known.quality) == (factor, QUALITIES[0]):
        return known.jpeg_bytes
    rows = band_rows(factor)

    def band(y0: int) -> Image.Image:
        box = (0, y0, image.width, min(image.height, y0 + rows))
        return image.reduce(factor, box) if isinstance(image, Image.Image) else image.crop(box).reduce(factor)

    probe = SizeProbe(factor, image.height)
    with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
        for reduced in pool.map(band, range(0, image.height, band_spacing(image.height, factor))):
            probe.add(reduced)
    return probe.measured(QUALITIES[0]).jpeg_bytes


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


def _widths(image: Source, width: int) -> list[int]:
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


THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT = 320, 480


def thumbnail_rows(picture_width: int) -> int:
    """Rows at the top of a picture `picture_width` wide that its thumbnail shows."""
    return round(THUMBNAIL_HEIGHT * picture_width / THUMBNAIL_WIDTH)


def thumbnail_jpeg(picture: Image.Image | bytes) -> bytes:
    """A small picture of the top of a rendered map (what a list of saved runs shows to recognise each). Given the
    rendered image rather than its PNG, nothing is decoded again (a 1440 × 20,000 PNG takes 0.3 s to read)."""
    with (
        contextlib.nullcontext(picture)
        if isinstance(picture, Image.Image)
        else Image.open(io.BytesIO(picture)) as image
    ):
        crop_height = min(image.height, thumbnail_rows(image.width))
        top = image.crop((0, 0, image.width, crop_height)).convert("RGB")
    small = top.resize(
        (THUMBNAIL_WIDTH, max(1, round(crop_height * THUMBNAIL_WIDTH / top.width))), Image.Resampling.BILINEAR
    )
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=75)
    return buffer.getvalue()
