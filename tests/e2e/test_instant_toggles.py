"""Explore's map type and colours change in the browser, without a server rerun, and the browser paints the
server's colours: on a plain page (no screenshot) every pixel of the browser's map equals the server's render of
the same picture, and every band's colour equals the saved PNG's (heatmap/drawing/live.py, viewer.js)."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, FrameLocator, Page, expect

from tests.fixtures import map_viewer as viewer
from tests.fixtures.browser import Server, wait_for_app_run

pytestmark = pytest.mark.e2e

COLUMNS = (7, 300, 600, 900)  # image px of the browser's map sampled down every row (7: under the line labels)


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    context = chromium_browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    yield context.new_page()
    context.close()


def painted(page: Page) -> FrameLocator:
    frame = viewer.frame(page, "x_map")
    expect(frame.locator("#viewer[data-painted=true]")).to_have_count(1, timeout=60_000)
    return frame


def digest(frame: FrameLocator) -> str:
    return str(frame.locator(".live").evaluate("e => [...e.querySelectorAll('canvas')].map(c => c.toDataURL()).join()"))


def never_reruns(page: Page, act: object, frame: FrameLocator, kind: str | None = None) -> None:
    """Do `act` and watch the app's script state every 25 ms for a second: it must stay notRunning."""
    app = page.get_by_test_id("stApp")
    page.evaluate(
        """() => { window.__states = new Set();
                   const app = document.querySelector('[data-testid=stApp]');
                   window.__watch = setInterval(() => window.__states.add(app.dataset.testScriptState), 25); }"""
    )
    assert callable(act)
    act()
    if kind:
        expect(frame.locator(".live")).to_have_attribute("data-kind", kind, timeout=5_000)
    page.wait_for_timeout(1_000)
    states = page.evaluate("() => { clearInterval(window.__watch); return [...window.__states]; }")
    assert states == ["notRunning"], states
    assert app.get_attribute("data-test-script-state") == "notRunning"


def test_map_type_opacity_and_ramp_change_in_the_browser_without_a_rerun(st_server: Server, page: Page) -> None:
    page.goto(f"{st_server.base_url}/?page=%2F")
    wait_for_app_run(page)
    frame = painted(page)
    before = digest(frame)
    legend = frame.get_by_test_id("map-legend")
    expect(legend).to_contain_text("Attention")
    expect(page.locator(".st-key-x_areas_box")).to_be_hidden()  # the click areas: only under a click map

    never_reruns(page, lambda: page.locator(".st-key-x_kind").get_by_text("Clicks").click(), frame, "clicks")
    assert digest(frame) != before
    expect(legend).to_contain_text("Clicks: smoothed clicks per 1,000 page views")
    assert parse_qs(urlsplit(page.url).query)["type"] == ["clicks"], "the address bar is the view's link"
    expect(page.locator(".st-key-x_areas_box")).to_be_visible()  # the ranked click areas come with the map

    clicks = digest(frame)
    page.get_by_test_id("stSidebar").get_by_text("Alignment and display").click()
    thumb = page.locator(".st-key-x_opacity [data-testid=stSliderThumbValue]").locator("..")
    never_reruns(page, lambda: (thumb.click(), page.keyboard.press("ArrowRight")), frame)
    expect(frame.locator(".live")).to_have_attribute("data-kind", "clicks")
    expect(legend).to_contain_text("opacity 50%")
    assert digest(frame) != clicks

    def viridis() -> None:
        page.locator(".st-key-x_ramp").get_by_role("combobox").click()
        page.keyboard.type("Viridis")
        page.keyboard.press("Enter")

    opaque = digest(frame)
    never_reruns(page, viridis, frame)
    expect(frame.locator(".key .ramp")).to_have_attribute("style", re.compile("#440154|rgb\\(68, 1, 84\\)"))
    assert digest(frame) != opaque

    # What is made from the server's view (link, PNG, JSON) hides until the server has the map as shown.
    expect(page.locator(".st-key-x_as_shown")).to_be_hidden()
    page.locator(".st-key-x_update button").click()
    wait_for_app_run(page)
    expect(page.locator(".st-key-x_as_shown")).to_be_visible()
    link = page.locator(".st-key-x_as_shown code").first.text_content() or ""  # the full link, folded
    assert "type=clicks" in link and "ramp=viridis" in link and "opacity=0.5" in link, link
    frame = painted(page)
    expect(frame.get_by_test_id("map-legend")).to_contain_text("opacity 50%")  # the new frame reads the widgets


def _columns(page: Page, frame: FrameLocator) -> tuple[np.ndarray, dict[str, object]]:
    """The browser's map, rows × COLUMNS × RGB, and its live spec."""
    found = frame.locator(".live").evaluate(
        """(e, columns) => {
            const out = [];
            for (const canvas of e.querySelectorAll('canvas')) {
                const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                for (let y = 0; y < canvas.height; y++)
                    for (const x of columns) { const i = 4 * (y * canvas.width + x); out.push(data[i], data[i + 1], data[i + 2]); }
            }
            return btoa(String.fromCharCode(...new Uint8Array(out)));
        }""",
        list(COLUMNS),
    )
    values = np.frombuffer(base64.b64decode(found), dtype=np.uint8).reshape(-1, len(COLUMNS), 3)
    spec = viewer.config(page, "x_map")["layers"][0]["live"]
    return values, spec


