"""Pixel tests for the overlay: colours, untouched areas, line positions, alignment, legend, encoding, long pages."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest
from PIL import Image

from heatmap.drawing.encode import (
    QUALITIES,
    STRIP_ROWS,
    downscale,
    encode_png,
    preview_jpeg,
    thumbnail_jpeg,
    thumbnail_rows,
)
from heatmap.drawing.legend import displayable, legend_font
from heatmap.drawing.ramps import CMAP_NAMES, COLOUR_BLIND_SAFE, RAMPS, colour_index, lut
from heatmap.drawing.render import (
    FOLD_COLOUR,
    LINE_COLOUR,
    Alignment,
    Caption,
    Display,
    Plain,
    alignment_warning,
    render_difference,
    render_map,
    resolve_ceiling,
    saving_bytes,
)
from heatmap.statistics.metrics import BandTable, band_table, click_grid
from tests.exports import canonical_frame

CAPTION = Caption(page="/jobs", start="2025-03-01", end="2025-03-31", segment="deviceCategory=mobile", page_views=100)


def bands_from(views: list[int], seconds: list[float] | None = None) -> BandTable:
    seconds = seconds if seconds is not None else [float(v) for v in views]
    rows = [
        (date(2025, 3, 1), "/jobs", "dwell", b, None, None, v, s)
        for b, (v, s) in enumerate(zip(views, seconds, strict=True))
        if v or s
    ]
    return band_table(canonical_frame(rows, ()))


def noise(width: int, height: int, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image)


def test_hottest_band_gets_the_hot_end_of_the_ramp() -> None:
    # n = 100; seconds per view 1, 4, 2, 0 -> band 1 is the hottest (t = 1), band 2 is t = 0.5, band 0 t = 0.25
    bt = bands_from([100, 80, 60, 0], [100.0, 400.0, 200.0, 0.0])
    white = Image.new("RGB", (50, 500), (255, 255, 255))
    for ramp in RAMPS:
        out = pixels(render_map(white, Display(kind="attention", ramp=ramp, opacity=1.0), CAPTION, bt).image)
        table = lut(ramp)
        assert out[150, 25].tolist() == table[255].tolist()  # band 1 rows 100-199
        assert out[250, 25].tolist() == table[128].tolist()  # 0.5 * 255 = 127.5 -> rounds to 128
        assert out[50, 25].tolist() == table[64].tolist()  # 0.25 * 255 = 63.75 -> 64
    assert lut("classic")[255].tolist() == [255, 0, 0] and lut("classic")[0].tolist() == [0, 0, 255]


def test_opacity_blends_exactly() -> None:
    # grey 100 under red at opacity 0.6: alpha = round(0.6 * 255) = 153; R = round((100*102 + 255*153)/255) = 193,
    # G = B = round(100*102/255) = 40
    bt = bands_from([100], [500.0])
    grey = Image.new("RGB", (10, 100), (100, 100, 100))
    out = pixels(render_map(grey, Display(kind="attention", opacity=0.6), CAPTION, bt).image)
    assert out[50, 5].tolist() == [193, 40, 40]


def test_empty_areas_are_untouched_byte_for_byte() -> None:
    # bands 0-1 have data, band 2 is zero, band 3 has data, nothing after band 3; picture 800 px tall
    bt = bands_from([100, 50, 0, 10], [300.0, 100.0, 0.0, 10.0])
    shot = noise(64, 800)
    for kind in ("attention", "reach"):
        rendered = render_map(shot, Display(kind=kind, lines=False), CAPTION, bt)
        out, src = pixels(rendered.image), pixels(shot)
        assert rendered.map_height == 800
        assert np.array_equal(out[200:300], src[200:300])  # band 2 (zero)
        assert np.array_equal(out[400:800], src[400:800])  # below the data
        assert not np.array_equal(out[0:100], src[0:100])  # band 0 is painted


def test_reach_lines_at_the_right_rows_with_dpr_2() -> None:
    # reach 1.00 .90 .70 .40 .20 (n = 100): first band < .95 is 1 -> fold at 100 css px; < .75 is band 2 -> 200;
    # < .50 is band 3 -> 300; < .25 is band 4 -> 400. At dpr 2 the rows are 200, 400, 600 and 800.
    bt = bands_from([100, 90, 70, 40, 20])
    shot = Image.new("RGB", (400, 1200), (255, 255, 255))  # 200 css px wide at dpr 2
    out = pixels(render_map(shot, Display(kind="reach", opacity=0.5), CAPTION, bt, alignment=Alignment(dpr=2)).image)
    x = 390  # right of the labels
    for row in (400, 600, 800):
        assert out[row, x].tolist() == list(LINE_COLOUR)
        assert out[row - 2, x].tolist() == list(LINE_COLOUR)  # thickness round(2 * 2) = 4: rows row-2 .. row+1
        assert out[row + 1, x].tolist() == list(LINE_COLOUR)
        assert out[row - 3, x].tolist() != list(LINE_COLOUR)
    # the fold line is dashed: 24 px (12 css px) of FOLD_COLOUR, then 24 px of LINE_COLOUR
    assert out[200, 0:24].tolist() == [list(FOLD_COLOUR)] * 24
    assert out[200, 24:48].tolist() == [list(LINE_COLOUR)] * 24
    # the 50 % line sits between band 2 (reach .7) and band 3 (.4): the row above it still has band 2's colour
    assert out[590, x].tolist() != out[610, x].tolist()


def test_css_width_shift_and_crop() -> None:
    bt = bands_from([100], [100.0])  # one band: css 0-100 px
    shot = noise(300, 600, seed=1)
    # css width 100 on a 300 px image -> scale 3; shift 20 css px -> rows 60..359; crop_top 30 -> rows 30..329
    align = Alignment(css_width=100, shift_px=20, crop_top=30, crop_bottom=500)
    rendered = render_map(shot, Display(kind="attention", lines=False), CAPTION, bt, alignment=align)
    out, src = pixels(rendered.image), pixels(shot)
    assert rendered.map_height == 470
    assert np.array_equal(out[0:30], src[30:60])
    assert not np.array_equal(out[30:330], src[60:360])
    assert np.array_equal(out[330:470], src[360:500])


def test_alignment_warning() -> None:
    assert alignment_warning(1000, 100, 1050, Alignment()) is None  # within 10 %
    assert "covers 800 px" in (alignment_warning(1000, 100, 800, Alignment()) or "")
    assert "only 500 px" in (alignment_warning(500, 200, 2000, Alignment(dpr=2)) or "")
    bt = bands_from([100] * 20)  # 2000 css px of data on a 1000 px picture
    assert render_map(Image.new("RGB", (50, 1000)), Display(kind="reach"), CAPTION, bt).warnings


def test_scale_modes() -> None:
    values = np.array([0.0, 1.0, 2.0, 3.0, 100.0])
    assert resolve_ceiling(values, "max") == 100.0
    assert resolve_ceiling(values, "fixed", 5.0) == 5.0
    # p99 of the positive values 1, 2, 3, 100 with linear interpolation: rank .99*3 = 2.97 -> 3 + .97*97 = 97.09
    assert resolve_ceiling(values, "p99") == pytest.approx(97.09)
    assert resolve_ceiling([0.0], "max") == 0.0
    with pytest.raises(ValueError, match="ceiling"):
        resolve_ceiling(values, "fixed")
    # a fixed ceiling below the hottest band clamps it at the hot end
    bt = bands_from([100, 100], [100.0, 400.0])  # 1 and 4 s per view
    white = Image.new("RGB", (10, 200), (255, 255, 255))
    out = pixels(render_map(white, Display(kind="attention", scale="fixed", ceiling=2.0, opacity=1), CAPTION, bt).image)
    assert out[150, 5].tolist() == [255, 0, 0]
    assert out[50, 5].tolist() == lut("classic")[128].tolist()


def test_click_map_paints_near_the_clicks_only() -> None:
    rows = [(date(2025, 3, 1), "/jobs", "dwell", 0, None, None, 100, 10.0)]
    rows += [(date(2025, 3, 1), "/jobs", "click", None, 50, 10, 40, 0.0)]  # x 50-51 %, y 200-220 px
    table = canonical_frame(rows, ())
    bt = band_table(table)
    grid = click_grid(table, bt.page_views)
    shot = noise(200, 1000, seed=2)
    out = pixels(render_map(shot, Display(kind="clicks", opacity=1.0, lines=False), CAPTION, bt, grid).image).astype(
        int
    )
    src = pixels(shot).astype(int)
    changed = np.abs(out[:1000] - src).sum(axis=2) > 0
    ys, xs = np.nonzero(changed)
    assert 150 < ys.mean() < 270 and 80 < xs.mean() < 120  # centred on (101 px, 210 px)
    assert not changed[400:].any() and not changed[:, :20].any()  # far away: untouched
    # the peak is at the hot end (red) at full opacity: pixel centres sit a quarter cell off the cell centre, so
    # the interpolated peak is t ~ 0.99 (green <= 16 of 255 in the red-yellow segment)
    white = Image.new("RGB", (200, 1000), (255, 255, 255))
    out = pixels(render_map(white, Display(kind="clicks", opacity=1.0, lines=False), CAPTION, bt, grid).image).astype(
        int
    )
    hot = out[:1000, :, 0] - out[:1000, :, 1]
    y, x = np.unravel_index(hot.argmax(), hot.shape)
    assert abs(y - 210) <= 2 and abs(x - 101) <= 2
    assert out[y, x, 0] == 255 and out[y, x, 1] <= 16 and out[y, x, 2] == 0


def test_legend_is_burned_in() -> None:
    bt = bands_from([100, 50])
    rendered = render_map(Image.new("RGB", (600, 300), (0, 0, 0)), Display(kind="reach"), CAPTION, bt)
    assert rendered.image.height > 300
    legend = pixels(rendered.image)[300:]
    assert (legend == 255).all(axis=2).mean() > 0.5  # a white panel ...
    assert (legend < 100).all(axis=2).any()  # ... with dark text
    ramp_row = legend[(legend[:, :, 2] == 255) & (legend[:, :, 0] == 0) & (legend[:, :, 1] == 0)]
    assert ramp_row.size  # the colour bar's blue end


def test_the_legend_facts_for_the_screen_are_the_burned_in_ones() -> None:
    bt = bands_from([100, 80, 60, 50], [100.0, 400.0, 200.0, 0.0])  # 1, 4, 2, 0 s per view
    white = Image.new("RGB", (50, 500), (255, 255, 255))
    legend = render_map(white, Display(kind="attention", ramp="viridis"), CAPTION, bt).legend
    assert legend is not None
    assert legend.title == "Attention: average seconds per page view each part of the page was on screen"
    assert legend.facts[:3] == (
        "Dates: 2025-03-01 – 2025-03-31",
        "Segment: deviceCategory=mobile",
        "n = 100 page views",
    )
    assert legend.high == "≥ 4 s per page view" and legend.low.startswith("0")
    assert legend.colours[0] == "#" + bytes(lut("viridis")[0]).hex()
    assert legend.colours[-1] == "#" + bytes(lut("viridis")[255]).hex()
    assert legend.positions is not None
    assert np.allclose(legend.positions[:3], [0.25, 1.0, 0.5]) and np.isnan(legend.positions[3])  # 0 s: unpainted
    clicks = render_map(white, Display(kind="clicks"), CAPTION, bt, click_grid(canonical_frame([], ()), 100)).legend
    assert clicks is not None and clicks.positions is None
    diff = render_difference(white, [0.0, 0.10, -0.05, 0.2], [False, True, True, False], CAPTION, 100).legend
    assert diff is not None and diff.positions is not None
    assert np.isnan(diff.positions[0]) and np.allclose(diff.positions[1:3], [1.0, 0.25]) and np.isnan(diff.positions[3])


def test_text_without_a_glyph_is_percent_encoded() -> None:
    font = legend_font(14)
    assert displayable("/jobs?q=1 – 2", font) in ("/jobs?q=1 – 2", "/jobs?q=1 %E2%80%93 2")
    text = displayable("/求人/東京", font)
    assert text in ("/求人/東京", "/%E6%B1%82%E4%BA%BA/%E6%9D%B1%E4%BA%AC")


def test_difference_map_colours_significant_bands_only() -> None:
    shot = noise(40, 400, seed=3)
    rendered = render_difference(
        shot, [0.0, 0.10, -0.05, 0.2], [False, True, True, False], CAPTION, band_height_px=100, opacity=1.0
    )
    out, src = pixels(rendered.image), pixels(shot)
    assert np.array_equal(out[0:100], src[0:100]) and np.array_equal(out[300:400], src[300:400])
    assert out[150, 5].tolist() == lut("difference")[255].tolist()  # +0.10 is the largest significant -> hot red
    assert out[250, 5].tolist() == lut("difference")[64].tolist()  # -0.05 -> 0.5 - 0.25 = 0.25 -> 64 (blue side)
    assert rendered.vmax == pytest.approx(0.10)


def test_difference_map_of_click_regions_colours_only_significant_cells() -> None:
    # 2 bands x 10 columns on a 200 px wide page: region (0, 8) is x 160-179, rows 0-99; (1, 2) x 40-59, rows 100-199
    shot = noise(200, 300, seed=6)
    diff = np.zeros((2, 10))
    diff[0, 8], diff[1, 2], diff[1, 5] = -0.05, 0.02, 0.5
    significant = np.zeros((2, 10), dtype=bool)
    significant[0, 8] = significant[1, 2] = True  # (1, 5) is large but not significant: left alone
    rendered = render_difference(shot, diff, significant, CAPTION, 100, opacity=1.0, kind="clicks")
    out, src = pixels(rendered.image), pixels(shot)
    assert out[50, 170].tolist() == lut("difference")[0].tolist()  # −0.05 is the largest |significant|: cold end
    assert out[150, 50].tolist() == lut("difference")[colour_index(0.5 + 0.5 * 0.02 / 0.05)].tolist()
    painted = np.zeros(src.shape[:2], dtype=bool)
    painted[0:100, 160:180] = painted[100:200, 40:60] = True
    assert np.array_equal(out[:300][~painted], src[~painted])  # everything else is the screenshot, byte for byte
    assert rendered.vmax == pytest.approx(0.05)
    with pytest.raises(ValueError, match="unknown heatmap type"):
        render_difference(shot, diff, significant, CAPTION, 100, kind="heat")  # type: ignore[arg-type]


def test_ramps() -> None:
    for name in (*RAMPS, "difference"):
        table = lut(name)
        assert table.shape == (256, 3) and table.dtype == np.uint8
    assert set(COLOUR_BLIND_SAFE) <= set(RAMPS)
    colors = pytest.importorskip("plotly.colors")
    cmap = pytest.importorskip("cmap")
    # viridis and cividis are matplotlib's exact 256-entry tables (from the cmap package), not interpolated stops
    for name, stops in (("viridis", colors.sequential.Viridis), ("cividis", colors.sequential.Cividis)):
        assert len(cmap.Colormap(CMAP_NAMES[name]).color_stops) == 256
        table = lut(name).astype(int)
        # the ends are the published ones (plotly.colors.sequential lists matplotlib's ramps as 10 hex stops)
        assert "#" + bytes(lut(name)[0]).hex() == stops[0] and "#" + bytes(lut(name)[255]).hex() == stops[-1]
        for stop in stops:  # every published stop is (within 2 levels per channel) one of the 256 entries
            rgb = np.array([int(stop[i : i + 2], 16) for i in (1, 3, 5)])
            assert np.abs(table - rgb).max(axis=1).min() <= 2, (name, stop)
    # matplotlib's viridis(0.5) = (0.127568, 0.566949, 0.550556) = #21918c (_cm_listed._viridis_data[128])
    assert "#" + bytes(lut("viridis")[128]).hex() == "#21918c"
    assert lut("viridis")[0].tolist() == [68, 1, 84] and lut("cividis")[255].tolist() == [254, 232, 56]
    # the difference ramp is ColorBrewer RdBu reversed: #053061 (blue) ... #f7f7f7 ... #67001f (red)
    ends = ["#" + bytes(lut("difference")[i]).hex() for i in (0, 255)]
    assert ends == ["#053061", "#67001f"]
    with pytest.raises(ValueError, match="unknown colour ramp"):
        lut("jet")


def test_png_round_trips_exactly() -> None:
    image = noise(123, 1100, seed=4)  # crosses several 512-row strips
    decoded = Image.open(io.BytesIO(encode_png(image)))
    assert decoded.mode == "RGB" and np.array_equal(pixels(decoded), pixels(image))
    assert np.array_equal(pixels(Image.open(io.BytesIO(encode_png(image, compress_level=0)))), pixels(image))


@pytest.mark.parametrize("height", [1, 511, 512, 513, 2600])
def test_png_strips_deflated_apart_make_one_valid_zlib_stream(height: int) -> None:
    """The strips are deflated in parallel and joined: zlib itself (which checks the Adler-32, as Pillow does
    not) reads the joined stream as the filtered rows: the first of each strip led by filter byte 1 (Sub: less
    the pixel to its left), so no strip needs another's rows, the others by 2 (Up: less the row above)."""
    import struct
    import zlib

    image = noise(300, height, seed=height)
    data = encode_png(image)
    at, idat = 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        if data[at + 4 : at + 8] == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 300 * 3 + 1)
    firsts = np.arange(height) % STRIP_ROWS == 0
    assert (raw[firsts, 0] == 1).all() and (raw[~firsts, 0] == 2).all()
    rows = raw[:, 1:].reshape(height, 300, 3).copy()
    rows[firsts] = np.cumsum(rows[firsts], axis=1, dtype=np.uint8)  # undo Sub: each pixel adds its left neighbour
    for first in np.flatnonzero(firsts):  # undo Up: each row adds the one above, modulo 256
        rows[first : first + STRIP_ROWS] = np.cumsum(rows[first : first + STRIP_ROWS], axis=0, dtype=np.uint8)
    assert np.array_equal(rows, pixels(image))


