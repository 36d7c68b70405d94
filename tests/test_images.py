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


# --- hostile uploads (issue 9, part 5) -------------------------------------------------------------------------


def zip_archive() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<script>alert(1)</script>")
    return buffer.getvalue()


def page(width: int = 300, height: int = 900) -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("fmt", "payload", "label"),
    [
        ("PNG", "zip", "PNG"),
        ("PNG", b"<html><body><script>alert(1)</script></body></html>", "PNG"),
        ("PNG", "gif", "PNG"),
        ("JPEG", "zip", "JPEG"),
        ("JPEG", b"<html>x</html>", "JPEG"),
        ("WEBP", "zip", "WebP"),
    ],
)
def test_polyglots_are_refused(fmt: str, payload: object, label: str) -> None:
    extra = zip_archive() if payload == "zip" else encode(page(), "GIF") if payload == "gif" else payload
    assert isinstance(extra, bytes)
    with pytest.raises(ImageError) as caught:
        load_screenshot(encode(page(), fmt) + extra)
    assert caught.value.reason == "trailing_data"
    assert str(caught.value) == (
        f"The file has {len(extra):,} bytes of other data after the end of the {label} image (a combined or "
        f"disguised file); export the screenshot again as a plain {label}"
    )


def test_a_gif_with_a_png_inside_is_not_a_png() -> None:
    with pytest.raises(ImageError, match=r"^This file is not a PNG, JPEG or WebP image"):
        load_screenshot(encode(page(), "GIF") + encode(page(), "PNG"))


def test_zero_padding_after_the_picture_is_not_a_payload() -> None:
    data = encode(page(), "JPEG") + b"\x00" * 64
    assert load_screenshot(data).width == 300


@pytest.mark.parametrize(
    "options",
    [
        {"quality": 90},
        {"progressive": True, "quality": 80},
        {"restart_marker_blocks": 1, "quality": 80},  # RSTn markers inside the scan data
    ],
)
def test_jpeg_end_is_found_through_scans_and_restarts(options: dict) -> None:
    assert load_screenshot(encode(page(), "JPEG", **options)).height == 900


def test_jpeg_with_an_embedded_thumbnail_is_one_picture() -> None:
    """An EXIF thumbnail is a whole JPEG (with its own end marker) inside an APP1 segment: not the end."""
    thumbnail = encode(page(40, 120), "JPEG")
    exif = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x00" + thumbnail  # enough of a TIFF for a test
    data = encode(page(), "JPEG")
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    assert load_screenshot(data[:2] + app1 + data[2:]).width == 300


@pytest.mark.parametrize(("fmt", "label"), [("PNG", "PNG"), ("WEBP", "WebP")])
def test_animated_pictures_are_refused_not_cut_to_one_frame(fmt: str, label: str) -> None:
    data = encode(page(), fmt, save_all=True, append_images=[page().rotate(180)], duration=100, loop=0)
    with pytest.raises(ImageError) as caught:
        load_screenshot(data)
    assert caught.value.reason == "animated"
    assert str(caught.value) == f"The image is an animated {label}; upload a still screenshot (one frame)"


def test_an_animated_gif_is_not_accepted_at_all() -> None:
    data = encode(page(), "GIF", save_all=True, append_images=[page().rotate(180)], duration=100)
    with pytest.raises(ImageError, match="not a PNG, JPEG or WebP"):
        load_screenshot(data)


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ((1, 100_000), "The image is 1 px wide; a page screenshot must be at least 200 px wide"),
        ((199, 600), "The image is 199 px wide; a page screenshot must be at least 200 px wide"),
        ((100_000, 1), "The image is 100,000 px wide; a page screenshot must be at most 8,192 px wide"),
        ((200, 60_001), "The image is 200×60,001 px, 300 times as tall as it is wide; a page screenshot may be at "
         "most 300 times as tall as it is wide"),
    ],
)  # fmt: skip
def test_shapes_that_are_not_pages_are_refused_before_decoding(size: tuple[int, int], message: str) -> None:
    data = encode(Image.new("L", size), "PNG")
    assert load_screenshot(data).image.size == size  # the CLI and stored pictures do not ask for a page shape
    with pytest.raises(ImageError) as caught:
        load_screenshot(data, page_shape=True)
    assert str(caught.value) == message


