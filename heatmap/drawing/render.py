"""Overlaying attention, scroll-reach and click maps on a screenshot (docs/rendering.md).

Coordinates: the data is in CSS px of the page (bands of `band_height_px`, click rows of 20 px, x in percent of
the width). The screenshot is in image px. `Alignment.scale` = image px per CSS px = image width / CSS width
(the CSS width defaults to image width / dpr, so the scale defaults to the dpr). After an optional crop of the
screenshot, CSS y maps to image row `round((y + shift_px) * scale) - crop_top`.

Blending is integer and exact: out = round((s·(255−a) + c·a) / 255) with a per-row (bands) or per-pixel
(clicks) alpha a in 0..255; where a = 0 the screenshot pixel is unchanged byte for byte, so bands with no data
or a value of 0, and everything below the data, stay the screenshot. Work is done in horizontal strips so a
1440×60000 page never needs a full-frame float array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from heatmap.contract import MAP_KINDS
from heatmap.drawing.captions import folded_percent, legend_text
from heatmap.drawing.encode import PREVIEW_MAX_BYTES, PREVIEW_WIDTH, encode_png, preview_jpeg
from heatmap.drawing.legend import legend_font, legend_panel
from heatmap.drawing.ramps import Lut, colour_index, lut
from heatmap.errors import CropError
from heatmap.statistics.metrics import REACH_LEVELS, BandTable, ClickGrid

Kind = Literal["attention", "reach", "clicks"]
ScaleMode = Literal["max", "fixed", "p99"]
KINDS = MAP_KINDS
SCALE_MODES: tuple[str, ...] = ("max", "p99", "fixed")  # in the order the app offers them
STRIP_ROWS = 2048
MISMATCH_TOLERANCE = 0.10
LINE_COLOUR = (20, 20, 20)
FOLD_COLOUR = (255, 255, 255)


@dataclass(frozen=True)
class Alignment:
    """How the data's CSS px land on the screenshot's image px."""

    dpr: float = 1.0
    css_width: float | None = None  # None: image width / dpr
    shift_px: float = 0.0  # CSS px; positive moves the data down the screenshot
    crop_top: int = 0  # image px removed from the top of the screenshot (e.g. browser chrome)
    crop_bottom: int | None = None  # image row where the screenshot ends (exclusive); None: its full height

    def scale(self, image_width: int) -> float:
        if self.css_width is not None and self.css_width > 0:
            return image_width / self.css_width
        return self.dpr if self.dpr > 0 else 1.0

    def rows(self, image_height: int) -> tuple[int, int]:
        """The (top, bottom) image rows of the screenshot that are kept, validated."""
        top = max(0, int(self.crop_top))
        bottom = image_height if self.crop_bottom is None else min(int(self.crop_bottom), image_height)
        if bottom - top < 1:
            raise CropError(f"the crop leaves no rows: top {top}, bottom {bottom}, image height {image_height}")
        return top, bottom

    def css_to_row(self, y_css: npt.ArrayLike, image_width: int) -> npt.NDArray[np.int64]:
        scaled = (np.asarray(y_css, dtype=np.float64) + self.shift_px) * self.scale(image_width)
        return np.rint(scaled).astype(np.int64) - max(0, int(self.crop_top))


@dataclass(frozen=True)
class Display:
    """What to draw and how it looks."""

    kind: Kind = "attention"
    ramp: str = "classic"
    opacity: float = 0.45
    scale: ScaleMode = "max"  # relative to max, fixed ceiling, or clamped at the 99th percentile
    ceiling: float | None = None  # for scale="fixed": seconds per view, or clicks per 1,000 views
    lines: bool = True  # 75/50/25 % reach lines and the fold, labelled (every map drawn with its band table)
    smooth: bool = False  # attention/reach: interpolate between band centres instead of one colour per band
    sigma_px: float = 24.0  # click smoothing, CSS px
    # clicks at screen positions (the fixed and sticky layer): the first screen outlined instead of the page's depths
    first_screen: bool = False


@dataclass(frozen=True)
class Caption:
    """The facts burned into the legend."""

    page: str
    start: str
    end: str
    segment: str = "all visitors"
    page_views: int = 0
    clicks: int | None = None
    title: str | None = None
    language: str = "en"  # of the legend's words (heatmap.drawing.captions): "en" or "ja"
    note: str | None = None  # one more legend line (a difference map: which test, over how many units, n per side)
    layer: str | None = None  # the click layer shown, when not all clicks ("dead clicks only"): said by click maps
    ga_folded: float | None = None  # share of the period's heatmap events GA4 folded into "(other)" (report route)


LEGEND_STOPS = 11  # colours of the on-screen bar: CSS interpolates between them as the LUT does


@dataclass(frozen=True)
class Legend:
    """What the burned-in legend says, for a legend drawn elsewhere (the viewer's, pinned on screen): its lines,
    the colour bar's ends and colours, and where each band (rows × columns for regions) sits on the bar, 0..1, NaN
    where nothing is painted. `positions` is None for click maps (their colour is a density between cells)."""

    title: str
    facts: tuple[str, ...]  # dates, segment, n, scale, and any note (the page is the app's own title)
    low: str
    high: str
    colours: tuple[str, ...]
    positions: npt.NDArray[np.float64] | None = field(default=None, compare=False)


def legend_colours(ramp: Lut, stops: int = LEGEND_STOPS) -> tuple[str, ...]:
    picks = ramp[np.linspace(0, 255, stops).round().astype(np.intp)]
    return tuple("#{:02x}{:02x}{:02x}".format(*(int(c) for c in colour)) for colour in picks)


@dataclass
class Rendered:
    """A full-resolution map with its legend, plus what was decided while drawing it."""

    image: Image.Image
    map_height: int  # rows above the legend panel
    vmax: float
    warnings: list[str] = field(default_factory=list)
    legend: Legend | None = None

    def png(self, compress_level: int = 1) -> bytes:
        return encode_png(self.image, compress_level)

    def preview(self, max_width: int = PREVIEW_WIDTH, max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
        return preview_jpeg(self.image, max_width, max_bytes)


# --- scales ------------------------------------------------------------------------------------------------


def resolve_ceiling(values: npt.ArrayLike, mode: str = "max", ceiling: float | None = None) -> float:
    """The value mapped to the hot end of the ramp.

    max: the largest value; fixed: `ceiling` (required, > 0), for maps comparable across selections;
    p99: the 99th percentile of the positive values (linear interpolation), so one outlier cannot wash out
    the rest. Values above the ceiling are drawn at the hot end. Returns 0.0 when there is nothing to draw.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    positive = data[np.isfinite(data) & (data > 0)]
    if mode == "fixed":
        if ceiling is None or not math.isfinite(ceiling) or ceiling <= 0:
            raise ValueError("a fixed colour scale needs a ceiling greater than 0")
        return float(ceiling)
    if positive.size == 0:
        return 0.0
    if mode == "max":
        return float(positive.max())
    if mode == "p99":
        return float(np.percentile(positive, 99.0))
    raise ValueError(f"unknown scale mode {mode!r}; choose one of {', '.join(SCALE_MODES)}")


def shared_ceiling(values: Sequence[npt.ArrayLike], mode: str = "max", ceiling: float | None = None) -> float:
    """One colour ceiling for several maps: the scale rule applied to all their values together."""
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    return resolve_ceiling(np.concatenate(arrays) if arrays else np.zeros(0), mode, ceiling)


def shared_display(display: Display, values: Sequence[npt.ArrayLike]) -> Display:
    """`display` with its scale pinned to the shared ceiling, for side-by-side maps (reach is already 0–100 %).

    For attention pass each side's seconds_per_view; for clicks each side's `ClickGrid.density(...)`.
    """
    if display.kind == "reach":
        return display
    vmax = shared_ceiling(values, display.scale, display.ceiling)
    if vmax <= 0:
        return display
    return replace(display, scale="fixed", ceiling=vmax)


def normalise(values: npt.ArrayLike, vmax: float) -> npt.NDArray[np.float64]:
    data = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if vmax <= 0:
        return np.zeros_like(data)
    return np.clip(data / vmax, 0.0, 1.0)


# --- painting ----------------------------------------------------------------------------------------------
#
# Blending uses Pillow's masked paste, which computes out = round((s·(255−a) + c·a) / 255) in C; with a = 0 it
# returns s exactly. Bands are painted one rectangle at a time; click densities in strips of STRIP_ROWS rows.


def _canvas(screenshot: Image.Image, alignment: Alignment, legend: Image.Image | None) -> Image.Image:
    """A copy of the kept rows of the screenshot, with the legend panel below them."""
    top, bottom = alignment.rows(screenshot.height)
    height = bottom - top
    extra = legend.height if legend is not None else 0
    out = Image.new("RGB", (screenshot.width, height + extra), None)  # uninitialised: fully covered below
    out.paste(screenshot, (0, -top))  # rows above `top` fall outside; rows below `bottom` are covered next
    if legend is not None:
        out.paste(legend, (0, height))
    return out


def band_spans(count: int, band_height_px: int, alignment: Alignment, width: int, height: int) -> list[tuple[int, int]]:
    """Image row span [r0, r1) of each band, clipped to the map; empty spans are (0, 0)."""
    edges = alignment.css_to_row(np.arange(count + 1) * band_height_px, width)
    spans = []
    for band in range(count):
        r0, r1 = max(0, int(edges[band])), min(height, int(edges[band + 1]))
        spans.append((r0, r1) if r1 > r0 else (0, 0))
    return spans


FADE_IN = 0.25  # of the scale over which colour fades in from transparent: low values let the page show


def fade_alpha(values_t: npt.NDArray[np.float64], opacity: float) -> npt.NDArray[np.int64]:
    """Alpha 0..255 per value: `opacity` from a quarter of the scale up, fading to fully transparent at zero."""
    top = min(max(opacity, 0.0), 1.0) * 255.0
    return np.rint(np.clip(np.asarray(values_t, dtype=np.float64) / FADE_IN, 0.0, 1.0) * top).astype(np.int64)


def _paint_bands(
    image: Image.Image,
    values_t: npt.NDArray[np.float64],
    drawn: npt.NDArray[np.bool_],
    spans: Sequence[tuple[int, int]],
    ramp: Lut,
    opacity: float,
) -> None:
    """Each drawn band's rows get the ramp colour of its value, faded in over the low end; others are left alone."""
    alphas = fade_alpha(values_t, opacity)
    index = colour_index(values_t)
    for band in np.flatnonzero(drawn).tolist():
        r0, r1 = spans[band]
        if r1 <= r0 or alphas[band] == 0:
            continue
        colour = tuple(int(c) for c in ramp[index[band]])
        image.paste(colour, (0, r0, image.width, r1), Image.new("L", (image.width, r1 - r0), int(alphas[band])))


def _paint_smooth(
    image: Image.Image,
    values_t: npt.NDArray[np.float64],
    drawn: npt.NDArray[np.bool_],
    spans: Sequence[tuple[int, int]],
    ramp: Lut,
    opacity: float,
) -> None:
    """Like `_paint_bands`, but each row's value is interpolated linearly between the centres of the bands around
    it (bands without data count as 0), so the map is a gradient; rows outside the bands stay the screenshot."""
    live = [i for i, (r0, r1) in enumerate(spans) if r1 > r0]
    if not live or not drawn.any():
        return
    centres = np.array([(spans[i][0] + spans[i][1] - 1) / 2.0 for i in live])
    values = np.where(drawn, values_t, 0.0)[live]
    first, last = spans[live[0]][0], spans[live[-1]][1]
    for y0 in range(first, last, STRIP_ROWS // 2):
        y1 = min(last, y0 + STRIP_ROWS // 2)
        rows_t = np.interp(np.arange(y0, y1, dtype=np.float64), centres, values)
        alpha = fade_alpha(rows_t, opacity).astype(np.uint16)[:, None, None]
        if not alpha.any():
            continue
        colour = ramp[colour_index(rows_t)].astype(np.uint16)[:, None, :]
        strip = np.asarray(image.crop((0, y0, image.width, y1)), dtype=np.uint16)  # one strip, never the frame
        blended = (strip * (255 - alpha) + colour * alpha + 127) // 255  # ≤ 255·255 + 127: fits 16 bits
        image.paste(Image.fromarray(blended.astype(np.uint8), "RGB"), (0, y0))


def _paint_density(
    image: Image.Image,
    grid_t: npt.NDArray[np.float64],
    map_height: int,
    row_to_grid: tuple[float, float],
    ramp: Lut,
    opacity: float,
) -> None:
    """Bilinearly upsampled density (values in [0, 1] per grid cell) painted in horizontal strips.

    `row_to_grid` = (a, b): image row edge y lies at grid row coordinate a + b·y (cell i spans [i, i+1)).
    Columns span the grid's 100 cells across the full image width. Alpha fades in like the bands' (`fade_alpha`),
    so thin tails fade out instead of ending in a hard edge; zero density leaves pixels untouched.
    """
    if grid_t.size == 0 or not grid_t.any():
        return
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
    for y0 in range(0, map_height, STRIP_ROWS):
        y1 = min(map_height, y0 + STRIP_ROWS)
        g0, g1 = a + b * y0, a + b * y1
        if g1 <= first_live or g0 >= last_live:
            continue
        box = (float(pad), g0 + pad, float(pad + grid_cols), g1 + pad)
        if box[1] < 0 or box[3] > levels.shape[0]:
            # clip the strip to rows that map inside the padded grid (outside it the density is 0)
            lo = max(y0, math.ceil((-pad - a) / b))
            hi = min(y1, math.floor((grid_rows + pad - a) / b))
            if hi <= lo:
                continue
            y0, y1 = lo, hi
            box = (float(pad), a + b * y0 + pad, float(pad + grid_cols), a + b * y1 + pad)
        level = source.resize((image.width, y1 - y0), Image.Resampling.BILINEAR, box=box).convert("L")
        alpha = level.point(alpha_table)
        if not alpha.getbbox():
            continue
        colour = level.copy()
        colour.putpalette(palette)
        image.paste(colour.convert("RGB"), (0, y0), alpha)


# --- lines and warnings ------------------------------------------------------------------------------------


def _draw_line(
    image: Image.Image,
    row: int,
    label: str,
    scale: float,
    colour: tuple[int, int, int],
    map_height: int,
    dashed: bool = False,
    box: bool = False,
) -> None:
    """A horizontal line centred on `row` (thickness ~2 CSS px) with a label box just above it, at the left; with
    `box`, also the top edge and the sides down to it (an area outlined from the top of the map).

    A dashed line alternates `colour` with LINE_COLOUR every 12 CSS px, so it shows on light and dark pages.
    """
    if not 0 <= row < map_height:
        return
    draw = ImageDraw.Draw(image)
    thickness = max(2, round(2 * scale))
    first = row - thickness // 2
    y0, y1 = max(0, first), min(map_height - 1, first + thickness - 1)
    draw.rectangle([0, y0, image.width - 1, y1], fill=colour)
    if box and y0 > 2 * thickness:  # LINE_COLOUR outside, FOLD_COLOUR inside: seen on light and dark pages
        for inset, fill in ((0, LINE_COLOUR), (thickness, FOLD_COLOUR)):
            right = image.width - 1 - inset
            for edge in ([inset, inset, right, inset + thickness - 1], [inset, inset, inset + thickness - 1, y0 - 1],
                         [right - thickness + 1, inset, right, y0 - 1]):  # fmt: skip
                draw.rectangle(edge, fill=fill)
    if dashed:
        dash = max(4, round(12 * scale))
        for x in range(dash, image.width, 2 * dash):
            draw.rectangle([x, y0, min(image.width - 1, x + dash - 1), y1], fill=LINE_COLOUR)
    font = legend_font(max(11, round(13 * scale)))
    pad = max(2, round(3 * scale))
    text_w = draw.textlength(label, font=font)
    box_h = int(font.getbbox(label)[3]) + 2 * pad
    box_top = max(0, first - box_h)
    back = (255, 255, 255) if colour == LINE_COLOUR else (20, 20, 20)
    draw.rectangle([pad, box_top, pad + text_w + 2 * pad, box_top + box_h - 1], fill=colour)
    draw.text((2 * pad, box_top + pad), label, font=font, fill=back)


def _reach_lines(
    image: Image.Image,
    bands: BandTable,
    alignment: Alignment,
    map_height: int,
    levels: Sequence[float],
    language: str,
) -> None:
    scale = alignment.scale(image.width)
    for level, depth in bands.reach_depths(tuple(levels)).items():
        row = int(alignment.css_to_row([depth], image.width)[0])
        _draw_line(image, row, legend_text(language, "line.reached", level=level), scale, LINE_COLOUR, map_height)
    fold_row = int(alignment.css_to_row([bands.fold_px], image.width)[0])
    fold = legend_text(language, "line.fold")
    _draw_line(image, fold_row, fold, scale, FOLD_COLOUR, map_height, dashed=True)


def _first_screen(image: Image.Image, bands: BandTable, alignment: Alignment, map_height: int, language: str) -> None:
    """The first screen (down to the average fold) outlined: where clicks on fixed and sticky elements sit."""
    row = int(alignment.css_to_row([bands.fold_px], image.width)[0])
    label = legend_text(language, "line.first_screen")
    _draw_line(image, row, label, alignment.scale(image.width), FOLD_COLOUR, map_height, dashed=True, box=True)


def covered_css(image_width: int, image_height: int, alignment: Alignment) -> float:
    """CSS px of the page the kept screenshot shows below where the data starts."""
    top, bottom = alignment.rows(image_height)
    return (bottom - top) / alignment.scale(image_width) - alignment.shift_px


def alignment_warning(
    data_height_css: int, image_width: int, image_height: int, alignment: Alignment, language: str = "en"
) -> str | None:
    """A sentence when the data covers clearly more or less of the page than the screenshot (> 10 %)."""
    if data_height_css <= 0:
        return None
    covered = covered_css(image_width, image_height, alignment)
    if covered <= 0:
        return legend_text(language, "warning.off")
    ratio = data_height_css / covered
    if ratio > 1 + MISMATCH_TOLERANCE:
        return legend_text(language, "warning.deeper", data_px=data_height_css, covered=covered)
    if ratio < 1 - MISMATCH_TOLERANCE:
        return legend_text(language, "warning.shorter", data_px=data_height_css, covered=covered)
    return None


# --- public entry points -----------------------------------------------------------------------------------


GAP = "    "  # between two facts on one legend line


def screen_legend(
    lines: Sequence[str], low: str, high: str, ramp: Lut, positions: npt.NDArray[np.float64] | None
) -> Legend:
    """The legend's facts from its lines (title, page, facts...), one fact per item."""
    facts = tuple(part for line in lines[2:] for part in line.split(GAP) if part)
    return Legend(lines[0], facts, low, high, legend_colours(ramp), positions)


def caption_lines(caption: Caption, display: Display, scale: str | None = None) -> list[str]:
    def say(key: str, **values: object) -> str:
        return legend_text(caption.language, key, **values)

    n = say("page_views", n=caption.page_views)
    segment = f"{caption.segment} · {caption.layer}" if caption.layer and display.kind == "clicks" else caption.segment
    if caption.clicks is not None:
        n += say("clicks", clicks=caption.clicks)
    if scale is None:
        scale = say("scale.reach") if display.kind == "reach" else say(f"scale.{display.scale}")
        if display.kind != "clicks":
            scale += say("smooth" if display.smooth else "exact")
    lines = [
        caption.title or say(f"title.{display.kind}"),
        say("page", page=caption.page),
        f"{say('dates', start=caption.start, end=caption.end)}{GAP}{say('segment', segment=segment)}",
        f"{n}{GAP}{say('scale', scale=scale, opacity=display.opacity)}",
    ]
    if caption.ga_folded:
        lines.append(say("ga_folded", share=folded_percent(caption.ga_folded)))
    return [*lines, caption.note] if caption.note else lines


def end_labels(kind: str, vmax: float, language: str) -> tuple[str, str]:
    return legend_text(language, f"low.{kind}"), legend_text(language, f"high.{kind}", vmax=vmax)


def render_map(
    screenshot: Image.Image,
    display: Display,
    caption: Caption,
    bands: BandTable | None = None,
    clicks: ClickGrid | None = None,
    alignment: Alignment | None = None,
) -> Rendered:
    """Draw one heatmap on the screenshot: bands for attention/reach, the click grid for clicks.

    Reach is a proportion and always uses the fixed 0–100 % scale; attention and clicks use `display.scale`.
    Bands with a value of 0 (or no data) and everything outside the data stay the screenshot, pixel for pixel.
    """
    alignment = alignment or Alignment()
    if display.kind not in KINDS:
        raise ValueError(f"unknown heatmap type {display.kind!r}; choose one of {', '.join(KINDS)}")
    if screenshot.mode != "RGB":
        screenshot = screenshot.convert("RGB")
    ramp = lut(display.ramp)
    width = screenshot.width
    top, bottom = alignment.rows(screenshot.height)
    height = bottom - top
    scale = alignment.scale(width)
    if display.kind == "clicks":
        if clicks is None:
            raise ValueError("a click map needs the click grid")
        density = clicks.density(width / scale, display.sigma_px)
        vmax = resolve_ceiling(density, display.scale, display.ceiling)
        # clicks rarely reach the bottom of a page: judge the alignment by the dwell data when it is given
        data_height = bands.data_height_px if bands is not None and bands.band_count else clicks.data_height_px
    else:
        if bands is None:
            raise ValueError(f"a {display.kind} map needs the band table")
        if display.kind == "reach":
            values, vmax = bands.reach, 1.0
        else:
            values = bands.seconds_per_view
            vmax = resolve_ceiling(values, display.scale, display.ceiling)
        data_height = bands.data_height_px
    warnings = [w for w in [alignment_warning(data_height, width, screenshot.height, alignment, caption.language)] if w]
    low, high = end_labels(display.kind, vmax, caption.language)
    lines = caption_lines(caption, display)
    image = _canvas(screenshot, alignment, legend_panel(width, lines, ramp, low, high, scale, warnings))
    positions = None
    if display.kind == "clicks":
        assert clicks is not None
        # image row edge y is CSS y = (y + top) / scale - shift, grid row = CSS y / y_step
        step = clicks.y_step_px
        row_to_grid = ((top / scale - alignment.shift_px) / step, 1.0 / (scale * step))
        _paint_density(image, normalise(density, vmax), height, row_to_grid, ramp, display.opacity)
    else:
        assert bands is not None
        spans = band_spans(bands.band_count, bands.band_height_px, alignment, width, height)
        drawn = np.isfinite(values) & (values > 0)
        paint = _paint_smooth if display.smooth else _paint_bands
        paint(image, normalise(values, vmax), drawn, spans, ramp, display.opacity)
        positions = np.where(drawn, normalise(values, vmax), np.nan)
    if display.lines and bands is not None and bands.page_views > 0:  # every map: where the fold and depths are
        if display.first_screen and display.kind == "clicks":
            _first_screen(image, bands, alignment, height, caption.language)
        else:
            _reach_lines(image, bands, alignment, height, REACH_LEVELS, caption.language)
    legend = screen_legend(lines, low, high, ramp, positions)
    return Rendered(image=image, map_height=height, vmax=vmax, warnings=warnings, legend=legend)


def render_difference(
    screenshot: Image.Image,
    difference: npt.ArrayLike,
    significant: npt.ArrayLike,
    caption: Caption,
    band_height_px: int,
    alignment: Alignment | None = None,
    opacity: float = 0.6,
    vmax: float | None = None,
    title: str | None = None,
    kind: Kind = "reach",
    fdr: float = 0.05,
) -> Rendered:
    """A diverging map of differences B − A (blue: B lower, red: B higher) where they are significant; every
    other pixel stays the screenshot.

    `difference` and `significant` are per band (1-D) or per region (2-D: rows of one band × columns splitting
    the width evenly, e.g. click regions of 10 % × 100 px). `kind` picks the legend's units: reach (a share),
    attention (seconds per page view) or clicks (clicks per page view, shown per 1,000 page views).
    `vmax` fixes the colour limit (e.g. 0.2 = ±20 points); by default the largest significant |difference|.
    """
    alignment = alignment or Alignment()
    if kind not in KINDS:
        raise ValueError(f"unknown heatmap type {kind!r}; choose one of {', '.join(KINDS)}")
    if screenshot.mode != "RGB":
        screenshot = screenshot.convert("RGB")
    t, mask, limit = difference_cells(difference, significant, vmax)
    ramp = lut("difference")
    width = screenshot.width
    top, bottom = alignment.rows(screenshot.height)
    scale = alignment.scale(width)
    lines, low, high = difference_words(caption, kind, limit, opacity, fdr, title)
    image = _canvas(screenshot, alignment, legend_panel(width, lines, ramp, low, high, scale))
    spans = band_spans(t.shape[0], band_height_px, alignment, width, bottom - top)
    _paint_cells(image, t, mask, spans, ramp, opacity)
    positions = np.where(mask, t, np.nan).reshape(np.shape(difference))
    legend = screen_legend(lines, low, high, ramp, positions)
    return Rendered(image=image, map_height=bottom - top, vmax=limit, legend=legend)


def difference_cells(
    difference: npt.ArrayLike, significant: npt.ArrayLike, vmax: float | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], float]:
    """Where each cell of a difference map sits on the diverging ramp (0.5 = none, rows × columns), which cells
    are painted (significant and not zero) and the colour limit: `vmax`, else the largest painted |difference|."""
    diff = np.nan_to_num(np.asarray(difference, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    grid = diff if diff.ndim == 2 else diff.reshape(-1, 1)
    mask = np.asarray(significant, dtype=bool).reshape(grid.shape) & (grid != 0)
    limit = vmax if vmax and vmax > 0 else float(np.abs(grid[mask]).max()) if mask.any() else 0.0
    return 0.5 + 0.5 * normalise(np.abs(grid), limit) * np.sign(grid), mask, limit


def difference_words(
    caption: Caption, kind: str, limit: float, opacity: float, fdr: float, title: str | None = None
) -> tuple[list[str], str, str]:
    """A difference map's legend lines and the words at the ends of its colour bar."""
    language = caption.language
    shown = limit * 1000.0 if kind == "clicks" else limit  # clicks per page view -> per 1,000 page views
    title = title or legend_text(language, f"title.difference.{kind}", fdr=fdr)
    spread = legend_text(language, f"scale.difference.{kind}", limit=shown)
    lines = caption_lines(replace(caption, title=title), Display(kind="reach", opacity=opacity), spread)
    low, high = (legend_text(language, f"{end}.difference.{kind}", limit=shown) for end in ("low", "high"))
    return lines, low, high


def _paint_cells(
    image: Image.Image,
    values_t: npt.NDArray[np.float64],
    drawn: npt.NDArray[np.bool_],
    spans: Sequence[tuple[int, int]],
    ramp: Lut,
    opacity: float,
) -> None:
    """Like `_paint_bands` for a rows × columns grid: column c spans image x [c·W/cols, (c+1)·W/cols)."""
    alpha = round(min(max(opacity, 0.0), 1.0) * 255)
    if alpha == 0:
        return
    columns = values_t.shape[1]
    edges = [round(c * image.width / columns) for c in range(columns + 1)]
    index = colour_index(values_t)
    for row, column in zip(*np.nonzero(drawn), strict=True):
        r0, r1 = spans[int(row)]
        x0, x1 = edges[int(column)], edges[int(column) + 1]
        if r1 <= r0 or x1 <= x0:
            continue
        colour = tuple(int(c) for c in ramp[index[row, column]])
        image.paste(colour, (x0, r0, x1, r1), Image.new("L", (x1 - x0, r1 - r0), alpha))
