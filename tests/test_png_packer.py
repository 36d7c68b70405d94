"""A browser's PNG packed as it is inflated (heatmap/drawing/png_packer.py): Pillow's pixels, a few strips held."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from heatmap.drawing.packed import strip_rows
from heatmap.drawing.png_packer import pack_png
from heatmap.images import ImageError, check_file, load_screenshot, streams_png
from tests.test_images import encode, png_chunk
from tests.test_render import noise, pixels


def _paeth(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    p = a + b - c
    pa, pb, pc = np.abs(p - a), np.abs(p - b), np.abs(p - c)
    return np.where((pa <= pb) & (pa <= pc), a, np.where(pb <= pc, b, c))


def filtered_png(picture: np.ndarray, filters: list[int], chunk: int = 1000, level: int = 6) -> bytes:
    """A PNG of `picture` (rows × columns × 3 or 4, uint8) whose row i uses PNG filter `filters[i % len]` (None,
    Sub, Up, Average, Paeth), its deflate stream cut into IDAT chunks of `chunk` bytes: every way a row can refer
    to its neighbours, across strips and chunks."""
    height, width, channels = picture.shape
    raw = picture.reshape(height, width * channels).astype(np.int32)
    lines = []
    for y in range(height):
        x = raw[y]
        a = np.concatenate([np.zeros(channels, np.int32), x[:-channels]])
        b = raw[y - 1] if y else np.zeros_like(x)
        c = np.concatenate([np.zeros(channels, np.int32), b[:-channels]])
        kind = filters[y % len(filters)]
        predicted = [np.zeros_like(x), a, b, (a + b) // 2, _paeth(a, b, c)][kind]
        lines.append(bytes([kind]) + ((x - predicted) % 256).astype(np.uint8).tobytes())
    stream = zlib.compress(b"".join(lines), level)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if channels == 3 else 6, 0, 0, 0)
    idat = [png_chunk(b"IDAT", stream[i : i + chunk]) for i in range(0, len(stream), chunk)]
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + b"".join(idat) + png_chunk(b"IEND", b"")


def page(width: int, height: int, channels: int) -> np.ndarray:
    """Flat sections, noise and gradients: rows each filter encodes differently."""
    picture = np.full((height, width, channels), 240, np.uint8)
    picture[height // 4 : height // 2] = pixels(noise(width, height // 2 - height // 4, seed=5))[..., :1]
    picture[height // 2 :, :, 0] = np.linspace(0, 255, width).astype(np.uint8)
    picture[: height // 8, : width // 3, :3] = pixels(noise(width // 3, height // 8, seed=6))
    if channels == 4:
        picture[..., 3] = np.linspace(0, 255, height).astype(np.uint8)[:, None]  # partly transparent
    return picture


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4], [4, 3, 2]])
def test_a_png_packed_as_it_inflates_is_the_picture_pillow_decodes(channels: int, filters: list[int]) -> None:
    """Every filter, across strips (a strip is `strip_rows(300)` rows) and IDAT chunks; RGBA flattened onto white
    as load_screenshot does."""
    data = filtered_png(page(300, 3 * strip_rows(300) + 17, channels), filters)
    assert streams_png(data)
    packed = pack_png(data)
    assert (packed.width, packed.height) == (300, 3 * strip_rows(300) + 17)
    assert np.array_equal(pixels(packed.image()), pixels(load_screenshot(data).image))


def test_pillows_own_pngs_pack_to_their_pixels() -> None:
    image = Image.fromarray(page(1440, 700, 3))
    for options in ({}, {"compress_level": 1}, {"optimize": True}):
        data = encode(image, "PNG", **options)
        assert np.array_equal(pixels(pack_png(data).image()), pixels(image))


@pytest.mark.parametrize(
    ("image", "options", "streams"),
    [
        (Image.new("RGB", (300, 300)), {}, True),
        (Image.new("RGBA", (300, 300)), {}, True),
        (Image.new("P", (300, 300)), {}, False),
        (Image.new("L", (300, 300)), {}, False),
        (Image.new("I;16", (300, 300)), {}, False),
        (Image.new("RGB", (300, 300)), {"exif": Image.Exif()}, True),  # an empty EXIF block is no eXIf chunk
    ],
)
def test_which_pngs_are_packed_as_they_inflate(image: Image.Image, options: dict[str, object], streams: bool) -> None:
    assert streams_png(encode(image, "PNG", **options)) is streams


def test_interlaced_exif_and_16_bit_pngs_are_decoded_whole() -> None:
    rgb = filtered_png(page(300, 300, 3), [1])
    header = rgb[8:33]
    interlaced = rgb[:8] + png_chunk(b"IHDR", header[8:20] + b"\x01") + rgb[33:]
    deep = rgb[:8] + png_chunk(b"IHDR", header[8:16] + b"\x10" + header[17:21]) + rgb[33:]
    exif = rgb[:33] + png_chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x00") + rgb[33:]
    assert streams_png(rgb) and not any(map(streams_png, (interlaced, deep, exif)))
    assert not streams_png(encode(Image.new("RGB", (300, 300)), "JPEG"))


def test_a_damaged_or_short_image_stream_is_refused() -> None:
    """As a decode refuses a damaged stream; a stream that ends cleanly before the last row is refused too, where
    Pillow fills the rows it lacks with black."""
    picture = page(300, 900, 3)
    stream = zlib.compress(b"".join(bytes([2]) + row.tobytes() for row in picture.reshape(900, 900)))
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 300, 900, 8, 2, 0, 0, 0))

    def png(idat: bytes) -> bytes:
        return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")

    garbled = bytearray(stream)
    garbled[len(stream) // 2 : len(stream) // 2 + 64] = bytes(64)  # valid CRCs, a broken deflate stream
    short = zlib.compress(b"".join(bytes([2]) + row.tobytes() for row in picture.reshape(900, 900)[:500]))
    bad_filter = zlib.compress(b"".join(bytes([9]) + row.tobytes() for row in picture.reshape(900, 900)))
    for data, reason in ((png(bytes(garbled)), "damaged"), (png(short), "truncated"), (png(bad_filter), "damaged")):
        check_file(data)
        with pytest.raises(ImageError) as refused:
            pack_png(data)
        assert refused.value.reason == reason
        if reason == "damaged":
            with pytest.raises(ImageError):
                load_screenshot(data)
        else:
            assert load_screenshot(data).image.getpixel((5, 899)) == (0, 0, 0)


def test_the_packed_strips_unpack_the_pillow_way_for_a_tall_flat_page() -> None:
    """A flat page deflates a thousand to one: its strips come from the stream a strip at a time."""
    flat = Image.new("RGB", (1000, 20_000), (250, 250, 250))
    packed = pack_png(encode(flat, "PNG"))
    assert packed.height == 20_000 and packed.crop((0, 19_990, 1000, 20_000)).getpixel((5, 5)) == (250, 250, 250)
    assert np.array_equal(pixels(packed.crop((0, 0, 1000, 400))), pixels(flat.crop((0, 0, 1000, 400))))


def test_a_corrupt_header_never_reaches_the_packer() -> None:
    data = bytearray(encode(Image.new("RGB", (300, 300)), "PNG"))
    data[20] ^= 0xFF  # the height, its CRC now wrong
    with pytest.raises(ImageError):
        check_file(bytes(data))


def test_packing_keeps_the_file_intact() -> None:
    data = encode(Image.new("RGB", (300, 300), (1, 2, 3)), "PNG")
    copy = bytes(data)
    pack_png(data)
    assert data == copy and Image.open(io.BytesIO(data)).getpixel((0, 0)) == (1, 2, 3)


def test_a_tall_pages_packing_measures_its_preview_size_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bands a preview's size probe samples are reduced as their strips are unfiltered, so the preview reads
    no strip for its probe; the estimate is within 4 % of the whole reduced copy's JPEG, as the preview's own."""
    import heatmap.drawing.encode as encoding
    from heatmap.drawing.packed import Packed
    from tests.test_render import long_page

    misses, unpacked = [], []
    strip = Packed._strip
    monkeypatch.setattr(Packed, "_strip", lambda self, i, rows: unpacked.append(rows) or strip(self, i, rows))
    for seed in (1000, 1003, 1006):
        page = long_page(seed)
        packed = pack_png(encoding.encode_png(page))
        assert packed.probed is not None and packed.probed.factor == 2
        assert encoding._probed(packed, 2) == packed.probed.jpeg_bytes and not unpacked
        buffer = io.BytesIO()
        page.reduce(2).save(buffer, format="JPEG", quality=encoding.QUALITIES[0])
        misses.append(round(packed.probed.jpeg_bytes / len(buffer.getvalue()) - 1, 3))
    assert all(abs(miss) <= 0.04 for miss in misses), misses
    short = pack_png(encoding.encode_png(long_page(1000).crop((0, 0, 1440, 3000))))
    assert short.probed is None  # probed whole by the preview: a sample would be no cheaper
