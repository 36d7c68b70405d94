"""Loading an uploaded screenshot safely: checked by content, size-capped before decoding, upright, RGB.

- Only PNG, JPEG and WebP are accepted, recognised by their magic bytes (the file name is ignored).
- The pixel size is read from the header and checked against a cap *before* any pixel is decoded, so a
  decompression bomb (a tiny file claiming 100000×100000 px) costs nothing. Pillow's own global guard
  (`Image.MAX_IMAGE_PIXELS`) is bypassed by constructing the format's image class directly; our cap replaces it.
- The file must be exactly one still picture: animated PNG/WebP are refused (not silently cut to a first frame,
  which would store the other frames too), and so is any byte after the picture's end (a PNG with a ZIP or HTML
  payload appended, a "polyglot" that other programs read as something else), since uploads are stored as is.
- Uploads must have the shape of a page (`check_shape`): a 1×100000 strip is not a screenshot, and every view
  scales the picture by its width, so an absurd shape would make a preview or a render absurdly large or slow.
- The file is verified (PNG chunk CRCs), decoded, turned upright by its EXIF orientation, and converted to
  8-bit RGB (transparency is flattened onto white, CMYK/palette/grey/16-bit converted).
- Any page height works: Pillow has no canvas limit; memory is about 4 bytes per pixel for the decoded image.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin, WebPImagePlugin

from heatmap.errors import HeatmapError
from heatmap.text import section

#: Default pixel cap. Pillow holds RGB at 4 bytes per pixel and a render needs the screenshot plus the
#: output, so 120 MP is ~1 GB at peak (e.g. 1440×80000, or 2880×40000 at device-pixel ratio 2).
DEFAULT_MAX_PIXELS = 120_000_000

#: Page shape: from a narrow phone capture to a 4K screen at 2x, and at most 300 widths tall (a 1440×60000
#: desktop page is 42 widths, a 390 px wide phone page of 100,000 CSS px, the longest the data allows, is 256).
MIN_WIDTH = 200
MAX_WIDTH = 8_192
MAX_ASPECT = 300

#: Every refusal, by reason, in English (the CLI prints these; the app says them in its language: `image.*` keys).
MESSAGES: dict[str, str] = section("en", "image.")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"

EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


class ImageError(HeatmapError):
    """An uploaded screenshot that cannot be used; the message says why (`reason` and `values` let the app say
    it in the user's language, see MESSAGES)."""

    def __init__(self, reason: str, **values: object) -> None:
        self.reason = reason
        self.values = values
        super().__init__(MESSAGES[reason].format(**values))


class PictureFile(Protocol):
    """What saving a run needs of its screenshot: what it is and its file's bytes (a decoded Screenshot, or the
    app's handle that reads them from the store when asked)."""

    @property
    def sha256(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True)
class Screenshot:
    """A decoded, upright RGB screenshot plus the exact bytes it came from (stored content-addressed)."""

    image: Image.Image = field(repr=False, compare=False)
    data: bytes = field(repr=False)
    format: str  # "png" | "jpeg" | "webp"
    sha256: str

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def nbytes(self) -> int:
        """What it holds in memory: the decoded pixels (RGB, which Pillow keeps in four bytes a pixel) and the
        file's bytes."""
        return held_bytes(self.image.width, self.image.height, len(self.data))

    @property
    def height(self) -> int:
        return self.image.height

    @property
    def ext(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    @property
    def key(self) -> str:
        return screenshot_key(self.sha256, self.format)


def screenshot_key(sha256: str, kind: str) -> str:
    """Content-addressed key in an output store: the same picture is stored once."""
    return f"screenshots/{sha256}.{EXTENSIONS[kind]}"


def sniff_format(data: bytes) -> str | None:
    """'png', 'jpeg' or 'webp' from the first bytes, else None."""
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _webp_size(data: bytes) -> tuple[int, int]:
    """Canvas size from a WebP header (VP8X, VP8 or VP8L chunk), without decoding."""
    chunk = data[12:16]
    try:
        if chunk == b"VP8X":
            width = 1 + int.from_bytes(data[24:27], "little")
            height = 1 + int.from_bytes(data[27:30], "little")
            return width, height
        if chunk == b"VP8 ":
            if data[23:26] != b"\x9d\x01\x2a":
                raise ImageError("damaged", detail="bad VP8 frame header")
            width, height = struct.unpack("<HH", data[26:30])
            return width & 0x3FFF, height & 0x3FFF
        if chunk == b"VP8L":
            if data[20] != 0x2F:
                raise ImageError("damaged", detail="bad VP8L signature")
            bits = int.from_bytes(data[21:25], "little")
            return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    except (struct.error, IndexError):
        raise ImageError("truncated") from None
    raise ImageError("damaged", detail="no VP8, VP8L or VP8X chunk")


def _open(data: bytes, kind: str) -> ImageFile.ImageFile:
    """The format's image object with only the header parsed (no pixels decoded, no global bomb check)."""
    stream = io.BytesIO(data)
    if kind == "png":
        return PngImagePlugin.PngImageFile(stream)
    if kind == "jpeg":
        return JpegImagePlugin.JpegImageFile(stream)
    return WebPImagePlugin.WebPImageFile(stream)


# Bytes a pixel holds at the peak of load_screenshot, by the mode a file decodes to, as Pillow keeps pixels (four
# bytes for RGB and RGBA, one for grey and palette): the decoded picture and what to_rgb makes of it (RGBA: the
# picture, the flat RGB copy and the alpha channel; grey or palette: the picture and the RGB copy). A JPEG may be
# turned by its EXIF orientation: one more copy. Measured by tests/test_images.py.
_DECODE_BYTES = {"RGB": 4, "RGBA": 9, "P+transparency": 10, "L": 5, "P": 5, "1": 5, "LA": 13, "PA": 13, "CMYK": 8}
_DECODE_BYTES_OTHER = 13


#: What packing a PNG as it is inflated holds beside its packed strips (at most twice the file): a few strips in
#: flight, each a few hundred kB in its forms (inflated, unfiltered, filtered again, deflated).
PACKING_BYTES = 8 * 1024**2


def held_bytes(width: int, height: int, file_bytes: int) -> int:
    """What a screenshot decoded whole holds in memory: its RGB pixels as Pillow keeps them (four bytes a pixel)
    and its file."""
    return width * height * 4 + file_bytes


def decode_cost(data: bytes) -> tuple[int, float]:
    """What decoding a file will cost, from its header alone, before it is decoded: the pixels it says it holds
    (0 when it cannot say) and how many RGB copies of them (four bytes a pixel, as Pillow keeps RGB:
    picture_work's unit) it holds at most while decoded and flattened to RGB (an RGB PNG one, an RGBA one 9/4;
    the most any mode holds when the mode is not known, as for WebP, whose header is read apart). A PNG packed as
    it is inflated (`streams_png`) holds a small fraction of one."""
    kind = sniff_format(data)
    most = _DECODE_BYTES_OTHER / 4
    try:
        if kind == "webp":
            width, height = _webp_size(data)
            return max(0, width) * max(0, height), most
        if kind is None:
            return 0, most
        header = _open(data, kind)
    except Exception:  # a damaged header: load_screenshot says what is wrong
        return 0, most
    mode = "P+transparency" if header.mode == "P" and "transparency" in header.info else header.mode
    per_pixel = float(_DECODE_BYTES.get(mode, _DECODE_BYTES_OTHER) + (4 if kind == "jpeg" else 0))
    pixels = max(0, header.width) * max(0, header.height)
    if streams_png(data):
        per_pixel = min(per_pixel, (PACKING_BYTES + 2 * len(data)) / max(1, pixels))
    return pixels, per_pixel / 4


def is_truncated(data: bytes, kind: str) -> bool:
    """The file ends before its format's end marker (PNG IEND, JPEG EOI, WebP RIFF length)."""
    if kind == "png":
        return b"IEND" not in data[-12:]
    if kind == "jpeg":
        return not data.rstrip(b"\x00").endswith(b"\xff\xd9")
    return len(data) < 8 + int.from_bytes(data[4:8], "little")


def _describe(exc: BaseException, data: bytes, kind: str) -> ImageError:
    text = str(exc).strip().rstrip(".")
    if is_truncated(data, kind) or isinstance(exc, EOFError) or "truncated" in text.lower():
        return ImageError("truncated")
    return ImageError("damaged", detail=text or type(exc).__name__)


def check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError("no_size", width=width, height=height)
    pixels = width * height
    if pixels > max_pixels:
        raise ImageError(
            "too_many_pixels", width=width, height=height, megapixels=f"{pixels / 1e6:,.0f}",
            limit=f"{max_pixels / 1e6:,.0f}",
        )  # fmt: skip


def check_shape(width: int, height: int) -> None:
    """Refuse what cannot be a page screenshot (see MIN_WIDTH, MAX_WIDTH, MAX_ASPECT)."""
    if width < MIN_WIDTH:
        raise ImageError("too_narrow", width=f"{width:,}", min_width=f"{MIN_WIDTH:,}")
    if width > MAX_WIDTH:
        raise ImageError("too_wide", width=f"{width:,}", max_width=f"{MAX_WIDTH:,}")
    if height > width * MAX_ASPECT:
        raise ImageError(
            "too_tall", width=f"{width:,}", height=f"{height:,}", ratio=f"{height / width:,.0f}",
            max_ratio=f"{MAX_ASPECT:,}",
        )  # fmt: skip


def png_chunks(data: bytes) -> Iterator[tuple[bytes, memoryview, int]]:
    """A PNG's chunks in order, as (type, payload, where the next chunk starts), up to IEND or the file's end; a
    payload that runs past the end is cut there."""
    pos, view = len(PNG_MAGIC), memoryview(data)
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), bytes(data[pos + 4 : pos + 8])
        yield kind, view[pos + 8 : pos + 8 + length], pos + 12 + length
        if kind == b"IEND":
            return
        pos += 12 + length


def _png_end(data: bytes) -> tuple[int | None, bool]:
    """Where the PNG ends (just after IEND; None when the file stops first) and whether it is animated (acTL)."""
    animated = False
    for kind, _, end in png_chunks(data):
        animated = animated or kind == b"acTL"
        if kind == b"IEND":
            return (end if end <= len(data) else None), animated
    return None, animated


#: PNG colour types packed as they are inflated (heatmap/drawing/png_packer.py), by the mode they decode to.
STREAMED_COLOUR_TYPES = {2: "RGB", 6: "RGBA"}


def streams_png(data: bytes) -> bool:
    """A PNG that can be packed as it is inflated, never decoded whole: 8-bit RGB or RGBA, not interlaced, without
    EXIF (which could turn it). Browsers' screenshots are; other PNGs are decoded whole."""
    if not data.startswith(PNG_MAGIC) or len(data) < 33 or data[12:16] != b"IHDR":
        return False
    depth, colour, interlace = data[24], data[25], data[28]
    if depth != 8 or colour not in STREAMED_COLOUR_TYPES or interlace != 0:
        return False
    return all(kind != b"eXIf" for kind, _, _ in png_chunks(data))


def _jpeg_end(data: bytes) -> int | None:
    """Just after the EOI marker that ends the picture (None when the file stops first). Marker segments carry
    their length; scan data is skipped to the next real marker (0xFF not followed by 0x00 or a restart)."""
    pos, size = 2, len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            return None  # not at a marker: damaged, and decoding says so
        marker = data[pos + 1]
        if marker == 0xD9:
            return pos + 2
        if marker == 0xFF or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 1 if marker == 0xFF else 2
            continue
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker == 0xDA:
            while (pos := data.find(b"\xff", pos)) >= 0 and pos + 1 < size:
                following = data[pos + 1]
                if following != 0x00 and not 0xD0 <= following <= 0xD7:
                    break
                pos += 2
            else:
                return None
    return None


def check_structure(data: bytes, kind: str) -> None:
    """One still picture and nothing after it (see the module docstring). A file that stops early is left to
    decoding, which calls it truncated."""
    animated = False
    if kind == "png":
        end, animated = _png_end(data)
    elif kind == "jpeg":
        end = _jpeg_end(data)
    else:
        size = int.from_bytes(data[4:8], "little")
        end = 8 + size + (size & 1)
        animated = data[12:16] == b"VP8X" and len(data) > 20 and bool(data[20] & 0x02)
    label = {"png": "PNG", "jpeg": "JPEG", "webp": "WebP"}[kind]
    if animated:
        raise ImageError("animated", format=label)
    if end is not None and end < len(data) and data[end:].strip(b"\x00"):
        raise ImageError("trailing_data", extra=f"{len(data) - end:,}", format=label)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; transparency is flattened onto white (a page's usual background)."""
    mode = image.mode
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image)
        top = 65535.0 if mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        grey = np.clip(np.rint(values.astype(np.float32) * (255.0 / top)), 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image if mode == "RGBA" else image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def load_screenshot(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, page_shape: bool = False) -> Screenshot:
    """Check, decode and normalise an uploaded screenshot. Raises ImageError with a user-facing message.
    `page_shape` also refuses what cannot be a page (check_shape); every check runs before any pixel is decoded."""
    kind, _, _ = check_file(data, max_pixels, page_shape=page_shape)
    try:
        image = _open(data, kind)
        image.load()
    except Exception as exc:
        raise _describe(exc, data, kind) from None
    with contextlib.suppress(Exception):  # a malformed EXIF block must not make a good picture unusable
        ImageOps.exif_transpose(image, in_place=True)
    try:
        rgb = to_rgb(image)
    except Exception as exc:
        raise ImageError("colour", mode=image.mode, detail=exc) from None
    return Screenshot(image=rgb, data=bytes(data), format=kind, sha256=hashlib.sha256(data).hexdigest())


def check_file(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, page_shape: bool = False) -> tuple[str, int, int]:
    """Every check `load_screenshot` makes before decoding a pixel (and a PNG's chunk checksums); its format and
    the size its header says (before any EXIF turn)."""
    if not data:
        raise ImageError("empty")
    kind = sniff_format(data)
    if kind is None:
        raise ImageError("not_image")
    if kind == "webp":
        check_pixels(*_webp_size(data), max_pixels)
    try:
        header = _open(data, kind)
    except ImageError:
        raise
    except Exception as exc:  # Pillow raises SyntaxError, OSError, struct.error, ... on bad headers
        raise _describe(exc, data, kind) from None
    check_pixels(header.width, header.height, max_pixels)
    if page_shape:
        check_shape(header.width, header.height)
    check_structure(data, kind)
    try:
        header.verify()  # PNG: every chunk's CRC up to IEND; a truncated file fails here
    except Exception as exc:
        raise _describe(exc, data, kind) from None
    return kind, header.width, header.height


def screenshot_from_image(image: Image.Image, fmt: str = "png") -> Screenshot:
    """A Screenshot from an in-memory picture (demo data, tests): encoded once so it can be stored."""
    buffer = io.BytesIO()
    rgb = to_rgb(image)
    rgb.save(buffer, format="PNG" if fmt == "png" else fmt.upper(), compress_level=1)
    data = buffer.getvalue()
    return Screenshot(image=rgb, data=data, format=fmt, sha256=hashlib.sha256(data).hexdigest())