@pytest.mark.parametrize("size", [(1440, 60_000), (780, 11_400), (390, 100_000), (200, 60_000), (8_192, 4_000)])
def test_real_page_shapes_pass(size: tuple[int, int]) -> None:
    from heatmap.images import check_shape

    check_shape(*size)


def test_refusals_carry_a_reason_for_translation() -> None:
    with pytest.raises(ImageError) as caught:
        load_screenshot(b"GIF89a not really")
    assert caught.value.reason == "not_image" and caught.value.values == {}
    with pytest.raises(ImageError) as caught:
        load_screenshot(encode(Image.new("L", (1, 5_000)), "PNG"), page_shape=True)
    assert caught.value.reason == "too_narrow" and caught.value.values == {"width": "1", "min_width": "200"}


def test_a_one_pixel_wide_long_picture_previews_quickly() -> None:
    """The browser preview of a 1×100000 picture (say, a stored one) used to loop forever on JPEG's side limit."""
    import time

    from heatmap.drawing.encode import preview_jpeg

    started = time.monotonic()
    data = preview_jpeg(Image.new("RGB", (1, 100_000), (10, 20, 30)))
    assert time.monotonic() - started < 5
    assert Image.open(io.BytesIO(data)).height <= 65_535


@pytest.mark.parametrize(
    ("image", "fmt", "copies"),
    [
        (Image.new("RGB", (8, 8)), "PNG", 1.0),
        (Image.new("RGBA", (8, 8)), "PNG", 9 / 4),
        (Image.new("L", (8, 8)), "PNG", 5 / 4),
        (Image.new("P", (8, 8)), "PNG", 5 / 4),
        (Image.new("RGB", (8, 8)), "JPEG", 2.0),
    ],
)
def test_a_decode_says_from_the_header_how_many_rgb_copies_it_holds(
    image: Image.Image, fmt: str, copies: float
) -> None:
    from heatmap.images import decode_cost

    assert decode_cost(encode(image, fmt)) == (64, pytest.approx(copies))
    assert decode_cost(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == (0, 13 / 4), "a damaged header: the most any mode holds"


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_a_decodes_peak_memory_is_within_what_it_declares(mode: str) -> None:
    """What the picture budget reserves for a decode (decode_cost) covers the process's real peak: a fresh
    process packs an RGB or RGBA PNG as it inflates (a few strips: 8 MB, not 80 or 180) or decodes a grey one
    whole, a 1,000 × 20,000 page, and reports how far its resident size peaked above where it stood (the
    kernel's high-water mark, reset first through /proc/self/clear_refs)."""
    import subprocess
    import sys

    from heatmap.images import decode_cost

    data = encode(Image.new(mode, (1000, 20_000), (10, 200, 30, 128)[: len(mode)]), "PNG", compress_level=1)
    code = r"""
import re, sys
from heatmap.drawing.png_packer import pack_png
from heatmap.images import load_screenshot, streams_png
def kb(field):
    return int(re.search(field + r":\s+(\d+)", open("/proc/self/status").read()).group(1))
data = sys.stdin.buffer.read()
open("/proc/self/clear_refs", "w").write("5")
before = kb("VmRSS")
shot = pack_png(data) if streams_png(data) else load_screenshot(data)
print((kb("VmHWM") - before) * 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, check=True)
    risen = int(out.stdout)
    pixels, copies = decode_cost(data)
    declared = copies * 4 * pixels
    assert 0.5 * declared < risen <= declared + 16 * 1024**2, (mode, risen / 1e6, declared / 1e6)
