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
from heatmap.images import load_screenshot
from heatmap.statistics.metrics import REACH_LEVELS
from tests.test_memory_budget import caching_home


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


def test_a_tall_noisy_page_stays_within_the_payload_budget(demo: tuple[object, object]) -> None:
    from heatmap.ui import figures, mapview, viewer
    from heatmap.ui.i18n import Translator

    view, nums = demo
    noise = np.random.default_rng(7).integers(0, 256, (20_000, 1440, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG", compress_level=0)
    shot = load_screenshot(buffer.getvalue(), page_shape=True)
    shown = mapview.live_preview(shot, view, nums, figures.hover_labels(Translator("en"), 100))  # type: ignore[arg-type]
    assert viewer.payload_bytes(viewer.viewer_html([shown.layer])) <= 2_000_000
    picture = Image.open(io.BytesIO(shown.layer.jpeg))
    assert picture.size == (shown.layer.live["width"], shown.layer.live["height"])  # type: ignore[index]
