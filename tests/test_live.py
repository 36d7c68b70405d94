"""The numbers the browser paints Explore's map from (heatmap/drawing/live.py): one spec for every colour setting,
the legend's words as the server burns them, and a payload within the 2 MB budget on a tall page. That the
browser's pixels equal the server's is tested in a real browser: tests/e2e/test_instant_toggles.py."""

from __future__ import annotations

import io
import re
from datetime import date
from itertools import product

import numpy as np
import pytest
from PIL import Image

from heatmap.drawing import live, render
from heatmap.statistics.metrics import REACH_LEVELS
from tests.test_memory_budget import caching_home, shot_of


@pytest.fixture(scope="module")
def demo() -> tuple[object, object]:
    from heatmap.demo import ensure_demo
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import View

    engine = load_dataset(LocalStore(ensure_demo(caching_home())))
    last = engine.catalog.days[-1]
    view = View(page="/", start=date(last.year, last.month, 1), end=last, kind="attention")
    return view, numbers(engine, view)


def _filled(text: str, values: dict[str, float]) -> str:
    return re.sub(r"\{(\w+):([^}]*)\}", lambda m: format(values[m[1]], m[2]), text)


@pytest.mark.parametrize(("kind", "scale", "smooth"), list(product(render.KINDS, ("max", "p99"), (False, True))))
def test_the_legend_words_are_the_ones_the_server_burns_in(
    demo: tuple[object, object], kind: str, scale: str, smooth: bool
) -> None:
    from heatmap.ui import mapview

    view, nums = demo
    caption = mapview.caption(view.with_(kind=kind), nums)  # type: ignore[attr-defined]
    image = Image.new("RGB", (1440, 4000), (250, 250, 250))
    display = render.Display(kind=kind, scale=scale, smooth=smooth, opacity=0.35)  # type: ignore[arg-type]
    burned = render.render_map(image, display, caption, nums.bands, nums.clicks)  # type: ignore[attr-defined]
    words = live.legends(caption, nums.clicks.total)[f"{kind}|{scale}|{int(smooth)}"]  # type: ignore[attr-defined]
    values = {"opacity": 0.35, "vmax": burned.vmax}
    assert burned.legend is not None
    assert words["title"] == burned.legend.title
    assert [_filled(f, values) for f in words["facts"]] == list(burned.legend.facts)
    assert (_filled(words["low"], values), _filled(words["high"], values)) == (burned.legend.low, burned.legend.high)


def test_the_spec_has_every_map_type_and_the_servers_ceilings(demo: tuple[object, object]) -> None:
    _view, nums = demo
    align = render.Alignment(css_width=1440)
    spec = live.live_spec((1200, 5000), align, nums.bands, nums.clicks, render.Caption("/", "a", "b"))  # type: ignore[attr-defined]
    bands = nums.bands  # type: ignore[attr-defined]
    assert len(spec["spans"]) == len(spec["reach"]) == len(spec["attention"]) == bands.band_count
    density = nums.clicks.density(1440)  # type: ignore[attr-defined]
    sent = np.frombuffer(__import__("base64").b64decode(spec["density"]), dtype="<f8")
    assert np.array_equal(sent, density.ravel()), "the click density, exactly"
    assert spec["densityCeilings"]["p99"] == render.resolve_ceiling(density, "p99")
    assert spec["attentionCeilings"]["max"] == render.resolve_ceiling(bands.seconds_per_view, "max")
    assert [line["fold"] for line in spec["lines"]].count(True) == 1
    assert len(spec["lines"]) <= len(REACH_LEVELS) + 1


def test_one_live_map_serves_every_colour_setting_but_not_another_alignment(demo: tuple[object, object]) -> None:
    from heatmap.ui import figures, mapview
    from heatmap.ui.i18n import Translator
    from heatmap.usecases.view import MapSettings

    view, nums = demo
    labels = figures.hover_labels(Translator("en"), 100)
    first = mapview.live_preview(None, view, nums, labels)  # type: ignore[arg-type]
    for kind, display in (
        ("clicks", MapSettings(ramp="viridis", opacity=0.8)),
        ("reach", MapSettings(scale="fixed", ceiling=3.0, smooth=True)),
    ):
        again = mapview.live_preview(None, view.with_(kind=kind, display=display), nums, labels)  # type: ignore[attr-defined]
        assert again is first
    shifted = mapview.live_preview(None, view.with_(display=MapSettings(shift=40)), nums, labels)  # type: ignore[attr-defined]
    assert shifted is not first and shifted.layer.place.data_top != first.layer.place.data_top


