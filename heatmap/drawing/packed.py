"""Screenshots kept packed: an RGB picture as strips of rows, each filtered and deflated on its own as a PNG strip
is (heatmap.drawing.encode), unpacked a strip at a time when its rows are painted, downscaled or encoded.

A 1440 × 20,000 page holds 115 MB decoded (Pillow keeps RGB in four bytes a pixel) and 6-10 MB packed, so the
server's picture budget holds a team's tall screenshots instead of three, and a save or a browser picture reads
the rows it needs, on every core, instead of decoding the file again (0.6 s for such a PNG, one core).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from isal import isal_zlib
from PIL import Image

from heatmap.drawing.encode import ENCODE_THREADS, STRIP_ROWS, Source, filter_rows, unfilter_rows

LEVEL = 1  # ISA-L's: fast, and a screenshot's runs deflate well at it


@dataclass(frozen=True)
class Packed:
    """An RGB picture packed in strips of STRIP_ROWS rows (each its own deflate stream of filtered rows)."""

    width: int
    height: int
    strips: Sequence[bytes] = field(repr=False)

    @classmethod
    def of(cls, image: Source) -> Packed:
        """`image` packed, its strips filtered and deflated on every core."""
        width, height = image.width, image.height

        def pack(y0: int) -> bytes:
            filtered = filter_rows(image.crop((0, y0, width, min(height, y0 + STRIP_ROWS))))
            return bytes(isal_zlib.compress(filtered.data, LEVEL))

        with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
            return cls(width, height, tuple(pool.map(pack, range(0, height, STRIP_ROWS))))

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    @property
    def nbytes(self) -> int:
        return sum(len(strip) for strip in self.strips)

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        """The pixels of `box` (left, top, right, bottom) as a new RGB image, unpacking only the strips it spans;
        outside the picture black, as Pillow's crop."""
        left, top, right, bottom = box
        out = Image.new("RGB", (right - left, bottom - top), None if self._inside(box) else (0, 0, 0))
        for index in range(max(0, top) // STRIP_ROWS, min(self.height, bottom) // STRIP_ROWS + 1):
            y0 = index * STRIP_ROWS
            if index >= len(self.strips) or y0 >= bottom:
                break
            first, last = max(top, y0), min(bottom, y0 + STRIP_ROWS, self.height)
            if last <= first:
                continue
            strip = self._strip(index)
            out.paste(strip.crop((left, first - y0, right, last - y0)), (0, first - top))
        return out

    def _inside(self, box: tuple[int, int, int, int]) -> bool:
        left, top, right, bottom = box
        return left >= 0 and top >= 0 and right <= self.width and bottom <= self.height

    def _strip(self, index: int) -> Image.Image:
        rows = min(STRIP_ROWS, self.height - index * STRIP_ROWS)
        filtered = np.frombuffer(isal_zlib.decompress(self.strips[index]), dtype=np.uint8)
        return unfilter_rows(filtered.reshape(rows, self.width * 3 + 1), self.width)

    def image(self) -> Image.Image:
        """The whole picture unpacked (four bytes a pixel: for small pictures and tests)."""
        return self.crop((0, 0, self.width, self.height))


@dataclass(frozen=True)
class Window:
    """Rows [top, bottom) of a picture, as a picture of their own (a screenshot without the rows a crop removes)."""

    source: Source
    top: int
    bottom: int

    @property
    def width(self) -> int:
        return self.source.width

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        left, top, right, bottom = box
        return self.source.crop((left, top + self.top, right, bottom + self.top))
