"""What a map paints on a band of rows of its picture (heatmap.drawing.render).

A painter paints the map rows [y0, y0 + strip height) held in `strip`, so a tall page is painted a strip at a
time and on every core (render.Rendered): a 1440 × 20,000 save holds a few strips of pixels instead of a copy of
the page. Each row comes out the same whichever strips it is painted in (tests/test_render.py).

Blending uses Pillow's masked paste, which computes out = round((s·(255−a) + c·a) / 255) in C; with a = 0 it
returns s exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from heatmap.drawing.encode import STRIP_ROWS
from heatmap.drawing.legend import legend_font
from heatmap.drawing.ramps import Lut, colour_index

Painter = Callable[[Image.Image, int], None]

LINE_COLOUR = (20, 20, 20)
FOLD_COLOUR = (255, 255, 255)
FADE_IN = 0.25  # of the scale over which colour fades in from transparent: low values let the page show


def fade_alpha(values_t: npt.NDArray[np.float64], opacity: float) -> npt.NDArray[np.int64]:
    """Alpha 0..255 per value: `opacity` from a quarter of the scale up, fading to fully transparent at zero."""
    top = min(max(opacity, 0.0), 1.0) * 255.0
    return np.rint(np.clip(np.asarray(values_t, dtype=np.float64) / FADE_IN, 0.0, 1.0) * top).astype(np.int64)


@dataclass(frozen=True)
class _Fill:
    top: int
    bottom: int
    left: int
    right: int | None  # None: the strip's width
    colour: tuple[int, int, int]
    alpha: int


def _fills(fills: Sequence[_Fill]) -> Painter:
    def paint(strip: Image.Image, y0: int) -> None:
        y1 = y0 + strip.height
        for fill in fills:
            top, bottom = max(fill.top, y0), min(fill.bottom, y1)
            if bottom <= top:
                continue
            right = strip.width if fill.right is None else fill.right
            mask = Image.new("L", (right - fill.left, bottom - top), fill.alpha)
            strip.paste(fill.colour, (fill.left, top - y0, right, bottom - y0), mask)

    return paint


def bands(
    values_t: npt.NDArray[np.float64],
    drawn: npt.NDArray[np.bool_],
    spans: Sequence[tuple[int, int]],
    ramp: Lut,
    opacity: float,
) -> Painter:
    """Each drawn band's rows get the ramp colour of its value, faded in over the low end; others are left alone."""
    alphas = fade_alpha(values_t, opacity)
    index = colour_index(values_t)
    fills = [
        _Fill(spans[band][0], spans[band][1], 0, None, _colour(ramp, int(index[band])), int(alphas[band]))
        for band in np.flatnonzero(drawn).tolist()
        if spans[band][1] > spans[band][0] and alphas[band] > 0
    ]
    return _fills(fills)


def cells(
    values_t: npt.NDArray[np.float64],
    drawn: npt.NDArray[np.bool_],
    spans: Sequence[tuple[int, int]],
    ramp: Lut,
    opacity: float,
    width: int,
) -> Painter:
    """Like `bands` for a rows × columns grid: column c spans image x [c·W/cols, (c+1)·W/cols)."""
    alpha = round(min(max(opacity, 0.0), 1.0) * 255)
    columns = values_t.shape[1]
    edges = [round(c * width / columns) for c in range(columns + 1)]
    index = colour_index(values_t)
    fills = []
    for row, column in zip(*np.nonzero(drawn), strict=True):
        (r0, r1), x0, x1 = spans[int(row)], edges[int(column)], edges[int(column) + 1]
        if alpha > 0 and r1 > r0 and x1 > x0:
            fills.append(_Fill(r0, r1, x0, x1, _colour(ramp, int(index[row, column])), alpha))
    return _fills(fills)


def _colour(ramp: Lut, at: int) -> tuple[int, int, int]:
    red, green, blue = (int(c) for c in ramp[at])
    return red, green, blue


