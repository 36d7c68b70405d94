"""Screenshot loading: content checks, hostile files, EXIF orientation, colour modes, long pages."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from heatmap.errors import HeatmapError
from heatmap.images import ImageError, load_screenshot, screenshot_from_image, sniff_format


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def test_errors_are_heatmap_errors() -> None:
    assert issubclass(ImageError, HeatmapError)


def test_empty_file() -> None:
    with pytest.raises(ImageError, match=r"empty \(0 bytes\)"):
        load_screenshot(b"")


def test_text_file_named_png() -> None:
    with pytest.raises(ImageError, match=r"^This file is not a PNG, JPEG or WebP image"):
        load_screenshot(b"<html>not a picture</html>\n")


def test_other_image_formats_are_refused() -> None:
    with pytest.raises(ImageError, match="not a PNG, JPEG or WebP"):
        load_screenshot(encode(Image.new("RGB", (10, 10)), "GIF"))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated(fmt: str) -> None:
    rng = np.random.default_rng(0)
    data = encode(Image.fromarray(rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)), fmt)
    with pytest.raises(ImageError, match=r"^The image is truncated"):
        load_screenshot(data[: len(data) // 2])


def test_truncated_inside_the_header() -> None:
    data = encode(Image.new("RGB", (30, 30)), "PNG")
    with pytest.raises(ImageError, match=r"^The image is truncated"):
        load_screenshot(data[:30])


def test_damaged_png_crc() -> None:
    data = bytearray(encode(Image.new("RGB", (30, 30), (1, 2, 3)), "PNG"))
    idat = data.index(b"IDAT")
    data[idat + 6] ^= 0xFF  # flip a byte inside the compressed pixels; the chunk CRC no longer matches
    with pytest.raises(ImageError, match=r"^The image is damaged"):
        load_screenshot(bytes(data))


def test_header_claiming_100000_squared_is_refused_before_decoding() -> None:
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )
    with pytest.raises(ImageError) as caught:
        load_screenshot(bomb)
    assert str(caught.value).startswith("The image is 100000×100000 px (10,000 MP); the limit is 120 MP")


def test_pixel_cap_is_configurable() -> None:
    data = encode(Image.new("RGB", (2000, 1000)), "PNG")
    assert load_screenshot(data, max_pixels=2_000_000).width == 2000
    with pytest.raises(ImageError, match=r"2000×1000 px \(2 MP\); the limit is 1 MP"):
        load_screenshot(data, max_pixels=1_000_000)


def test_webp_header_size_checked() -> None:
    data = encode(Image.new("RGB", (400, 300)), "WEBP", lossless=True)
    with pytest.raises(ImageError, match="400×300 px"):
        load_screenshot(data, max_pixels=100_000)


@pytest.mark.parametrize(
    ("fmt", "options"),
    [("PNG", {}), ("JPEG", {"quality": 95}), ("WEBP", {"lossless": True}), ("WEBP", {"quality": 90})],
)
def test_formats_load_as_rgb(fmt: str, options: dict) -> None:
    data = encode(Image.new("RGB", (64, 48), (200, 100, 50)), fmt, **options)
    shot = load_screenshot(data)
    assert (shot.width, shot.height, shot.image.mode) == (64, 48, "RGB")
    assert shot.format == {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}[fmt]
    assert shot.sha256 == hashlib.sha256(data).hexdigest()
    assert shot.key == f"screenshots/{shot.sha256}.{shot.ext}"
    assert sniff_format(data) == shot.format


def test_exif_orientation_applied() -> None:
    image = Image.new("RGB", (60, 20), (255, 255, 255))
    image.paste((255, 0, 0), (0, 0, 10, 20))  # red stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation 6: the stored picture must be rotated 90° clockwise to display
    shot = load_screenshot(encode(image, "JPEG", exif=exif.tobytes(), quality=95))
    assert (shot.width, shot.height) == (20, 60)
    r, g, b = shot.image.getpixel((10, 3))  # the left stripe is now at the top
    assert r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "1", "I;16"])
def test_png_modes_convert_to_rgb(mode: str) -> None:
    image = Image.new(mode, (20, 10))
    shot = load_screenshot(encode(image, "PNG"))
    assert shot.image.mode == "RGB" and shot.image.size == (20, 10)


def test_transparency_flattens_onto_white() -> None:
    image = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    image.putpixel((0, 0), (10, 20, 30, 255))
    shot = load_screenshot(encode(image, "PNG"))
    assert shot.image.getpixel((3, 3)) == (255, 255, 255)
    assert shot.image.getpixel((0, 0)) == (10, 20, 30)


def test_sixteen_bit_grey_scales_down() -> None:
    image = Image.fromarray(np.full((2, 2), 65535, dtype=np.uint16))
    shot = load_screenshot(encode(image, "PNG"))
    assert shot.image.getpixel((0, 0)) == (255, 255, 255)


def test_cmyk_jpeg() -> None:
    shot = load_screenshot(encode(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG", quality=95))
    r, g, b = shot.image.getpixel((4, 4))
    assert shot.image.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_long_page_loads() -> None:
    image = Image.new("RGB", (1440, 60000), (250, 250, 250))
    shot = load_screenshot(encode(image, "PNG", compress_level=1))
    assert shot.image.size == (1440, 60000)


def test_screenshot_from_image_round_trips() -> None:
    shot = screenshot_from_image(Image.new("RGB", (5, 7), (1, 2, 3)))
    again = load_screenshot(shot.data)
    assert again.sha256 == shot.sha256 and again.image.getpixel((2, 2)) == (1, 2, 3)
