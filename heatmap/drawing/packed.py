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

from heatmap.drawing.encode import ENCODE_THREADS, Source, filter_rows, unfilter_rows
from heatmap.drawing.size_probe import ProbedSize

LEVEL = 1  # ISA-L's: fast, and a screenshot's runs deflate well at it
STRIP_BYTES = 1 << 19  # of an unpacked strip as Pillow holds it: under glibc's mmap threshold (heatmap.allocator)


def strip_rows(width: int) -> int:
    """Rows a packed strip holds: an unpacked one stays under STRIP_BYTES, so unpacking reuses the heap's memory
    (a strip of 512 rows of a 1440 px page took fresh pages from the system each time: three times as slow)."""
    return max(8, STRIP_BYTES // (4 * max(1, width)))


@dataclass(frozen=True)
class Packed:
    """An RGB picture packed in strips of `rows` rows (each its own deflate stream of filtered rows)."""

    width: int
    height: int
    rows: int
    strips: Sequence[bytes] = field(repr=False)
    probed: ProbedSize | None = field(default=None, repr=False)  # measured as it was packed (png_packer)

    @classmethod
    def of(cls, image: Source) -> Packed:
        """`image` packed, its strips filtered and deflated on every core."""
        width, height, rows = image.width, image.height, strip_rows(image.width)

        def pack(y0: int) -> bytes:
            filtered = filter_rows(image.crop((0, y0, width, min(height, y0 + rows))))
            return bytes(isal_zlib.compress(filtered.data, LEVEL))

        with ThreadPoolExecutor(max_workers=ENCODE_THREADS) as pool:
            return cls(width, height, rows, tuple(pool.map(pack, range(0, height, rows))))

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
        for index in range(max(0, top) // self.rows, min(self.height, bottom) // self.rows + 1):
            y0 = index * self.rows
            if index >= len(self.strips) or y0 >= bottom:
                break
            last = min(bottom, y0 + self.rows, self.height)  # the box's last row in this strip, plus one
            if last <= max(top, y0):
                continue
            out.paste(self._strip(index, last - y0), (-left, y0 - top))  # what falls outside `out` is clipped
        return out

    def _inside(self, box: tuple[int, int, int, int]) -> bool:
        left, top, right, bottom = box
        return left >= 0 and top >= 0 and right <= self.width and bottom <= self.height

    def _strip(self, index: int, rows: int) -> Image.Image:
        """The strip's first `rows` rows: a box that ends inside a strip (a size probe's thin band) inflates and
        unfilters only down to its last row, as each row is filtered against the one above."""
        line = self.width * 3 + 1
        inflated = isal_zlib.decompressobj().decompress(self.strips[index], rows * line)
        filtered = np.frombuffer(inflated, dtype=np.uint8)
        return unfilter_rows(filtered.reshape(rows, line), self.width)

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
