"""Computing a view and showing its map: numbers from the engine, the overlay preview, hover, table, curve.

The browser gets a downscaled screenshot (≤ PREVIEW_BYTES as JPEG) and the numbers of every map type in the map
viewer's frame (heatmap/ui/viewer.py), and paints the maps itself with the server's arithmetic
(heatmap/drawing/live.py); the full-resolution PNG is rendered on the server only when saved or downloaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import polars as pl
import streamlit as st
from PIL import Image

from heatmap.caching import PictureWork, memory, picture_work
from heatmap.drawing import live, render
from heatmap.drawing.encode import preview_jpeg
from heatmap.drawing.packed import Window
from heatmap.statistics.metrics import BandTable, ClickGrid, click_areas
from heatmap.table import FRUSTRATION_KINDS
from heatmap.ui import figures, viewer
from heatmap.ui.i18n import STRINGS, Translator
from heatmap.ui.shots import PREVIEW_WIDTH, Shot, downscaled
from heatmap.ui.widgets import segment_label
from heatmap.usecases import pictures
from heatmap.usecases.numbers import Numbers
from heatmap.usecases.view import MapSettings, Spot, View, view_query

PREVIEW_BYTES = 1_400_000  # JPEG bytes of one view together: base64 adds a third, hover numbers a few kB (budget: 2 MB)
CANVAS_WIDTHS = {"desktop": 1440, "tablet": 820, "mobile": 390}
EN = Translator("en")


def caption(view: View, nums: Numbers, t: Translator = EN) -> render.Caption:
    """The legend facts, in the language of the page that exports it, the segment named as the page names it."""
    return pictures.caption(view, nums, t.lang, segment_label(t, view.where) if view.where else None)


BLANK = (248, 248, 250)  # the plain page under a map without a screenshot


def depth_of(*nums: Numbers) -> int:
    """How far down the page the data of every map drawn on one picture reaches (CSS px)."""
    return max(max(n.bands.data_height_px, n.clicks.data_height_px) for n in nums)


def blank_page(device: str, data_height: int) -> tuple[int, int]:
    """The CSS width and height of the plain page a map without a screenshot is drawn on: the device's width,
    as deep as the data (a first screen at least), with a margin below."""
    return CANVAS_WIDTHS.get(device, 1440), max(data_height, 600) + 100


def blank_canvas(width_css: int, height_css: int, width_px: int) -> render.Plain:
    """A plain page to paint on when there is no screenshot (data only)."""
    scale = width_px / width_css
    return render.Plain((width_px, max(1, round(height_css * scale))), BLANK)


@dataclass
class Preview:
    layer: viewer.Layer
    warnings: list[str]
    seconds: float
    vmax: float
    picture: tuple[tuple[int, int], render.Alignment] | None = None  # a live map's: its size and alignment

    @property
    def payload(self) -> int:
        """Bytes the browser downloads to show this map alone in the viewer."""
        return viewer.payload_bytes(viewer.viewer_html([self.layer]))

    @property
    def nbytes(self) -> int:
        cells = self.layer.cells.nbytes if self.layer.cells is not None else 0
        return len(self.layer.jpeg) + self.layer.rows.nbytes + cells


def canvas(
    shot: Shot | None, display: MapSettings, data_height: int, device: str, full: bool = False
) -> tuple[render.Picture, render.Alignment]:
    """The picture to paint on and its alignment: the screenshot (downscaled for the browser unless `full`),
    or a plain page as tall as the data when there is no screenshot. In a picture job (caching.picture_work)."""
    if shot is not None:
        if full:
            return shot.pixels().picture, display.alignment(shot.width, shot.height)
        small = downscaled(shot, min(PREVIEW_WIDTH, shot.width))
        return small, display.alignment(shot.width, shot.height, small.width / shot.width)
    css_w, css_h = blank_page(device, data_height)
    width = css_w if full else min(PREVIEW_WIDTH, css_w)
    image = blank_canvas(css_w, css_h, width)
    return image, render.Alignment(dpr=width / css_w, css_width=css_w, shift_px=float(display.shift))


def _once(name: str, shot: Shot | None, view: View, parts: tuple[Any, ...], load: Any) -> Preview:
    """A map rendered once per server for everything that decides it: the screenshot, the view's link and
    `parts`; sessions asking for it at once wait for the one render."""
    key = (name, shot.sha256 if shot is not None else None, _link_key(view), *parts)
    made: Preview = memory().get_or_load(key, load)
    return made


def _link_key(view: View) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """A view's link as a cache key part: everything the link says decides the picture."""
    return tuple((k, tuple(v)) for k, v in sorted(view_query(view).items()))