def _away_from_lines(spec: dict[str, object], rows: int) -> np.ndarray:
    keep = np.ones(rows, dtype=bool)
    for line in spec["lines"]:  # type: ignore[attr-defined]
        row = int(line["row"])
        keep[max(0, row - 40) : row + 4] = False  # the bar and its label box above it
    return keep


@pytest.mark.parametrize("kind, smooth", [("attention", False), ("reach", True), ("clicks", False)])
def test_the_browser_paints_the_servers_colours(
    st_server: Server, page: Page, demo_home: Path, kind: str, smooth: bool
) -> None:
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore
    from heatmap.ui import mapview
    from heatmap.ui.i18n import Translator
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import MapSettings, parse_view, view_query

    extra = "&smooth=1" if smooth else ""
    page.goto(f"{st_server.base_url}/?page=%2F&type={kind}&opacity=0.6&ramp=cividis{extra}")
    wait_for_app_run(page)
    page.locator(".st-key-x_src").get_by_text("None (data only)").click()
    expect(page).not_to_have_url(re.compile(r"[?&]shot="), timeout=60_000)  # the run that drops the picture
    wait_for_app_run(page)
    frame = painted(page)
    expect(frame.locator(".live")).to_have_attribute("data-kind", kind)
    browser, spec = _columns(page, frame)

    engine = load_dataset(LocalStore(demo_home / "demo"))
    view, problems = parse_view(parse_qs(urlsplit(page.url).query), _options(engine))
    assert (
        not problems and view.kind == kind and view.display == MapSettings(ramp="cividis", opacity=0.6, smooth=smooth)
    )
    assert "type" in view_query(view)
    nums = numbers(engine, view)
    rendered, image, _align = mapview._render_map(None, view, nums, "desktop", None, Translator("en"), full=False)
    server = np.asarray(rendered.image)[: rendered.map_height][:, list(COLUMNS)]
    assert server.shape == browser.shape
    keep = _away_from_lines(spec, len(server))
    assert (server[keep] != browser[keep]).any(axis=2).sum() == 0, "every pixel of the map, byte for byte"
    plain = np.asarray(image.crop((0, 0, image.width, len(server))))[:, list(COLUMNS)]
    assert (server[keep] != plain[keep]).any(), "the map is painted"

    if kind == "clicks":
        return
    full = np.asarray(Image.open(io.BytesIO(mapview.full_picture(None, view, nums, "desktop")[0])).convert("RGB"))
    for (r0, r1), value in zip(spec["spans"], spec[kind], strict=True):  # type: ignore[call-overload]
        if r1 <= r0 or value < 0 or smooth:
            continue
        centre = (r0 + r1) // 2
        if keep[centre]:
            css = (centre + 0.5) / float(spec["scale"])  # type: ignore[arg-type]
            assert tuple(full[int(css), 720]) == tuple(browser[centre, 2]), (r0, r1)


def _options(engine: object) -> object:
    from heatmap.ui.widgets import _options

    return _options(engine.catalog)[0]  # type: ignore[attr-defined]


def test_the_viewer_reads_the_widgets_in_japanese(st_server: Server, page: Page) -> None:
    page.goto(f"{st_server.base_url}/?page=%2F&type=reach&ramp=viridis&scale=p99&lang=ja")
    wait_for_app_run(page)
    frame = painted(page)
    expect(frame.locator(".live")).to_have_attribute("data-kind", "reach")
    controls = viewer.config(page, "x_map")["controls"]
    for name, value in (("ramp", "viridis"), ("scale", "p99")):
        shown = page.locator(f".st-key-x_{name} input[role=combobox]").input_value()
        assert controls[f"{name}s"].get(shown) == value, (name, shown)  # the label the page shows, mapped back
    expect(frame.locator(".key .ramp")).to_have_attribute("style", re.compile("#440154|rgb\\(68, 1, 84\\)"))
    assert page.evaluate("document.body.dataset.heatmapSettings") == "reach|viridis|0.45|p99||0"


COMPARE = "Compare?page=%2F&type=reach&a_device=desktop&b_device=desktop&a_visitor=new&b_visitor=returning&diff=1"


