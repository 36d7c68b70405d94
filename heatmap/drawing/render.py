"""Overlaying attention, scroll-reach and click maps on a screenshot (docs/rendering.md).

Coordinates: the data is in CSS px of the page (bands of `band_height_px`, click rows of 20 px, x in percent of
the width). The screenshot is in image px. `Alignment.scale` = image px per CSS px = image width / CSS width
(the CSS width defaults to image width / dpr, so the scale defaults to the dpr). After an optional crop of the
screenshot, CSS y maps to image row `round((y + shift_px) * scale) - crop_top`.

Blending is integer and exact: out = round((s·(255−a) + c·a) / 255) with a per-row (bands) or per-pixel
(clicks) alpha a in 0..255; where a = 0 the screenshot pixel is unchanged byte for byte, so bands with no data
or a value of 0, and everything below the data, stay the screenshot. A map is painted a strip of rows at a time
when its rows are asked for (`Rendered.rows`, heatmap.drawing.paint): a 1440 × 60,000 page is saved without a
painted copy of it.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from heatmap.contract import MAP_KINDS
from heatmap.drawing import paint
from heatmap.drawing.captions import folded_percent, legend_text
from heatmap.drawing.encode import (
    ENCODE_THREADS,
    PREVIEW_MAX_BYTES,
    PREVIEW_WIDTH,
    STRIP_ROWS,
    Source,
    encode_rows_png,
    preview_jpeg,
    thumbnail_jpeg,
    thumbnail_rows,
)
from heatmap.drawing.legend import legend_panel
from heatmap.drawing.paint import FOLD_COLOUR, LINE_COLOUR, Line
from heatmap.drawing.ramps import Lut, lut
from heatmap.errors import CropError
from heatmap.statistics.metrics import REACH_LEVELS, BandTable, ClickGrid

Kind = Literal["attention", "reach", "clicks"]
ScaleMode = Literal["max", "fixed", "p99"]
KINDS = MAP_KINDS
SCALE_MODES: tuple[str, ...] = ("max", "p99", "fixed")  # in the order the app offers them
MISMATCH_TOLERANCE = 0.10


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


@dataclass(frozen=True)
class Plain:
    """A page of one colour to paint on when there is no screenshot: its rows are made as they are painted."""

    size: tuple[int, int]
    colour: tuple[int, int, int]

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    def crop(self, box: tuple[int, int, int, int]) -> Image.Image:
        return Image.new("RGB", (box[2] - box[0], box[3] - box[1]), self.colour)


Picture = Source  # a screenshot (a Pillow image, a packed one) or a plain page


@dataclass
class Rendered:
    """A full-resolution map with its legend, plus what was decided while drawing it.

    The map is painted when its rows are asked for (`rows`), a band of rows at a time, from the screenshot it was
    drawn on: a PNG is encoded strip by strip on every core and a thumbnail paints only the top, so saving a tall
    page holds a few strips, not a painted copy of the page (`image` paints it all)."""

    source: Picture
    top: int  # the source's first kept row
    map_height: int  # rows above the legend panel
    panel: Image.Image | None
    painters: tuple[paint.Painter, ...]
    vmax: float
    warnings: list[str] = field(default_factory=list)
    legend: Legend | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.source.width, self.map_height + (self.panel.height if self.panel is not None else 0)

    def rows(self, y0: int, y1: int) -> Image.Image:
        """Rows [y0, y1) of the map and its legend panel, painted."""
        width, height = self.size
        y0, y1 = max(0, y0), min(height, y1)
        if y1 <= y0:
            raise ValueError(f"no rows between {y0} and {y1} of a picture {height} rows tall")
        map_rows = min(y1, self.map_height) - y0
        strip = None
        if map_rows > 0:
            strip = self.source.crop((0, self.top + y0, width, self.top + y0 + map_rows))
            if strip.mode != "RGB":
                strip = strip.convert("RGB")
            for painter in self.painters:
                painter(strip, y0)
            if map_rows == y1 - y0:
                return strip
        out = Image.new("RGB", (width, y1 - y0), None)  # uninitialised: fully covered below
        if strip is not None:
            out.paste(strip, (0, 0))
        if self.panel is not None:
            out.paste(self.panel, (0, self.map_height - y0))
        return out

    @functools.cached_property
    def image(self) -> Image.Image:
        """The whole picture, painted: for small pictures and tests (a tall page is 4 bytes a pixel)."""
        return self.rows(0, self.size[1])

    def png(self, compress_level: int = 1) -> bytes:
        return encode_rows_png(self.size, self.rows, compress_level)

    def preview(self, max_width: int = PREVIEW_WIDTH, max_bytes: int = PREVIEW_MAX_BYTES) -> bytes:
        return preview_jpeg(self.image, max_width, max_bytes)

    def saved(self, compress_level: int = 1) -> tuple[bytes, bytes]:
        """The PNG and the saved runs' thumbnail (the top of the map), the thumbnail's rows kept as the PNG's
        strips are painted: painting them again took a tenth of a save's CPU."""
        width, height = self.size
        head = Image.new("RGB", (width, min(height, thumbnail_rows(width))), None)
        lock = threading.Lock()

        def rows(y0: int, y1: int) -> Image.Image:
            strip = self.rows(y0, y1)
            if y0 < head.height:
                with lock:  # strips are painted on every core
                    head.paste(strip.crop((0, 0, width, min(y1, head.height) - y0)), (0, y0))
            return strip

        return encode_rows_png(self.size, rows, compress_level), thumbnail_jpeg(head)