def numbers_fingerprint(nums: Numbers) -> str:
    """What a view's numbers are, in 32 hex digits: equal numbers draw the same map."""
    digest = hashlib.blake2b(digest_size=16)
    _add_frame(digest, nums.bands.bands)
    digest.update(np.ascontiguousarray(nums.clicks.counts).tobytes())
    folded = None if nums.ga_folded is None else round(nums.ga_folded, 9)
    digest.update(repr((nums.clicks.counts.shape, nums.clicks.page_views, folded)).encode())
    return digest.hexdigest()


def _add_frame(digest: Any, frame: pl.DataFrame) -> None:
    # By content, to 9 significant digits: sums made in parallel can differ in their last bits from run to run,
    # and that must not make the same view a different picture.
    rounded = frame.with_columns(pl.col(pl.Float64).round_sig_figs(9))
    digest.update(repr(rounded.schema).encode())
    digest.update(rounded.hash_rows(seed=0).to_numpy().tobytes())


LIVE_PIXELS = 8_000_000  # of a map the browser paints: its picture and its painted copy, 4 bytes a pixel each
NO_COLOUR = MapSettings()  # the colour settings a live map's cache key leaves out: the browser applies them


def live_preview(
    shot: Shot | None,
    view: View,
    nums: Numbers,
    labels: Mapping[str, str],
    device: str = "desktop",
    t: Translator = EN,
    title: str = "",
    max_bytes: int = PREVIEW_BYTES,
    also: tuple[Numbers, ...] = (),
) -> Preview:
    """The map the browser draws itself (heatmap/drawing/live.py): the screenshot's JPEG, without any map on it,
    and the numbers of every map type, so the type, opacity, ramp, scale and smoothing change on screen without
    asking the server. Nothing in it depends on those settings: one render per view and screenshot serves every
    toggle of every designer (the alignment still decides it: it moves the data on the picture). `also`: the
    numbers of other maps painted on the same picture (`live_on`), whose bytes the picture leaves room for."""
    plain = _colourless(view)
    return _once(
        "live", shot, plain,
        (numbers_fingerprint(nums), *map(numbers_fingerprint, also), tuple(sorted(labels.items())), device, t.lang,
         title, max_bytes),
        lambda: _live_preview(shot, plain, nums, labels, device, t, title, max_bytes, also),
    )  # fmt: skip


def _colourless(view: View) -> View:
    colours = {name: getattr(NO_COLOUR, name) for name in ("ramp", "opacity", "scale", "ceiling", "smooth")}
    return replace(view, kind="attention", display=replace(view.display, **colours))


