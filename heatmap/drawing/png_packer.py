"""A PNG screenshot packed as it is inflated (heatmap.drawing.packed), never decoded whole.

Decoding a 1440 × 20,000 PNG with Pillow holds 115 MB until it is packed, so a server's picture budget let one or
two uploads decode at a time and ten designers' uploads queued. Here the file's deflate stream is inflated a strip
of rows at a time; Pillow's own PNG decoder unfilters each strip (handed as a stored, uncompressed zlib stream
led by the row above it, unfiltered, so Up, Average and Paeth rows see their real neighbour), and the strips are
filtered and deflated for the packed picture on the other cores meanwhile. The pixels are Pillow's, byte for
byte; what is held at once is a few strips. Only what `images.streams_png` accepts comes here: 8-bit RGB or RGBA,
not interlaced, not turned by EXIF.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from isal import isal_zlib
from PIL import Image

from heatmap.drawing.encode import ENCODE_THREADS, PREVIEW_WIDTH, QUALITIES, filter_rows
from heatmap.drawing.packed import LEVEL, Packed, strip_rows
from heatmap.drawing.size_probe import SizeProbe, band_rows, band_spacing, probe_factor
from heatmap.images import STREAMED_COLOUR_TYPES, ImageError, png_chunks, to_rgb

_STORED_BLOCK = 65_535  # bytes a stored deflate block holds at most


def pack_png(data: bytes) -> Packed:
    """`data` (checked by `images.check_file`, accepted by `images.streams_png`) as a packed RGB picture; RGBA
    flattened onto white as `images.to_rgb` does. Raises ImageError when its pixel data is damaged or short."""
    width, height = struct.unpack(">II", data[16:24])
    mode = STREAMED_COLOUR_TYPES[data[25]]
    line = width * len(mode) + 1  # a scanline: its filter type, then the pixels
    rows = strip_rows(width)
    pending = bytearray()
    above = bytes(line - 1)  # the row above the next strip, unfiltered (none above the first: zeros, as PNG says)
    done = 0
    strips: list[bytes] = []
    probe = _size_probe(width, height, rows)
    spacing = band_spacing(height, probe.factor) if probe else 0
    try:
        with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
            running: deque[Future[bytes]] = deque()
            for inflated in _read_ahead(_inflated(data, rows * line)):
                pending += inflated
                while done < height and len(pending) >= min(rows, height - done) * line:
                    count = min(rows, height - done)
                    strip, above = _unfiltered(bytes(pending[: count * line]), above, width, mode)
                    del pending[: count * line]
                    running.append(pool.submit(_pack, strip))
                    if probe and count >= band_rows(probe.factor) and -(-done // spacing) * spacing < done + count:
                        probe.add(to_rgb(strip.crop((0, 0, width, band_rows(probe.factor)))).reduce(probe.factor))
                    while len(running) > ENCODE_THREADS:
                        strips.append(running.popleft().result())
                    done += count
                if done >= height:
                    break
            strips.extend(future.result() for future in running)
    except Exception as exc:  # a damaged stream: isal's error, Pillow's OSError or ValueError
        raise ImageError("damaged", detail=str(exc).strip() or type(exc).__name__) from None
    if done < height:
        raise ImageError("truncated")
    return Packed(width, height, rows, tuple(strips), probe.measured(QUALITIES[0]) if probe else None)


def _size_probe(width: int, height: int, rows: int) -> SizeProbe | None:
    """What a preview of the whole picture would probe (heatmap.drawing.size_probe), fed the top band of each strip
    in which one of its bands starts (one at most: they are further apart than strips), as the strip is unfiltered:
    the preview then reads no strip for it. None for a picture short enough to be probed whole, for strips thinner
    than a band, and when no reduced copy is cheaper than the downscale."""
    factor = probe_factor(width, min(PREVIEW_WIDTH, width))
    if factor < 2 or rows < band_rows(factor) or band_spacing(height, factor) <= rows:
        return None
    return SizeProbe(factor, height)


def _inflated(data: bytes, most: int) -> Iterator[bytes]:
    """The PNG's image data inflated, at most `most` bytes at a time: a flat page's 64 kB chunk inflates to tens
    of MB."""
    inflater = isal_zlib.decompressobj()
    for kind, payload, _ in png_chunks(data):
        if kind != b"IDAT":
            continue
        tail: bytes | memoryview = payload
        while True:
            inflated = inflater.decompress(tail, most)
            tail = inflater.unconsumed_tail
            if inflated:
                yield inflated
            if not tail and len(inflated) < most:  # a cut output may have more to give before the next input
                break


def _read_ahead(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`chunks`, the next made on another thread while this one is used: ISA-L's inflate holds the GIL and Pillow's
    unfilter lets it go, so a strip is inflated while the one before is unfiltered (a 1440 × 20,000 page packed in
    0.36 s instead of 0.40; the GIL that inflating and deflating both hold keeps it from more)."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        coming = reader.submit(next, chunks, None)
        while (chunk := coming.result()) is not None:
            coming = reader.submit(next, chunks, None)
            yield chunk


def _unfiltered(scanlines: bytes, above: bytes, width: int, mode: str) -> tuple[Image.Image, bytes]:
    """Filtered scanlines unfiltered by Pillow's PNG decoder, and their last row (what the next strip's filters
    refer to)."""
    count = len(scanlines) // (len(above) + 1)
    led = _stored_zlib(b"\x00" + above + scanlines)  # the row above, filter type None, then the strip
    image = Image.frombytes(mode, (width, count + 1), led, "zip", mode)
    return image.crop((0, 1, width, count + 1)), image.crop((0, count, width, count + 1)).tobytes()


def _stored_zlib(payload: bytes) -> bytes:
    """`payload` as a zlib stream of stored (uncompressed) deflate blocks: what Pillow's PNG decoder reads."""
    parts = [b"\x78\x01"]
    for start in range(0, len(payload), _STORED_BLOCK):
        block = payload[start : start + _STORED_BLOCK]
        final = start + _STORED_BLOCK >= len(payload)
        parts.append(struct.pack("<BHH", final, len(block), 0xFFFF ^ len(block)) + block)
    parts.append(struct.pack(">I", isal_zlib.adler32(payload)))
    return b"".join(parts)


def _pack(strip: Image.Image) -> bytes:
    return bytes(isal_zlib.compress(filter_rows(to_rgb(strip)).data, LEVEL))