def saving_bytes(width: int, height: int) -> int:
    """Bytes that painting and encoding a map of width × height (`Rendered.saved`) hold at most beside its
    screenshot: a strip per encoding thread, 32 bytes a pixel of theirs (the painted strip, its array and filtered
    rows, a click map's density blocks, and the thumbnail's rows kept meanwhile), and the PNG, a byte a pixel (a
    screenshot deflates to 0.3-0.6 of one; noise to 3). Measured by benchmarks/render.py at 1440 × 20,000: 35-44
    MiB and the PNG (tests/test_render.py: 40 MiB with the thumbnail's 12)."""
    in_flight = min(height, ENCODE_THREADS * STRIP_ROWS) * width
    return in_flight * 32 + width * height


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


# --- where things land --------------------------------------------------------------------------------------


def band_spans(count: int, band_height_px: int, alignment: Alignment, width: int, height: int) -> list[tuple[int, int]]:
    """Image row span [r0, r1) of each band, clipped to the map; empty spans are (0, 0)."""
    edges = alignment.css_to_row(np.arange(count + 1) * band_height_px, width)
    spans = []
    for band in range(count):
        r0, r1 = max(0, int(edges[band])), min(height, int(edges[band + 1]))
        spans.append((r0, r1) if r1 > r0 else (0, 0))
    return spans


def _reach_lines(
    bands: BandTable, alignment: Alignment, width: int, levels: Sequence[float], language: str
) -> list[Line]:
    scale = alignment.scale(width)
    drawn = [
        Line(int(alignment.css_to_row([depth], width)[0]), legend_text(language, "line.reached", level=level), scale,
             LINE_COLOUR)
        for level, depth in bands.reach_depths(tuple(levels)).items()
    ]  # fmt: skip
    fold_row = int(alignment.css_to_row([bands.fold_px], width)[0])
    return [*drawn, Line(fold_row, legend_text(language, "line.fold"), scale, FOLD_COLOUR, dashed=True)]


def _first_screen(bands: BandTable, alignment: Alignment, width: int, language: str) -> list[Line]:
    """The first screen (down to the average fold) outlined: where clicks on fixed and sticky elements sit."""
    row = int(alignment.css_to_row([bands.fold_px], width)[0])
    label = legend_text(language, "line.first_screen")
    return [Line(row, label, alignment.scale(width), FOLD_COLOUR, dashed=True, box=True)]


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
    screenshot: Picture,
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
    panel = legend_panel(width, lines, ramp, low, high, scale, warnings)
    positions = None
    if display.kind == "clicks":
        assert clicks is not None
        # image row edge y is CSS y = (y + top) / scale - shift, grid row = CSS y / y_step
        step = clicks.y_step_px
        row_to_grid = ((top / scale - alignment.shift_px) / step, 1.0 / (scale * step))
        colours = paint.density(normalise(density, vmax), height, width, row_to_grid, ramp, display.opacity)
    else:
        assert bands is not None
        spans = band_spans(bands.band_count, bands.band_height_px, alignment, width, height)
        drawn = np.isfinite(values) & (values > 0)
        painter = paint.smooth if display.smooth else paint.bands
        colours = painter(normalise(values, vmax), drawn, spans, ramp, display.opacity)
        positions = np.where(drawn, normalise(values, vmax), np.nan)
    marks: list[Line] = []
    if display.lines and bands is not None and bands.page_views > 0:  # every map: where the fold and depths are
        if display.first_screen and display.kind == "clicks":
            marks = _first_screen(bands, alignment, width, caption.language)
        else:
            marks = _reach_lines(bands, alignment, width, REACH_LEVELS, caption.language)
    legend = screen_legend(lines, low, high, ramp, positions)
    painters = (colours, paint.lines(marks, width, height))
    return Rendered(screenshot, top, height, panel, painters, vmax, warnings, legend)


def render_difference(
    screenshot: Picture,
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
    t, mask, limit = difference_cells(difference, significant, vmax)
    ramp = lut("difference")
    width = screenshot.width
    top, bottom = alignment.rows(screenshot.height)
    scale = alignment.scale(width)
    lines, low, high = difference_words(caption, kind, limit, opacity, fdr, title)
    panel = legend_panel(width, lines, ramp, low, high, scale)
    spans = band_spans(t.shape[0], band_height_px, alignment, width, bottom - top)
    colours = paint.cells(t, mask, spans, ramp, opacity, width)
    positions = np.where(mask, t, np.nan).reshape(np.shape(difference))
    legend = screen_legend(lines, low, high, ramp, positions)
    return Rendered(screenshot, top, bottom - top, panel, (colours,), limit, legend=legend)


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