def test_compare_colours_change_in_the_browser_and_b_minus_a_is_the_servers(
    st_server: Server, page: Page, demo_home: Path
) -> None:
    from heatmap.drawing import render
    from heatmap.engines.local import load_dataset
    from heatmap.statistics import compare
    from heatmap.stores import LocalStore
    from heatmap.ui import mapview
    from heatmap.ui.compare_page import difference_caption
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import parse_compare

    page.goto(f"{st_server.base_url}/{COMPARE}")
    wait_for_app_run(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Screenshot", exact=True).click()
    wait_for_app_run(page)
    none = page.locator(".st-key-c_src").get_by_role("radio", name="None (data only)")
    page.locator(".st-key-c_src").get_by_text("None (data only)").click()
    try:  # once in 1,200 tests the click was lost to a run that redrew the radio as it was: as a designer would, again
        expect(none).to_be_checked(timeout=10_000)
    except AssertionError:
        page.locator(".st-key-c_src").get_by_text("None (data only)").click()
    # the run that drops the picture takes it out of the link; until then the frame may still be the old one
    expect(page).not_to_have_url(re.compile(r"[?&]shot="), timeout=60_000)
    wait_for_app_run(page)
    frame = viewer.frame(page, "c_maps")
    expect(frame.locator("#viewer[data-painted=true]")).to_have_count(1, timeout=60_000)
    panes = frame.locator(".live")
    expect(panes).to_have_count(3)
    pane_digest = "e => [...e.querySelectorAll('canvas')].map(c => c.toDataURL()).join()"
    a_before, diff_before = panes.nth(0).evaluate(pane_digest), panes.nth(2).evaluate(pane_digest)
    assert viewer.config(page, "c_maps")["layers"][1]["srcOf"] is None, "no picture: nothing to share"

    sidebar.get_by_text("Alignment and display").click()
    thumb = page.locator(".st-key-c_opacity [data-testid=stSliderThumbValue]").locator("..")
    never_reruns(page, lambda: (thumb.click(), page.keyboard.press("ArrowRight")), frame)
    legends = frame.get_by_test_id("map-legend")
    for i in range(3):  # every pane, B − A too, at the new opacity
        expect(legends.nth(i)).to_contain_text("opacity 50%")
    assert panes.nth(0).evaluate(pane_digest) != a_before and panes.nth(2).evaluate(pane_digest) != diff_before

    found = panes.nth(2).evaluate(
        """(e, columns) => {
            const out = [];
            for (const canvas of e.querySelectorAll('canvas')) {
                const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                for (let y = 0; y < canvas.height; y++)
                    for (const x of columns) { const i = 4 * (y * canvas.width + x); out.push(data[i], data[i + 1], data[i + 2]); }
            }
            return btoa(String.fromCharCode(...new Uint8Array(out)));
        }""",
        list(COLUMNS),
    )
    browser = np.frombuffer(base64.b64decode(found), dtype=np.uint8).reshape(-1, len(COLUMNS), 3)

    engine = load_dataset(LocalStore(demo_home / "demo"))
    view, problems = parse_compare(parse_qs(urlsplit(page.url).query), _options(engine))
    assert not problems and view.kind == "reach" and view.display.opacity == 0.5, (problems, page.url)
    side_a, side_b = view.sides()
    nums_a, nums_b = numbers(engine, side_a), numbers(engine, side_b)
    comparison = compare.compare_bands(nums_a.bands, nums_b.bands, clicks_a=nums_a.clicks, clicks_b=nums_b.clicks)
    family = comparison.family("reach")
    assert family.significant_count > 0, "the demo's new and returning visitors differ"
    data_height = mapview.depth_of(nums_a, nums_b)
    image, align = mapview.canvas(None, side_a.display, data_height, "desktop")
    rendered = render.render_difference(
        image, family.diff, family.significant, difference_caption(view, nums_a.n + nums_b.n), 100,
        alignment=align, opacity=0.5, kind="reach", fdr=comparison.alpha,
    )  # fmt: skip
    server = np.asarray(rendered.image)[: rendered.map_height][:, list(COLUMNS)]
    assert server.shape == browser.shape
    assert (server != browser).any(axis=2).sum() == 0, "every pixel of B − A, byte for byte"
    plain = np.asarray(image.crop((0, 0, image.width, len(server))))
    assert (server != plain[:, list(COLUMNS)]).any(), "some bands are painted"

    def viridis() -> None:
        page.locator(".st-key-c_ramp").get_by_role("combobox").click()
        page.keyboard.type("Viridis")
        page.keyboard.press("Enter")

    a_now, diff_now = panes.nth(0).evaluate(pane_digest), panes.nth(2).evaluate(pane_digest)
    never_reruns(page, viridis, frame)
    assert panes.nth(0).evaluate(pane_digest) != a_now, "A in the new ramp"
    assert panes.nth(2).evaluate(pane_digest) == diff_now, "B − A keeps its diverging colours"

    page.get_by_role("button", name="Share link").click()  # the link waits for the server to have the colours shown
    expect(page.locator(".st-key-c_as_shown")).to_be_hidden()
    page.locator(".st-key-c_update button").click()
    wait_for_app_run(page)
    expect(page.locator(".st-key-c_as_shown")).to_be_visible()  # the popover stays open over the rerun
    link = page.locator(".st-key-c_as_shown code").first.text_content() or ""
    assert "ramp=viridis" in link and "opacity=0.5" in link, link