def test_adler32_of_joined_strips_is_zlibs() -> None:
    import zlib

    from heatmap.drawing.encode import _adler32_combine

    rng = np.random.default_rng(9)
    data = rng.integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    for cut in (0, 1, 65_520, 65_521, 65_522, 150_000, 300_000):
        first, second = data[:cut], data[cut:]
        assert _adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second)) == zlib.adler32(data)


def test_preview_fits_the_budget() -> None:
    image = noise(1440, 6000, seed=5)  # noise is the worst case for JPEG
    data = preview_jpeg(image, max_width=900, max_bytes=500_000)
    preview = Image.open(io.BytesIO(data))
    assert preview.format == "JPEG" and preview.width <= 900 and len(data) <= 500_000
    assert preview.height == pytest.approx(preview.width * 6000 / 1440, abs=1)


def _first_fit(image: Image.Image, max_width: int, max_bytes: int) -> tuple[int, int]:
    """The exhaustive search the estimate stands in for: every width from the widest, every quality from 82."""
    width = max_width
    while True:
        small = downscale(image, width, round(image.height * width / image.width))
        for quality in QUALITIES:
            buffer = io.BytesIO()
            small.save(buffer, format="JPEG", quality=quality)
            if len(buffer.getvalue()) <= max_bytes:
                return width, quality
        width = round(width * 0.8)


