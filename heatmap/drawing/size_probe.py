"""How many bytes a picture will take as a JPEG, judged from thin bands of its rows box-reduced: a preview
(heatmap.drawing.encode) downscales the original once, at the width this says will fit its budget, and a miss
costs a second full downscale (a fifth of a second on a tall page).

A JPEG's size adds up row by row, so bands spread evenly down a tall page, scaled to its height, stand for it.
Many thin bands, not a few thick ones: a page's photos and text land in the sample as often as in the page (eight
bands of 512 rows missed long pages' sizes by up to 16 %; bands of one row of JPEG blocks, within 4 %).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

from PIL import Image

PROBE_ROWS = 2_048  # rows of the reduced sample encoded at most
PROBE_BAND = 16  # reduced rows a band holds: one row of JPEG blocks at 4:2:0, so a band encodes as it does in the whole


@dataclass(frozen=True)
class ProbedSize:
    """A picture's JPEG bytes at `quality` once box-reduced by `factor` (what `SizeProbe.measured` found)."""

    factor: int
    quality: int
    jpeg_bytes: float


def band_rows(factor: int) -> int:
    """Source rows a band covers: a multiple of `factor`, so each box is the whole picture's."""
    return PROBE_BAND * factor


def band_spacing(height: int, factor: int) -> int:
    """Source rows from one band's top to the next's: every band of a short picture, PROBE_ROWS at most of a tall one."""
    return band_rows(factor) * max(1, math.ceil(height / factor / PROBE_ROWS))


def probe_factor(width: int, widest: int) -> int:
    """The reduction that makes a picture `width` wide about half as wide as the widest preview tried (a reduce
    and a small encode: a tenth of a full-size downscale). Under 2: no cheaper copy than the downscale itself."""
    return width * 2 // max(1, widest)


@dataclass
class SizeProbe:
    """The bands of one picture, added top to bottom as its rows are read, then measured."""

    factor: int
    height: int  # of the whole picture, in source rows
    bands: list[Image.Image] = field(default_factory=list)

    def add(self, band: Image.Image) -> None:
        """A band's rows, box-reduced by `factor` (RGB)."""
        self.bands.append(band)

    def measured(self, quality: int) -> ProbedSize:
        probe = Image.new("RGB", (self.bands[0].width, sum(band.height for band in self.bands)), None)
        top = 0
        for band in self.bands:
            probe.paste(band, (0, top))
            top += band.height
        buffer = io.BytesIO()
        probe.save(buffer, format="JPEG", quality=quality)
        scaled = len(buffer.getvalue()) * -(-self.height // self.factor) / probe.height
        return ProbedSize(self.factor, quality, scaled)