def test_another_segment_on_the_same_screenshot_encodes_no_new_picture(demo: tuple[object, object]) -> None:
    """The JPEG is most of a live map's server time: views of one screenshot that differ in their numbers (a
    segment, dates) share it, unless the picture's alignment or its byte budget's step differ."""
    from heatmap.caching import memory
    from heatmap.demo import ensure_demo
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore
    from heatmap.ui import figures, mapview
    from heatmap.ui.i18n import Translator
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import MapSettings

    view, nums = demo
    home = caching_home()
    shot = shot_of((ensure_demo(home) / "screenshots" / "home__desktop.png").read_bytes())
    engine = load_dataset(LocalStore(ensure_demo(home)))
    mobile = view.with_(where={"deviceCategory": ["mobile"]})  # type: ignore[attr-defined]
    other = numbers(engine, mobile)
    labels = figures.hover_labels(Translator("en"), 100)

    def pictures() -> set[tuple[object, ...]]:  # the encodes of this screenshot the server's cache holds
        held = memory().keys()
        return {key for key in held if key[0] == "live-picture" and key[1] == shot.sha256}

    before = pictures()  # other tests may have shown this demo picture already
    first = mapview.live_preview(shot, view, nums, labels)  # type: ignore[arg-type]
    second = mapview.live_preview(shot, mobile, other, labels)
    assert second is not first and second.layer.live != first.layer.live  # other numbers ...
    assert second.layer.jpeg is first.layer.jpeg  # ... on the one encode of the picture
    assert len(pictures() - before) <= 1
    shifted = mapview.live_preview(shot, view.with_(display=MapSettings(shift=40, dpr=2)), nums, labels)  # type: ignore[attr-defined]
    assert shifted.layer.jpeg is first.layer.jpeg, "a shift or a pixel ratio moves the data, not the picture"
    assert shifted.layer.place.data_top != first.layer.place.data_top
    assert len(pictures() - before) <= 1
    cropped = mapview.live_preview(shot, view.with_(display=MapSettings(crop_top=100)), nums, labels)  # type: ignore[attr-defined]
    assert cropped.layer.jpeg is not first.layer.jpeg, "a crop shows other rows: another encode"