def smooth(
    values_t: npt.NDArray[np.float64],
    drawn: npt.NDArray[np.bool_],
    spans: Sequence[tuple[int, int]],
    ramp: Lut,
    opacity: float,
) -> Painter:
    """Like `bands`, but each row's value is interpolated linearly between the centres of the bands around it
    (bands without data count as 0), so the map is a gradient; rows outside the bands stay the screenshot."""
    live = [i for i, (r0, r1) in enumerate(spans) if r1 > r0]
    if not live or not drawn.any():
        return nothing
    centres = np.array([(spans[i][0] + spans[i][1] - 1) / 2.0 for i in live])
    values = np.where(drawn, values_t, 0.0)[live]
    first, last = spans[live[0]][0], spans[live[-1]][1]

    def paint(strip: Image.Image, y0: int) -> None:
        top, bottom = max(first, y0), min(last, y0 + strip.height)
        if bottom <= top:
            return
        rows_t = np.interp(np.arange(top, bottom, dtype=np.float64), centres, values)
        alpha = fade_alpha(rows_t, opacity).astype(np.uint8)
        if not alpha.any():
            return
        size = (strip.width, bottom - top)
        colour = np.ascontiguousarray(np.broadcast_to(ramp[colour_index(rows_t)][:, None, :], (size[1], size[0], 3)))
        mask = np.ascontiguousarray(np.broadcast_to(alpha[:, None], (size[1], size[0])))
        strip.paste(Image.fromarray(colour, "RGB"), (0, top - y0), Image.fromarray(mask, "L"))

    return paint


def nothing(strip: Image.Image, y0: int) -> None:
    """A painter that leaves the picture as it is."""


def density(
    grid_t: npt.NDArray[np.float64],
    map_height: int,
    width: int,
    row_to_grid: tuple[float, float],
    ramp: Lut,
    opacity: float,
) -> Painter:
    """Bilinearly upsampled density (values in [0, 1] per grid cell).

    `row_to_grid` = (a, b): image row edge y lies at grid row coordinate a + b·y (cell i spans [i, i+1)).
    Columns span the grid's 100 cells across the full image width. Alpha fades in like the bands' (`fade_alpha`),
    so thin tails fade out instead of ending in a hard edge; zero density leaves pixels untouched. The density is
    resampled in blocks of STRIP_ROWS rows starting at row 0, whatever strips are asked for: Pillow's resampling
    of a row depends (in its last bits) on the box it is asked for, and a row must not depend on the strip.
    """
    if grid_t.size == 0 or not grid_t.any():
        return nothing
    pad = 2
    # +0.5 so Pillow's truncating F -> L conversion rounds; the zero padding keeps far rows exactly 0
    levels = np.pad((grid_t * 255.0 + 0.5).astype(np.float32), pad)
    source = Image.fromarray(levels, mode="F")
    grid_rows, grid_cols = grid_t.shape
    live = np.flatnonzero(grid_t.max(axis=1) > 0)
    first_live, last_live = live[0] - 1.0, live[-1] + 2.0  # rows beyond these interpolate to 0 exactly
    a, b = row_to_grid
    palette = ramp.astype(np.uint8).tobytes()
    alpha_table = fade_alpha(np.arange(256) / 255.0, opacity).tolist()  # per level: the bands' fade-in

    @lru_cache(maxsize=2)  # a strip across a block boundary, then the next strip: each block resampled once
    def block(start: int) -> tuple[int, Image.Image, Image.Image] | None:
        """(first row, colour, alpha) of the painted rows of the block that starts at `start`, if any."""
        y0, y1 = start, min(map_height, start + STRIP_ROWS)
        g0, g1 = a + b * y0, a + b * y1
        if g1 <= first_live or g0 >= last_live:
            return None
        box = (float(pad), g0 + pad, float(pad + grid_cols), g1 + pad)
        if box[1] < 0 or box[3] > levels.shape[0]:
            # clip the block to rows that map inside the padded grid (outside it the density is 0)
            lo = max(y0, math.ceil((-pad - a) / b))
            hi = min(y1, math.floor((grid_rows + pad - a) / b))
            if hi <= lo:
                return None
            y0, y1 = lo, hi
            box = (float(pad), a + b * y0 + pad, float(pad + grid_cols), a + b * y1 + pad)
        level = source.resize((width, y1 - y0), Image.Resampling.BILINEAR, box=box).convert("L")
        alpha = level.point(alpha_table)
        if not alpha.getbbox():
            return None
        colour = level.copy()
        colour.putpalette(palette)
        return y0, colour.convert("RGB"), alpha

    def paint(strip: Image.Image, y0: int) -> None:
        y1 = min(map_height, y0 + strip.height)
        for start in range(y0 - y0 % STRIP_ROWS, y1, STRIP_ROWS):
            made = block(start)
            if made is None:
                continue
            first, colour, alpha = made
            top, bottom = max(first, y0), min(first + colour.height, y1)
            if bottom <= top:
                continue
            box = (0, top - first, colour.width, bottom - first)
            strip.paste(colour.crop(box), (0, top - y0), alpha.crop(box))

    return paint