def screenshot_like() -> Image.Image:
    """A demo page (sections, text, buttons) with a noisy photo in it, like the pages designers upload."""
    from heatmap.demo import PAGES, draw_page

    page = pixels(draw_page(PAGES[0], "desktop")).copy()
    page[600:1000, 700:1300] = pixels(noise(600, 400, seed=3))
    return Image.fromarray(page)


def noisy_top() -> Image.Image:
    """Noise over the top third: JPEG's worst case, and far from the size model's starting guesses."""
    page = np.full((4000, 900, 3), 235, np.uint8)
    page[:1500] = pixels(noise(900, 1500, seed=2))
    return Image.fromarray(page)


@pytest.mark.parametrize(
    ("picture", "most_encodes"), [(screenshot_like, 4), (noisy_top, 6)], ids=["screenshot", "noise"]
)
@pytest.mark.parametrize("max_bytes", [60_000, 150_000, 400_000, 5_000_000])
def test_preview_encodes_a_few_times_and_lands_near_the_best_fit(
    picture: Callable[[], Image.Image], most_encodes: int, max_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = picture()
    max_width = min(1200, image.width)
    encodes = []
    save = Image.Image.save
    monkeypatch.setattr(Image.Image, "save", lambda self, *a, **k: encodes.append(self.size) or save(self, *a, **k))
    data = preview_jpeg(image, max_width=max_width, max_bytes=max_bytes)
    monkeypatch.setattr(Image.Image, "save", save)
    assert len(data) <= max_bytes and len(encodes) <= most_encodes, encodes
    best_width, _ = _first_fit(image, max_width, max_bytes)
    got = Image.open(io.BytesIO(data))
    assert best_width * 0.8 - 1 <= got.width <= best_width, "the exhaustive choice, or one width step after it"


def test_strip_downscale_matches_a_whole_image_resize() -> None:
    ramp = np.repeat(np.linspace(0, 255, 5000)[:, None], 300, axis=1).astype(np.uint8)
    image = Image.fromarray(np.stack([ramp, ramp, ramp], axis=-1))
    whole = image.resize((180, 3000), Image.Resampling.BILINEAR)
    assert np.array_equal(pixels(downscale(image, 180, 3000)), pixels(whole))  # no seams between strips


def test_1440_by_60000_renders_within_memory() -> None:
    shot = Image.new("RGB", (1440, 60000), (250, 250, 250))
    bt = bands_from([int(1000 * 0.99**b) for b in range(600)])
    rendered = render_map(shot, Display(kind="reach"), CAPTION, bt)
    png, preview = rendered.png(), rendered.preview()
    assert rendered.size[1] > 60000 and png[:8] == b"\x89PNG\r\n\x1a\n" and len(preview) <= 2_000_000
    assert Image.open(io.BytesIO(png)).size == rendered.size


def _strip_cases() -> dict[str, Callable[[Image.Image, Alignment], Any]]:
    rows = [(date(2025, 3, 1), "/jobs", "dwell", b, None, None, 1000 - 9 * b, 5.0 + b * 37 % 11) for b in range(40)]
    rng = np.random.default_rng(1)
    rows += [
        (date(2025, 3, 1), "/jobs", "click", None, int(x), int(y), int(n), 0.0)
        for x, y, n in zip(rng.integers(0, 100, 80), rng.integers(0, 200, 80), rng.integers(1, 30, 80), strict=True)
    ]
    table = canonical_frame(rows, ())
    bt, grid = band_table(table), click_grid(table, 1000)
    diff = np.linspace(-0.2, 0.2, 40).reshape(4, 10)
    return {
        "attention": lambda shot, at: render_map(shot, Display(kind="attention"), CAPTION, bt, alignment=at),
        "smooth": lambda shot, at: render_map(shot, Display(kind="attention", smooth=True), CAPTION, bt, alignment=at),
        "reach": lambda shot, at: render_map(shot, Display(kind="reach"), CAPTION, bt, alignment=at),
        "clicks": lambda shot, at: render_map(shot, Display(kind="clicks"), CAPTION, bt, grid, at),
        "first screen": lambda shot, at: render_map(
            shot, Display(kind="clicks", first_screen=True), CAPTION, bt, grid, at
        ),
        "difference": lambda shot, at: render_difference(
            shot, diff, np.arange(40).reshape(4, 10) % 3 == 0, CAPTION, 1000, at, kind="clicks"
        ),
    }


@pytest.mark.parametrize("case", list(_strip_cases()))
def test_a_map_is_the_same_whichever_strips_paint_it(case: str) -> None:
    """Saving paints a map a strip of rows at a time (Rendered.rows): every row comes out as when the whole map is
    painted at once, whatever rows a strip starts and ends at (lines and labels across strips, click densities
    across the 512-row blocks they are resampled in), and the PNG and thumbnail hold those rows."""
    shot = noise(300, 2600, seed=5)
    at = Alignment(dpr=0.7, shift_px=13, crop_top=40, crop_bottom=2500)
    whole = _strip_cases()[case](shot, at)
    assert whole.size == (300, 2460 + whole.panel.height)
    fresh = _strip_cases()[case](shot, at)  # nothing painted before: each strip is painted from the screenshot
    edges = [0, 1, 37, 500, 530, 1024, 1100, 2459, 2461, 2470, whole.size[1]]
    strips = [pixels(fresh.rows(top, bottom)) for top, bottom in itertools.pairwise(edges)]
    assert np.array_equal(np.concatenate(strips), pixels(whole.image))
    assert (pixels(whole.image)[:2460] != pixels(shot)[40:2500]).any(), "the map paints something"
    png, thumbnail = fresh.saved()
    assert np.array_equal(pixels(Image.open(io.BytesIO(png))), pixels(whole.image))
    assert thumbnail == thumbnail_jpeg(whole.image)


def test_a_saved_thumbnail_is_the_top_of_the_map_across_strips() -> None:
    """A wide map's thumbnail rows (1.5 × its width) span several of the PNG's strips, painted on every core."""
    rendered = render_map(noise(1000, 4000, seed=3), Display(kind="attention"), CAPTION, bands_from([90, 50, 20, 5]))
    png, thumbnail = rendered.saved()
    assert thumbnail_rows(1000) > 2 * STRIP_ROWS
    assert thumbnail == thumbnail_jpeg(rendered.image) == thumbnail_jpeg(png)


def test_a_plain_page_paints_as_a_picture_of_its_colour_would() -> None:
    bt = bands_from([100, 80, 60, 0, 20])
    plain = render_map(Plain((320, 700), (248, 248, 250)), Display(kind="attention", smooth=True), CAPTION, bt)
    image = render_map(
        Image.new("RGB", (320, 700), (248, 248, 250)), Display(kind="attention", smooth=True), CAPTION, bt
    )
    assert np.array_equal(pixels(plain.image), pixels(image.image))


def test_saving_a_tall_map_holds_what_it_declares_not_a_copy_of_the_page() -> None:
    """A fresh process paints and encodes a 1440 × 20,000 map (the PNG and the thumbnail, what a save makes) and
    reports how far its resident size peaked above where it stood with the screenshot decoded (the kernel's
    high-water mark, reset first through /proc/self/clear_refs): within what the picture budget reserves for it
    (render.saving_bytes), two thirds of one painted copy of the page (painting the whole page first held 1.3)."""
    import subprocess
    import sys

    code = r"""
import re
import numpy as np
from PIL import Image
from heatmap.drawing.render import Caption, Display, render_map
from tests.test_render import bands_from, screenshot_like
def kb(field):
    return int(re.search(field + r":\s+(\d+)", open("/proc/self/status").read()).group(1))
page = np.asarray(screenshot_like())
shot = Image.fromarray(np.tile(page, (-(-20000 // page.shape[0]), 1, 1))[:20000, :1440])
caption = Caption(page="/jobs", start="2025-03-01", end="2025-03-31", page_views=1000)
bands = bands_from([int(1000 * 0.99**b) for b in range(200)])
render_map(shot.crop((0, 0, 1440, 2000)), Display(kind="attention"), caption, bands).png()  # fonts, threads
open("/proc/self/clear_refs", "w").write("5")
before = kb("VmRSS")
rendered = render_map(shot, Display(kind="attention"), caption, bands)
png, thumbnail = rendered.saved()
print((kb("VmHWM") - before) * 1024, len(png), *rendered.size)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    risen, png_bytes, width, height = (int(word) for word in out.stdout.split())
    assert (width, height) > (1440, 20000) and png_bytes > 1_000_000
    assert risen <= saving_bytes(1440, 20000) < 0.7 * width * height * 4, (risen / 1e6, png_bytes / 1e6)


def test_click_map_alignment_is_judged_by_the_dwell_data() -> None:
    # dwell data covers 1000 css px, the clicks only the first 220 px: on a 1000 px screenshot no warning
    rows = [(date(2025, 3, 1), "/jobs", "dwell", b, None, None, 100 - b, 10.0) for b in range(10)]
    rows += [(date(2025, 3, 1), "/jobs", "click", None, 50, 10, 40, 0.0)]
    table = canonical_frame(rows, ())
    bt = band_table(table)
    grid = click_grid(table, bt.page_views)
    shot = Image.new("RGB", (100, 1000))
    assert render_map(shot, Display(kind="clicks"), CAPTION, bt, grid).warnings == []
    assert render_map(shot, Display(kind="clicks"), CAPTION, None, grid).warnings  # clicks alone: 220 vs 1000


def test_low_values_fade_in_so_the_page_shows_through() -> None:
    # seconds per view 1 and 10: t = 0.1 and 1. Alpha fades in over the lowest quarter of the scale, so band 0 gets
    # alpha round(0.1 / 0.25 * 255) = 102 of the colour at index round(0.1 * 255) = 26; band 1 the full colour.
    bt = bands_from([100, 100], [100.0, 1000.0])
    grey = Image.new("RGB", (10, 200), (100, 100, 100))
    out = pixels(render_map(grey, Display(kind="attention", opacity=1.0), CAPTION, bt).image).astype(int)
    colour = lut("classic")[26].astype(int)
    expected = np.rint((100 * (255 - 102) + colour * 102) / 255)
    assert np.abs(out[50, 5] - expected).max() <= 1
    assert out[150, 5].tolist() == lut("classic")[255].tolist()


def test_smooth_rendering_interpolates_between_band_centres() -> None:
    # seconds per view 1 and 3 (t = 1/3 and 1); band centres at rows 49.5 and 149.5. Row 99 lies 49.5 rows past the
    # first centre: t = 1/3 + 0.495 * 2/3 = 0.6633 -> index round(169.15) = 169. Above the first centre the first
    # band's value holds (index 85), below the last centre the last's (255); below the data nothing is painted.
    bt = bands_from([100, 100], [100.0, 300.0])
    white = Image.new("RGB", (10, 300), (255, 255, 255))
    display = Display(kind="attention", opacity=1.0, smooth=True, lines=False)
    rendered = render_map(white, display, CAPTION, bt)
    out = pixels(rendered.image)
    table = lut("classic")
    assert out[99, 5].tolist() == table[169].tolist()
    assert out[10, 5].tolist() == table[85].tolist()
    assert out[190, 5].tolist() == table[255].tolist()
    assert out[250, 5].tolist() == [255, 255, 255]
    exact = pixels(render_map(white, replace(display, smooth=False), CAPTION, bt).image)
    assert exact[99, 5].tolist() == table[85].tolist()  # the exact view: one colour per band


def test_every_map_type_labels_the_fold_and_reach_depths() -> None:
    # reach 1.00 .90 .70 .40 .20: the 50 % line at 300 css px (dpr 1) on attention and click maps too
    bt = bands_from([100, 90, 70, 40, 20], [100.0, 90.0, 70.0, 40.0, 20.0])
    white = Image.new("RGB", (300, 600), (255, 255, 255))
    grid = click_grid(canonical_frame([(date(2025, 3, 1), "/jobs", "click", None, 50, 30, 5, 0.0)], ()), 100)
    for kind in ("attention", "clicks"):
        out = pixels(render_map(white, Display(kind=kind), CAPTION, bt, grid).image)
        assert out[300, 290].tolist() == list(LINE_COLOUR), kind
        plain = pixels(render_map(white, Display(kind=kind, lines=False), CAPTION, bt, grid).image)
        assert plain[300, 290].tolist() != list(LINE_COLOUR)


def test_the_legend_says_whether_bands_are_smoothed() -> None:
    from heatmap.drawing.render import caption_lines

    smooth = " ".join(caption_lines(CAPTION, Display(kind="attention", smooth=True)))
    exact = " ".join(caption_lines(CAPTION, Display(kind="reach")))
    assert "smoothed between band centres" in smooth and "one colour per band" in exact
    assert "帯の中心" in " ".join(caption_lines(replace(CAPTION, language="ja"), Display(kind="reach", smooth=True)))


def test_legend_says_what_ga_folded_in_both_languages() -> None:
    """A view over report-route days where GA4 folded events into "(other)" says so on the PNG; none: no line."""
    from dataclasses import replace

    from heatmap.drawing.render import caption_lines

    folded = replace(CAPTION, ga_folded=0.37)
    assert "GA folded 37.0 % of these heatmap events into (other)" in " ".join(
        caption_lines(folded, Display(kind="attention"))
    )
    japanese = " ".join(caption_lines(replace(folded, language="ja"), Display(kind="attention")))
    assert "37.0 % を (other) にまとめました" in japanese and "GA folded" not in japanese
    assert "< 0.1 %" in " ".join(caption_lines(replace(CAPTION, ga_folded=0.0004), Display(kind="attention")))
    assert "folded" not in " ".join(caption_lines(CAPTION, Display(kind="attention")))


def test_a_crop_that_leaves_nothing_is_its_own_error_and_other_mistakes_are_not():
    """The app shows a CropError as a crop warning; any other ValueError of drawing is a bug, logged as one."""
    from heatmap.drawing.render import Alignment
    from heatmap.errors import CropError

    with pytest.raises(CropError, match="the crop leaves no rows"):
        Alignment(crop_top=300, crop_bottom=200).rows(1000)
    assert Alignment(crop_top=100, crop_bottom=200).rows(1000) == (100, 200)


def long_page(seed: int) -> Image.Image:
    """A 1440 × 20,000 landing page: pale sections of "text" rows, each with a photo of noise, of random heights, so
    how many bytes a row costs in JPEG varies down the page as a real one's does."""
    rng = np.random.default_rng(seed)
    page = np.full((20_000, 1440, 3), 245, np.uint8)
    top = 120
    while top < 19_000:
        tall = int(rng.integers(300, 900))
        page[top : top + tall, 80:1360] = rng.integers(180, 250, 3)
        page[top + 30 : top + tall - 60 : 28, 120:700] = 40  # lines of words, a pixel high
        photo = min(tall - 60, 400)
        coarse = rng.integers(0, 256, (photo // 4, 150, 3), dtype=np.uint8)
        page[top + 30 : top + 30 + photo, 800:1400] = np.asarray(Image.fromarray(coarse).resize((600, photo)))
        top += tall + 40
    return Image.fromarray(page)


def test_the_size_probe_of_a_long_page_is_within_four_percent() -> None:
    """A preview's first downscale is at the width the probe says will fit, and a miss costs a second full
    downscale (a fifth of a second on a tall page). The probe encodes a sample of the page's rows; eight bands of 512
    rows missed these pages' sizes by up to 16 %, so a busy section in or out of the sample decided the width."""
    from heatmap.drawing.encode import _probed

    misses = {}
    for seed in range(1000, 1008):
        page = long_page(seed)
        buffer = io.BytesIO()
        page.reduce(2).save(buffer, format="JPEG", quality=QUALITIES[0])
        misses[seed] = round(_probed(page, 2) / len(buffer.getvalue()) - 1, 3)
    assert all(abs(miss) <= 0.04 for miss in misses.values()), misses


@pytest.mark.parametrize("max_bytes", [150_000, 400_000])
def test_preview_of_a_screenshot_downscales_the_original_once(max_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A box-reduced copy tells which width will fit, so the costly full-size downscale is made once (it was made
    at 1,200 px and again at each narrower width tried)."""
    import heatmap.drawing.encode as encode

    image, widths = screenshot_like(), []
    original = encode.downscale
    monkeypatch.setattr(encode, "downscale", lambda im, w, h: widths.append(w) or original(im, w, h))
    data = preview_jpeg(image, max_width=1200, max_bytes=max_bytes)
    assert len(data) <= max_bytes and len(widths) == 1, widths
    assert Image.open(io.BytesIO(data)).width == _first_fit(image, 1200, max_bytes)[0]