def test_a_picture_encoded_for_a_larger_budget_serves_a_smaller_one_it_fits() -> None:
    """Compare (three maps' numbers) asks for a smaller picture budget than Explore on the same screenshot: the
    picture Explore's budget chose is the one Compare's would choose when it fits, so it is not encoded again."""
    from heatmap.ui import mapview
    from heatmap.usecases.view import MapSettings

    rng = np.random.default_rng(12)
    noisy = Image.fromarray(rng.integers(0, 256, (2400, 900, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    noisy.save(buffer, format="PNG")
    shot = shot_of(buffer.getvalue())
    large = mapview.live_picture(shot, MapSettings(), 900_000)
    assert len(large.jpeg) <= 800_000, "a budget step below it still fits"
    assert mapview.live_picture(shot, MapSettings(dpr=2), 800_000).jpeg is large.jpeg
    tight = mapview.live_picture(shot, MapSettings(), len(large.jpeg) // 2)
    assert tight.jpeg is not large.jpeg and len(tight.jpeg) <= len(large.jpeg) // 2


@pytest.mark.parametrize(("device", "height"), [("desktop", 3_000), ("mobile", 9_000), ("desktop", 40_000)])
def test_a_map_without_a_screenshot_is_painted_at_the_blank_pages_size(device: str, height: int) -> None:
    """Without a screenshot only the plain page's size is needed: it is computed, never drawn (a 100,000-px deep
    page's plain picture would be 300 MB), and equals what drawing it gives, shrunk to LIVE_PIXELS when large."""
    from dataclasses import replace

    from heatmap.ui import figures, mapview
    from heatmap.ui.i18n import Translator
    from heatmap.usecases.view import MapSettings

    image, align = mapview.canvas(None, MapSettings(shift=12), height, device)
    if image.width * image.height > mapview.LIVE_PIXELS:
        width = max(100, int(image.width * (mapview.LIVE_PIXELS / (image.width * image.height)) ** 0.5))
        css = align.css_width or image.width
        image = mapview.blank_canvas(round(css), round(image.height / align.scale(image.width)), width)
        align = replace(align, dpr=width / css)
    from heatmap.statistics.metrics import band_table, click_grid
    from heatmap.usecases.numbers import Numbers
    from heatmap.usecases.view import View
    from tests.exports import canonical_frame

    rows = [(date(2026, 1, 1), "/", "dwell", band, None, None, 10, 5.0) for band in range(height // 100)]
    frame = canonical_frame(rows, ())
    nums = Numbers(bands=band_table(frame), clicks=click_grid(frame, 10))
    view = View(page="/", start=date(2026, 1, 1), end=date(2026, 1, 1), display=MapSettings(shift=12))
    shown = mapview.live_preview(None, view, nums, figures.hover_labels(Translator("en"), 100), device)
    assert (shown.layer.live["width"], shown.layer.live["height"]) == image.size  # type: ignore[index]
    assert shown.picture == (image.size, align)


def test_a_tall_noisy_page_stays_within_the_payload_budget(demo: tuple[object, object]) -> None:
    from heatmap.ui import figures, mapview, viewer
    from heatmap.ui.i18n import Translator

    view, nums = demo
    noise = np.random.default_rng(7).integers(0, 256, (20_000, 1440, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG", compress_level=0)
    shot = shot_of(buffer.getvalue())
    shown = mapview.live_preview(shot, view, nums, figures.hover_labels(Translator("en"), 100))  # type: ignore[arg-type]
    assert viewer.payload_bytes(viewer.viewer_html([shown.layer])) <= 2_000_000
    picture = Image.open(io.BytesIO(shown.layer.jpeg))
    assert picture.size == (shown.layer.live["width"], shown.layer.live["height"])  # type: ignore[index]


def test_side_by_side_maps_get_one_colour_scale(demo: tuple[object, object]) -> None:

    _view, nums = demo
    bands = nums.bands  # type: ignore[attr-defined]
    align = render.Alignment(css_width=1440)
    caption = render.Caption("/", "a", "b")
    wide = live.live_spec((1200, 5000), align, bands, nums.clicks, caption)  # type: ignore[attr-defined]
    narrow = live.live_spec((600, 2500), render.Alignment(css_width=720), bands, nums.clicks, caption)  # type: ignore[attr-defined]
    doubled = np.asarray(bands.seconds_per_view) * 2
    a, b = live.shared_scale([wide, narrow], [bands.seconds_per_view, doubled])
    assert a["attentionCeilings"] == b["attentionCeilings"]
    assert a["attentionCeilings"]["max"] == pytest.approx(2 * wide["attentionCeilings"]["max"])
    densities = [np.frombuffer(__import__("base64").b64decode(s["density"]), dtype="<f8") for s in (wide, narrow)]
    for mode in ("max", "p99"):
        assert a["densityCeilings"][mode] == b["densityCeilings"][mode] == render.shared_ceiling(densities, mode)
    assert a["reach"] == wide["reach"] and a["density"] == wide["density"], "only the ceilings change"


def test_the_difference_map_spec_is_what_the_server_paints() -> None:
    image = Image.new("RGB", (1000, 1200), (250, 250, 250))
    align = render.Alignment(css_width=1000)
    diff = np.array([0.2, -0.1, 0.05, 0.0, np.nan, -0.3])
    significant = np.array([True, True, False, True, True, True])
    caption = render.Caption("/", "2026-10-01", "2026-10-31", language="ja")
    spec, legend = live.difference_spec(image.size, align, diff, significant, 100, "reach", caption, 0.05)
    burned = render.render_difference(image, diff, significant, caption, 100, alignment=align, opacity=0.4)
    painted = [i for i, index in enumerate(spec["cellIndex"]) if index >= 0]
    assert painted == [0, 1, 5], "significant, non-zero, finite"
    t = 0.5 + 0.5 * np.clip(np.abs(diff) / 0.3, 0, 1) * np.sign(diff)
    assert spec["cellIndex"][0] == round(t[0] * 255) and spec["cellIndex"][5] == 0, "the largest fall: the ramp's end"
    assert spec["spans"][:2] == [[0, 100], [100, 200]] and spec["cellColumns"] == 1
    assert burned.legend is not None
    assert (legend.title, legend.low, legend.high) == (burned.legend.title, burned.legend.low, burned.legend.high)
    assert [_filled(f, {"opacity": 0.4}) for f in legend.facts] == list(burned.legend.facts)
    assert legend.positions is not None and np.allclose(legend.positions, burned.legend.positions, equal_nan=True)