# --- lines -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A horizontal line centred on `row` (thickness ~2 CSS px) with a label box just above it, at the left; with
    `box`, also the top edge and the sides down to it (an area outlined from the top of the map).

    A dashed line alternates `colour` with LINE_COLOUR every 12 CSS px, so it shows on light and dark pages."""

    row: int
    label: str
    scale: float
    colour: tuple[int, int, int]
    dashed: bool = False
    box: bool = False


def lines(drawn: Sequence[Line], width: int, map_height: int) -> Painter:
    """The lines inside the map, each drawn on the strips it reaches (Pillow clips what falls outside)."""
    inside = [line for line in drawn if 0 <= line.row < map_height]

    def paint(strip: Image.Image, y0: int) -> None:
        for line in inside:
            _draw_line(ImageDraw.Draw(strip), line, width, map_height, y0)

    return paint


def _draw_line(draw: ImageDraw.ImageDraw, line: Line, width: int, map_height: int, y0: int) -> None:
    def rectangle(x0: float, top: int, x1: float, bottom: int, fill: tuple[int, int, int]) -> None:
        draw.rectangle([x0, top - y0, x1, bottom - y0], fill=fill)

    scale, colour = line.scale, line.colour
    thickness = max(2, round(2 * scale))
    first = line.row - thickness // 2
    top, bottom = max(0, first), min(map_height - 1, first + thickness - 1)
    rectangle(0, top, width - 1, bottom, colour)
    if line.box and top > 2 * thickness:  # LINE_COLOUR outside, FOLD_COLOUR inside: seen on light and dark pages
        for inset, fill in ((0, LINE_COLOUR), (thickness, FOLD_COLOUR)):
            right = width - 1 - inset
            rectangle(inset, inset, right, inset + thickness - 1, fill)
            rectangle(inset, inset, inset + thickness - 1, top - 1, fill)
            rectangle(right - thickness + 1, inset, right, top - 1, fill)
    if line.dashed:
        dash = max(4, round(12 * scale))
        for x in range(dash, width, 2 * dash):
            rectangle(x, top, min(width - 1, x + dash - 1), bottom, LINE_COLOUR)
    font = legend_font(max(11, round(13 * scale)))
    pad = max(2, round(3 * scale))
    text_w = draw.textlength(line.label, font=font)
    box_h = int(font.getbbox(line.label)[3]) + 2 * pad
    box_top = max(0, first - box_h)
    back = (255, 255, 255) if colour == LINE_COLOUR else (20, 20, 20)
    rectangle(pad, box_top, pad + text_w + 2 * pad, box_top + box_h - 1, colour)
    draw.text((2 * pad, box_top + pad - y0), line.label, font=font, fill=back)