def _live_preview(
    shot: Shot | None,
    view: View,
    nums: Numbers,
    labels: Mapping[str, str],
    device: str,
    t: Translator,
    title: str,
    max_bytes: int,
    also: tuple[Numbers, ...],
) -> Preview:
    started = time.perf_counter()
    jpeg = b""
    if shot is not None:
        width = min(PREVIEW_WIDTH, shot.width)
        size = shot.scaled(width)  # what `canvas` downscales to, without making the picture
        align = view.display.alignment(shot.width, shot.height, width / shot.width)
        numbers_size = sum(
            len(json.dumps(live.live_spec(size, align, n.bands, n.clicks, caption(view, n, t)))) for n in (nums, *also)
        )
        budget = max(max_bytes // 4, max_bytes - numbers_size * 3 // 4)  # the picture gets what the numbers leave
        picture = live_picture(shot, view.display, max(max_bytes // 4, budget - budget % PICTURE_BYTES_STEP))
        jpeg, size, align = picture.jpeg, picture.size, picture.align
    else:
        css, css_height = blank_page(device, depth_of(nums, *also))
        width = min(PREVIEW_WIDTH, css)
        height = max(1, round(css_height * width / css))  # blank_canvas's: only its size is used
        if width * height > LIVE_PIXELS:
            smaller = max(100, int(width * (LIVE_PIXELS / (width * height)) ** 0.5))
            width, height = smaller, max(1, round(round(height * css / width) * smaller / css))
        size = (width, height)
        align = render.Alignment(dpr=width / css, css_width=css, shift_px=float(view.display.shift))
    made = _live_layer((size, align), jpeg, shot is None, view, nums, labels, t, title)
    made.seconds = time.perf_counter() - started
    return made


#: A live map's JPEG budget is rounded down to this step, so views whose numbers take a little more or less
#: room (another segment, other dates) share one encode of the screenshot instead of one each.
PICTURE_BYTES_STEP = 100_000


@dataclass(frozen=True)
class LivePicture:
    """A screenshot as the browser paints live maps on it: its JPEG, the size it is painted at, and where the
    data lands on it."""

    jpeg: bytes
    size: tuple[int, int]
    align: render.Alignment


def live_picture(shot: Shot, display: MapSettings, budget: int) -> LivePicture:
    """The screenshot's JPEG for live maps, encoded once per server for the rows it shows and its byte budget: a
    segment, date or map-type change on the same picture encodes nothing, nor does another pixel ratio or shift
    (they move the data on the picture, not the picture: Explore's guessed ratio and Compare's share one)."""
    rows = display.alignment(shot.width, shot.height).rows(shot.height)
    jpeg = _picture_jpeg(shot, rows, budget)
    width = Image.open(io.BytesIO(jpeg)).width  # the bytes budget may have narrowed it: paint at its size
    return LivePicture(jpeg, shot.scaled(width), display.alignment(shot.width, shot.height, width / shot.width))


def _picture_jpeg(shot: Shot, rows: tuple[int, int], budget: int) -> bytes:
    cache = memory()

    def encode() -> bytes:
        # A picture encoded for a larger budget that fits this one too is what this budget chooses: the candidates
        # before it did not fit the larger budget, so they do not fit this one (Compare after Explore).
        held = cache.keys()
        for key in held:
            if isinstance(key, tuple) and key[:3] == ("live-picture", shot.sha256, rows) and key[3] > budget:
                larger = cache.get(key)
                if isinstance(larger, bytes) and len(larger) <= budget:
                    return larger
        # From the original, not from `canvas`'s preview-width copy: the bytes budget usually narrows the picture
        # further, and one downscale of the original costs less than making the copy and downscaling that again.
        # it holds its downscale (at most PREVIEW_WIDTH wide) and a few strips of the packed original
        copies = min(1.0, (PREVIEW_WIDTH / shot.width) ** 2) + 0.1
        with picture_work(shot.width * shot.height, keep=shot.cache_key, copies=copies):
            picture = shot.pixels().picture
            top, bottom = rows
            kept = picture if (top, bottom) == (0, picture.height) else Window(picture, top, bottom)
            return preview_jpeg(kept, min(PREVIEW_WIDTH, shot.width), budget)

    found: bytes = cache.get_or_load(("live-picture", shot.sha256, rows, budget), encode)
    return found


def live_on(base: Preview, view: View, nums: Numbers, labels: Mapping[str, str], t: Translator, title: str) -> Preview:
    """Another live map on `base`'s picture (Compare's B on A's screenshot): the same JPEG, so the page carries
    it once."""
    assert base.picture is not None and base.layer.live is not None
    blank = base.layer.live.get("fill") is not None
    return _live_layer(base.picture, base.layer.jpeg, blank, _colourless(view), nums, labels, t, title)


def _live_layer(
    picture: tuple[tuple[int, int], render.Alignment],
    jpeg: bytes,
    blank: bool,
    view: View,
    nums: Numbers,
    labels: Mapping[str, str],
    t: Translator,
    title: str,
) -> Preview:
    size, align = picture
    spec = live.live_spec(
        size, align, nums.bands, nums.clicks, caption(view, nums, t), first_screen=view.layer == "fixed"
    )
    bands = nums.bands
    spec["fill"] = list(BLANK) if blank else None
    spec["hover"] = {"bands": figures.hover_template(labels), "clicks": figures.hover_template(labels, clicks=True)}
    layer = viewer.Layer(
        title=title,
        jpeg=jpeg,
        place=_live_placement(spec, align, view.display.shift, size),
        band_height=bands.band_height_px,
        template=spec["hover"]["bands"],
        rows=figures.band_hover(bands),
        cells=figures.click_hover(nums.clicks, bands),
        live=spec,
    )
    return Preview(layer, [], 0.0, 0.0, picture)


def _live_placement(
    spec: Mapping[str, Any], align: render.Alignment, shift: int, size: tuple[int, int]
) -> figures.Placement:
    scale = align.scale(size[0])
    top = align.rows(size[1])[0]
    height = spec["height"]
    return figures.Placement(
        css_width=size[0] / scale, map_height=height / scale, total_height=height / scale,
        data_top=shift - top / scale,
    )  # fmt: skip


def live_difference(
    base: Preview, view: View, comparison: Any, template: str, legend: render.Caption, title: str = ""
) -> Preview:
    """The difference map B − A on `base`'s picture, painted by the browser at any opacity (live.difference_spec):
    only its significant bands or click regions coloured, as `render.render_difference` draws it."""
    assert base.picture is not None
    size, align = base.picture
    family = comparison.family(view.kind)
    a, b = comparison.a, comparison.b
    height_px = a.band_height_px if a.band_count else b.band_height_px
    grid = family.columns > 1
    spec, shown = live.difference_spec(
        size, align, family.grid(family.diff) if grid else family.diff,
        family.significant.reshape(family.rows, family.columns) if grid else family.significant,
        height_px, view.kind, legend, comparison.alpha,
    )  # fmt: skip
    spec["fill"] = base.layer.live.get("fill") if base.layer.live else None
    hover = figures.difference_hover(comparison, view.kind)
    layer = viewer.Layer(
        title=title,
        jpeg=base.layer.jpeg,
        place=_live_placement(spec, align, view.display.shift, size),
        band_height=height_px,
        template=template,
        rows=hover if hover.ndim == 2 else np.zeros((hover.shape[0], 0)),
        cells=hover if hover.ndim == 3 else None,
        legend=shown,
        live=spec,
    )
    return Preview(layer, [], 0.0, 0.0, base.picture)


def full_picture(
    shot: Shot | None,
    view: View,
    nums: Numbers,
    device: str = "desktop",
    engine: render.Display | None = None,
    t: Translator = EN,
) -> tuple[bytes, bytes]:
    """The full-resolution PNG with the legend burned in (for saving and downloading) and the saved runs'
    thumbnail of it."""
    css, css_height = blank_page(device, depth_of(nums))  # drawn at its CSS size
    width, height = (shot.width, shot.height) if shot is not None else (css, css_height)
    pixels = width * height
    copies = render.saving_bytes(width, height) / (pixels * PictureWork.RGB_BYTES)  # painted a strip at a time
    with picture_work(pixels, keep=shot.cache_key if shot is not None else None, copies=copies):
        rendered = _render_map(shot, view, nums, device, engine, t, full=True)[0]
        saved: tuple[bytes, bytes] = rendered.saved()
        return saved


def _render_map(
    shot: Shot | None,
    view: View,
    nums: Numbers,
    device: str,
    engine: render.Display | None,
    t: Translator,
    full: bool,
) -> tuple[Any, Any, Any]:
    """The engine render of a view on the screenshot (downscaled for the browser, or full resolution)."""
    image, align = canvas(shot, view.display, depth_of(nums), device, full=full)
    rendered = pictures.draw(image, align, view, nums, caption(view, nums, t), engine)
    return rendered, image, align


def depth_marks(t: Translator, bands: BandTable) -> list[viewer.Mark]:
    """The depths a designer jumps to: the average fold and where 75/50/25 % of page views still are."""
    if bands.page_views <= 0:
        return []
    marks = [viewer.Mark(float(bands.fold_px), t("n.fold"))]
    marks += [viewer.Mark(float(px), f"{level:.0%}") for level, px in bands.reach_depths().items()]
    return sorted(marks, key=lambda m: (m.depth, m.label))


def viewer_labels(t: Translator) -> dict[str, str]:
    """Every `viewer.*` text, by its name in viewer.js: a new label there is one new i18n entry, nothing else."""
    return {key.removeprefix("viewer."): t(key) for key in STRINGS["en"] if key.startswith("viewer.")}


def show_viewer(
    t: Translator,
    layers: list[viewer.Layer],
    marks: list[viewer.Mark],
    name: str,
    link: str,
    page_path: str | None,
    start: Spot | None = None,
    minimap: int = 0,
    opening: float | None = None,
    controls: Mapping[str, Any] | None = None,
) -> int:
    """The maps in the viewer frame, as wide as the main area; returns the bytes the browser downloads. `link`:
    the view's share link; `start`: where a link asked the maps to open (else where this tab left them on
    `page_path`)."""
    html = viewer.viewer_html(
        layers, marks, viewer_labels(t), name=name, start=asdict(start) if start else None, link=link,
        remember=page_path or "", minimap=minimap, opening=opening, controls=controls,
    )  # fmt: skip
    with st.container(key=name):
        show_frame(html, viewer.DEFAULT_HEIGHT, t("viewer.map"))
    return viewer.payload_bytes(html)


def show_frame(html: str, height: int, alt: str) -> None:
    """`html` in an iframe. st.iframe first asks urllib whether its argument is a URL, and CPython's `urlsplit`
    keeps its last 128 answers with their arguments: every map shown (about 2 MB of HTML, held twice) stayed
    alive in that cache, 2.5 MB more per interaction in a long session until 128 were held (benchmarks/load.py's
    soak). The cache is emptied once the frame is made."""
    st.iframe(html, height=height, alt=alt)
    forget = getattr(urlsplit, "cache_clear", None)  # a Python without the cache has nothing to forget
    if forget is not None:
        forget()


def show_numbers(t: Translator, nums: Numbers, kind: str) -> None:
    """Page views n (always), clicks, fold and 50 % reach depth as metrics, in one row (two on a phone)."""
    with st.container(key="x_numbers"):
        cols = st.columns(4)
    cols[0].metric(t("n.page_views"), f"{nums.n:,}")
    cols[1].metric(t("n.clicks") if nums.layer == "all" else t(f"layer.{nums.layer}"), f"{nums.clicks.total:,}")
    if nums.n > 0:
        cols[2].metric(t("n.fold"), f"{nums.bands.fold_px:,} px")
        cols[3].metric(t("n.reach50"), f"{nums.bands.reach_depth_px(0.5):,} px")


def band_frame(t: Translator, bands: BandTable) -> pl.DataFrame:
    b = bands.bands
    return pl.DataFrame(
        {
            t("table.band"): b["band"],
            t("table.top"): b["top_px"],
            t("table.page_views"): b["page_views"],
            t("table.reach"): (b["reach"] * 100).round(1),
            t("table.reach_low"): (b["reach_low"] * 100).round(1),
            t("table.reach_high"): (b["reach_high"] * 100).round(1),
            t("table.seconds"): b["seconds_per_view"].round(2),
            t("table.share"): (b["attention_share"] * 100).round(1),
        }
    )


def show_table(t: Translator, bands: BandTable, key: str) -> None:
    frame = band_frame(t, bands)
    pct = st.column_config.NumberColumn(format="%.1f %%")
    st.dataframe(
        frame,
        hide_index=True,
        height=320,
        key=key,
        column_config={
            t("table.reach"): pct,
            t("table.reach_low"): pct,
            t("table.reach_high"): pct,
            t("table.share"): pct,
            t("table.seconds"): st.column_config.NumberColumn(format="%.2f s"),
            t("table.page_views"): st.column_config.NumberColumn(format="localized"),
            t("table.top"): st.column_config.NumberColumn(format="localized"),
        },
    )


def areas_frame(t: Translator, clicks: ClickGrid, band_height_px: int) -> pl.DataFrame:
    areas = click_areas(clicks, band_height_px)
    return pl.DataFrame(
        {
            t("areas.depth"): [f"{a:,}–{b:,}" for a, b in zip(areas["top_px"], areas["bottom_px"], strict=True)],
            t("areas.x"): [f"{a}–{b} %" for a, b in zip(areas["x_from"], areas["x_to"], strict=True)],
            t("areas.clicks"): areas["clicks"],
            t("areas.share"): (areas["share"] * 100).round(1),
            t("areas.rate"): areas["per_1000"].round(2),
            t("areas.low"): areas["per_1000_low"].round(2),
            t("areas.high"): areas["per_1000_high"].round(2),
        }
    )


def clicks_opening(nums: Numbers) -> float | None:
    """Where a click map opens: a little above its most clicked area (None without clicks)."""
    areas = click_areas(nums.clicks, nums.bands.band_height_px)
    if areas.is_empty():
        return None
    return float(max(0, int(areas["top_px"][0]) - nums.bands.band_height_px))


def table_height(rows: int, most: int = 320) -> int:
    """A table as tall as its rows (no empty ones under them), up to `most` px."""
    return min(most, 38 + 35 * max(1, rows))


def show_click_areas(t: Translator, nums: Numbers, key: str) -> None:
    """Where the clicks are, as numbers: the click map's hot spots in a table a designer can sort and quote."""
    st.subheader(t("areas.header"))
    st.caption(t("areas.help", band=f"{nums.bands.band_height_px:,}"))
    _areas_table(t, nums.clicks, nums, key)


def show_frustration(t: Translator, nums: Numbers, key: str) -> None:
    """The spots with most rage and most dead clicks, as the click areas list them (rate per 1,000 page views with
    its exact interval): what Clarity's and Hotjar's users open first."""
    st.subheader(t("frustration.header"))
    st.caption(t("frustration.help"))
    for name in FRUSTRATION_KINDS:
        grid = nums.flags[name]
        st.markdown(f"**{t(f'layer.{name}')}** · {t('frustration.total', count=f'{grid.total:,}')}")
        if grid.total:
            _areas_table(t, grid, nums, f"{key}_{name}", most=FRUSTRATION_SHOWN)


def show_fixed(t: Translator, nums: Numbers, key: str) -> None:
    """Clicks on fixed and sticky elements, by where they sit on the screen: listed apart from the page's clicks
    (a sticky header's clicks would otherwise smear down the whole page)."""
    grid = nums.flags["fixed"]
    if not grid.total:
        return
    st.subheader(t("fixed.header"))
    st.caption(t("fixed.help", count=f"{grid.total:,}"))
    _areas_table(t, grid, nums, key, most=FRUSTRATION_SHOWN)


FRUSTRATION_SHOWN = 10


def _areas_table(t: Translator, grid: ClickGrid, nums: Numbers, key: str, most: int | None = None) -> None:
    frame = areas_frame(t, grid, nums.bands.band_height_px)
    frame = frame if most is None else frame.head(most)
    st.dataframe(
        frame,
        hide_index=True,
        height=table_height(frame.height),
        key=key,
        column_config={
            t("areas.clicks"): st.column_config.NumberColumn(format="localized"),
            t("areas.share"): st.column_config.NumberColumn(format="%.1f %%"),
            **{t(k): st.column_config.NumberColumn(format="%.2f") for k in ("areas.rate", "areas.low", "areas.high")},
        },
    )


def show_curve(t: Translator, bands: BandTable, key: str) -> None:
    labels = {"x": t("curve.x"), "y": t("curve.y"), "interval": t("curve.interval")}
    markers = [(mark.depth, mark.label) for mark in depth_marks(t, bands)]
    st.plotly_chart(figures.reach_curve(bands, labels, markers), key=key, config={"displayModeBar": False})
