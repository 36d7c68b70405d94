"""The map viewer in a real browser: hover on every map type, compare maps that scroll together (side by side and
swipe), zoom, jump to depth, keyboard, the browser's Back and Forward, and screenshots of every page at two screen
sizes in both languages (artifacts/e2e/screens/, git-ignored) to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.fixtures import map_viewer as viewer
from tests.fixtures.browser import ARTIFACTS, Server, wait_for_app_run

pytestmark = pytest.mark.e2e

SIZES = ({"width": 1400, "height": 1000}, {"width": 1920, "height": 1080})
COMPARE = "Compare?page=%2F&a_device=desktop&b_device=desktop&a_visitor=new&b_visitor=returning&diff=1"


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    context = chromium_browser.new_context(viewport=SIZES[0], locale="en-US")
    yield context.new_page()
    context.close()


def goto(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)
    expect(page.get_by_test_id("stException")).to_have_count(0)


def query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_hover_reads_out_attention_reach_and_clicks(st_server: Server, page: Page) -> None:
    for kind, expected in (
        ("attention", ("Band 2 (200–300 CSS px)", "s per view", "of attention", "page views")),
        ("reach", ("Band 2 (200–300 CSS px)", "Reach", "95 % CI", "Seen by")),
        ("clicks", ("clicks · x 80–85 %", "Band 0 (0–100 CSS px)")),
    ):
        goto(page, f"{st_server.base_url}/?page=%2F&type={kind}")
        y = 60 if kind == "clicks" else 250  # clicks: the Sign up button, top right
        text = viewer.hover(page, "x_map", 0, 0.82, y)
        for part in expected:
            assert part in text, (kind, text)
    goto(page, f"{st_server.base_url}/?page=%2F&type=reach&lang=ja")
    assert "帯 2" in viewer.hover(page, "x_map", 0, 0.5, 250)


def test_compare_maps_scroll_together_and_swipe(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/{COMPARE.replace('desktop', 'mobile')}")  # the demo's tall mobile page
    frame = viewer.frame(page, "c_maps")
    srcdoc = page.locator(".st-key-c_maps iframe").get_attribute("srcdoc") or ""
    assert 0 < len(srcdoc.encode()) <= 2_000_000, "a view's payload stays within 2 MB"
    assert viewer.jpeg_maps(page, "c_maps") == 3
    for pane, title in ((0, "A"), (1, "B"), (2, "B − A")):  # hover on A, B and the difference map
        text = viewer.hover(page, "c_maps", pane, 0.5, 950)
        assert text.startswith(title) and "Band 9 " in text, text
        assert ("n = A " if pane == 2 else "Seen by ") in text, text  # n on every read-out
    scroller = frame.locator(".scroller")
    scroller.evaluate("el => { el.scrollTop = 900; }")
    tops = [frame.locator(viewer.MAP).nth(i).bounding_box()["y"] for i in range(3)]  # type: ignore[index]
    assert max(tops) - min(tops) < 1, tops  # one scroller: A, B and B − A stay level
    assert tops[0] < scroller.bounding_box()["y"], "scrolled past the top of the maps"  # type: ignore[index]
    minimap = frame.locator("[data-testid=map-minimap] .frame")
    assert float(minimap.evaluate("e => parseFloat(e.style.top)")) > 0, "the minimap shows where the view is"

    frame.get_by_role("button", name="Swipe").click()
    expect(frame.locator(".pane")).to_have_count(2)  # A and B stacked in one pane, B − A beside it
    frame.locator("input[type=range]").fill("30")
    over = frame.locator(".swipe .over")
    assert "30%" in over.evaluate("e => e.style.clipPath")
    frame.get_by_test_id("map-link").click()
    spot = parse_qs(urlsplit(frame.get_by_test_id("map-linkbox").locator("input").input_value()).query)
    assert spot["layout"] == ["swipe"] and spot["swipe"] == ["30"]  # the link reopens the same comparison
    page.keyboard.press("Escape")
    box, view = frame.locator(".swipe").bounding_box(), scroller.bounding_box()
    assert box is not None and view is not None
    middle = view["y"] + view["height"] / 2  # a point of the stacked maps inside the scroller's window
    page.mouse.move(box["x"] + box["width"] * 0.1, middle)
    expect(frame.get_by_test_id("map-tip")).to_have_attribute("data-layer", "A")
    page.mouse.move(box["x"] + box["width"] * 0.9, middle)
    expect(frame.get_by_test_id("map-tip")).to_have_attribute("data-layer", "B")
    page.screenshot(path=str(_shot_path("compare-swipe")))


PHONE = {"width": 390, "height": 844}


def inside(inner: dict[str, float] | None, outer: dict[str, float] | None) -> bool:
    assert inner is not None and outer is not None
    return outer["y"] - 1 <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1


@pytest.mark.parametrize(("size", "lang"), [(SIZES[0], "en"), (PHONE, "ja")], ids=["desktop-en", "phone-ja"])
def test_the_legend_stays_in_view_and_marks_the_hovered_band(
    st_server: Server, chromium_browser: Browser, size: ViewportSize, lang: str
) -> None:
    context = chromium_browser.new_context(viewport=size, locale="ja-JP" if lang == "ja" else "en-US")
    page = context.new_page()
    try:
        goto(page, f"{st_server.base_url}/?page=%2F&type=reach&lang={lang}")
        frame = viewer.frame(page, "x_map")
        scroller, key = frame.locator(".scroller"), frame.get_by_test_id("map-legend")
        expect(key).to_have_count(1)
        page.locator(".st-key-x_map iframe").evaluate("e => e.scrollIntoView({block: 'start'})")  # a phone: the map
        assert inside(key.bounding_box(), scroller.bounding_box()), "the legend is on the viewer's first screen"
        title = "スクロール到達率" if lang == "ja" else "Scroll reach"
        expect(key).to_contain_text(title)
        expect(key).to_contain_text("%")
        scroller.evaluate("el => { el.scrollTop = el.scrollHeight / 2; }")
        assert inside(key.bounding_box(), scroller.bounding_box()), "and stays there, half-way down the page"
        reach = viewer.config(page, "x_map")["layers"][0]["live"]["reach"]  # painted on a 0–100 % scale
        viewer.hover(page, "x_map", 0, 0.5, 250)  # band 2
        mark = frame.get_by_test_id("map-legend-mark")
        expect(mark).to_be_visible()
        assert float(mark.evaluate("e => parseFloat(e.style.left)")) == pytest.approx(reach[2] * 100, abs=0.01)
        facts = key.locator(".facts")
        folded = facts.bounding_box()
        key.click()  # every fact in full, over the map
        expect(key).to_have_class(re.compile(r"\bopen\b"))
        assert facts.bounding_box()["height"] > folded["height"]  # type: ignore[index]
    finally:
        context.close()


@pytest.mark.parametrize(("size", "lang"), [(SIZES[0], "en"), (PHONE, "ja")], ids=["desktop-en", "phone-ja"])
def test_the_map_comes_first(st_server: Server, chromium_browser: Browser, size: ViewportSize, lang: str) -> None:
    """The map's top in the window's first quarter on a desktop and its first half on a phone, the notes folded
    into one line above it; on a phone no minimap and the sidebar closed."""
    context = chromium_browser.new_context(viewport=size, locale="ja-JP" if lang == "ja" else "en-US")
    page = context.new_page()
    try:
        goto(page, f"{st_server.base_url}/?page=%2F&lang={lang}")  # the demo's default view has notes
        frame_box = page.locator(".st-key-x_map iframe").bounding_box()
        assert frame_box is not None
        phone = size["width"] < 600
        assert frame_box["y"] <= size["height"] * (0.5 if phone else 0.25), frame_box
        assert frame_box["height"] >= size["height"] - 120, "the viewer fills the window's height"
        notes = page.get_by_test_id("stExpander").filter(has_text="注意" if lang == "ja" else "Notes on these numbers")
        expect(notes).to_have_count(1)
        expect(viewer.frame(page, "x_map").get_by_test_id("map-minimap")).to_have_count(0 if phone else 1)
        sidebar = page.get_by_test_id("stSidebar")
        expect(sidebar).to_have_attribute("data-collapsed", "true" if phone else "false")
        page.screenshot(path=str(_shot_path(f"explore-first-{size['width']}-{lang}")))
    finally:
        context.close()


def test_a_frame_opens_at_its_opening_unless_a_link_says_otherwise(page: Page) -> None:
    import io

    from PIL import Image

    from heatmap.ui.figures import Placement
    from heatmap.ui.viewer import Layer, viewer_html

    buffer = io.BytesIO()
    Image.new("RGB", (720, 3000), (200, 200, 210)).save(buffer, format="JPEG")
    layer = Layer("", buffer.getvalue(), Placement(1440, 6000, 6000, 0), 100, "%{customdata[0]}")

    def top_after(**options: object) -> float:
        page.set_content(viewer_html([layer], name=f"t{len(str(options))}", **options))  # type: ignore[arg-type]
        scroller = page.locator(".scroller")
        expect(scroller).to_be_visible()
        page.wait_for_function("document.querySelector('.pane img').complete")  # the tiny app's server JPEG
        page.wait_for_timeout(100)
        return float(scroller.evaluate("e => e.scrollTop"))

    assert top_after() == 0
    opened = top_after(opening=4000.0)
    assert opened > 0, "opens down the page, at the clicks"
    assert top_after(opening=4000.0, start={"at": 0}) == 0, "a link's spot wins"


def test_a_phone_page_is_drawn_at_its_own_width_not_blown_up(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/?page=%2F&device=mobile&type=clicks")
    frame = viewer.frame(page, "x_map")
    css_width = viewer.config(page, "x_map")["layers"][0]["cssWidth"]
    assert css_width == 390
    picture, pane = frame.locator(viewer.MAP).bounding_box(), frame.locator(".pane").bounding_box()
    assert picture is not None and pane is not None and pane["width"] > 600
    assert picture["width"] == pytest.approx(css_width, abs=1), "the mobile screenshot at 390 CSS px"
    left, right = picture["x"] - pane["x"], pane["x"] + pane["width"] - picture["x"] - picture["width"]
    assert left == pytest.approx(right, abs=2), "centred"
    frame.locator(".scroller").focus()
    page.keyboard.press("ArrowDown")  # the keyboard cursor sits on the picture, not across the pane
    cursor = frame.locator(".cursor").bounding_box()
    assert cursor is not None and picture["x"] - 1 <= cursor["x"] <= picture["x"] + picture["width"]
    assert cursor["x"] + cursor["width"] <= picture["x"] + picture["width"] + 1


def test_compare_on_a_phone_hides_no_map(st_server: Server, chromium_browser: Browser) -> None:
    context = chromium_browser.new_context(viewport=PHONE, locale="ja-JP")
    page = context.new_page()
    try:
        goto(page, f"{st_server.base_url}/{COMPARE}&lang=ja")
        frame = viewer.frame(page, "c_maps")
        page.locator(".st-key-c_maps iframe").evaluate("e => e.scrollIntoView({block: 'start'})")
        expect(frame.locator("button[data-group=layout][data-value=swipe]")).to_have_attribute("aria-pressed", "true")
        expect(frame.locator(".pane")).to_have_count(2)  # A and B in one swipe pane, B − A beside it
        scroller = frame.locator(".scroller")
        widths = scroller.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1] + 1, f"no horizontal scroller hiding a map: {widths}"
        for label in ("表示倍率", "移動"):  # each toolbar label on the line of its first button
            group = frame.locator(".bar .group").filter(has=frame.get_by_text(label, exact=True))
            rows = group.evaluate("g => [...g.children].slice(0, 2).map(c => c.getBoundingClientRect())")
            label_box, button_box = rows
            assert label_box["top"] < button_box["bottom"] and button_box["top"] < label_box["bottom"], (label, rows)
        expect(frame.get_by_role("slider", name="A｜B の境界")).to_be_visible()
        page.screenshot(path=str(_shot_path("compare-phone-ja")))
    finally:
        context.close()


def test_each_compare_pane_has_its_legend(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/{COMPARE}")
    frame = viewer.frame(page, "c_maps")
    scroller = frame.locator(".scroller")
    scroller.scroll_into_view_if_needed()
    keys = frame.get_by_test_id("map-legend")
    expect(keys).to_have_count(3)
    for i in range(3):
        assert inside(keys.nth(i).bounding_box(), scroller.bounding_box())
    expect(keys.nth(2)).to_contain_text("B − A")


def test_zoom_jump_and_keyboard(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/?page=%2F&type=reach")
    frame = viewer.frame(page, "x_map")
    scroller = frame.locator(".scroller")
    actual = frame.locator('button[data-value="actual"]')
    actual.focus()  # every control is a button: reachable and pressed with the keyboard
    page.keyboard.press("Enter")
    expect(actual).to_have_attribute("aria-pressed", "true")
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth + 100"), "100 %: the 1440 px page is wider"
    frame.locator('button[data-value="fit"]').click()
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "fit width: no sideways scrolling"
    marks = {m["label"]: m["depth"] for m in viewer.config(page, "x_map")["marks"]}
    frame.get_by_role("button", name="50%").click()
    image = frame.locator(viewer.MAP).first
    layer = viewer.config(page, "x_map")["layers"][0]
    shown = scroller.evaluate(
        """(el, l) => { const img = el.querySelector('.pane > img, .pane > .live'); const s = img.clientHeight / l.totalHeight;
        return [(el.scrollTop - img.offsetTop) / s, (el.scrollTop - img.offsetTop + el.clientHeight) / s]; }""",
        layer,
    )
    assert shown[0] < layer["dataTop"] + marks["50%"] < shown[1], (shown, marks)
    assert image.is_visible()


def _scroll_top(frame: object, near: float | None = None, timeout: float = 10.0) -> float:
    """The scroller's position; with `near`, waits until the viewer has put it there (± 2 px)."""
    import time

    scroller = frame.locator(".scroller")  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while True:
        top = float(scroller.evaluate("el => el.scrollTop"))
        if near is None or abs(top - near) <= 2 or time.monotonic() > deadline:
            return top
        time.sleep(0.1)


def test_link_to_this_spot_reopens_there_and_new_settings_keep_the_place(
    st_server: Server, page: Page, chromium_browser: Browser
) -> None:
    goto(page, f"{st_server.base_url}/?page=%2F&type=reach")
    frame = viewer.frame(page, "x_map")
    reach = viewer.config(page, "x_map")["layers"][0]["src"]
    frame.locator('button[data-value="actual"]').click()
    frame.locator(".scroller").evaluate("el => { el.scrollTop = 1200; }")
    place = _scroll_top(frame)
    assert place > 1000, "the page is long enough to scroll"
    frame.get_by_test_id("map-link").click()
    box = frame.get_by_test_id("map-linkbox")
    expect(box).to_be_visible()
    link = box.locator("input").input_value()
    spot = parse_qs(urlsplit(link).query)
    assert spot["zoom"] == ["actual"] and spot["page"] == ["/"] and spot["type"] == ["reach"]
    assert 0 < int(spot["at"][0]) < 20_000

    sidebar = page.get_by_test_id("stSidebar")  # another map type: painted in the same frame, at the same place
    sidebar.get_by_text("Attention", exact=True).click()
    expect(frame.locator(".live")).to_have_attribute("data-kind", "attention")
    assert viewer.config(page, "x_map")["layers"][0]["src"] == reach  # the same frame, no new picture
    assert abs(_scroll_top(frame, place) - place) <= 2
    sidebar.get_by_text("Last 7 days", exact=True).click()  # other dates: a new frame, the same place on the page
    wait_for_app_run(page)
    shown = viewer.config(page, "x_map")
    assert shown["start"] is None
    expect(frame.locator(".live")).to_have_attribute("data-kind", "attention")
    assert abs(_scroll_top(frame, place) - place) <= 2
    expect(frame.locator('button[data-value="actual"]')).to_have_attribute("aria-pressed", "true")

    other = chromium_browser.new_context(viewport=SIZES[0], locale="en-US").new_page()  # a teammate opens it
    try:
        goto(other, link)
        opened = viewer.frame(other, "x_map")
        assert viewer.config(other, "x_map")["start"] == {"at": int(spot["at"][0]), "zoom": "actual"}
        assert abs(_scroll_top(opened, place) - place) <= 2, "the link opens where it was made"
        expect(opened.locator('button[data-value="actual"]')).to_have_attribute("aria-pressed", "true")
        assert "at" not in query(other), "the spot is applied once: the address goes back to the view"
        other.get_by_test_id("stSidebar").get_by_text("Last 7 days", exact=True).click()
        wait_for_app_run(other)
        assert viewer.config(other, "x_map")["start"] is None
    finally:
        other.context.close()


def test_the_keyboard_reads_out_bands_and_click_columns(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/?page=%2F&type=reach")
    frame = viewer.frame(page, "x_map")
    scroller, tip = frame.locator(".scroller"), frame.get_by_test_id("map-tip")
    assert "arrow keys" in (scroller.get_attribute("aria-label") or "")
    scroller.focus()
    page.keyboard.press("ArrowDown")  # the first press reads the band at the reading line, a third down the frame
    expect(tip).to_have_attribute("data-keyboard", "true")
    first = int(tip.get_attribute("data-band") or -1)
    assert 0 <= first < 10, first
    expect(tip).to_contain_text(f"Band {first} ({first * 100:,}–{first * 100 + 100:,} CSS px)")
    for _ in range(12):
        page.keyboard.press("ArrowDown")
    expect(tip).to_have_attribute("data-band", str(first + 12))
    expect(tip).to_contain_text(f"Band {first + 12} ({(first + 12) * 100:,}–{(first + 13) * 100:,} CSS px)")
    expect(tip).to_contain_text("Reach")
    mark = frame.locator(".cursor")
    box, view = mark.bounding_box(), scroller.bounding_box()
    assert box and view and view["y"] <= box["y"] and box["y"] + box["height"] <= view["y"] + view["height"]
    page.keyboard.press("Escape")
    expect(tip).to_be_hidden()
    expect(mark).to_have_count(0)

    goto(page, f"{st_server.base_url}/?page=%2F&type=clicks")
    scroller.focus()
    page.keyboard.press("ArrowDown")
    before = tip.inner_text()
    page.keyboard.press("ArrowRight")
    expect(tip).not_to_have_text(before)  # another column of the same band
    assert "clicks · x " in tip.inner_text()

    goto(page, f"{st_server.base_url}/{COMPARE}")
    compare = viewer.frame(page, "c_maps")
    compare.locator(".scroller").focus()
    page.keyboard.press("ArrowDown")
    tip = compare.get_by_test_id("map-tip")
    expect(compare.locator(".cursor")).to_have_count(3)  # on A, B and B − A, level
    for title in ("A", "B", "B − A"):
        expect(tip.locator("b", has_text=title).first).to_be_visible()
    page.screenshot(path=str(_shot_path("compare-keyboard")))


def test_every_toolbar_button_stays_usable_when_the_toolbar_wraps(st_server: Server, chromium_browser: Browser) -> None:
    """A narrow window and a longer language wrap the toolbar onto two lines: the maps start below it."""
    context = chromium_browser.new_context(viewport={"width": 1024, "height": 900}, locale="ja-JP")
    try:
        page = context.new_page()
        goto(page, f"{st_server.base_url}/{COMPARE}&lang=ja")
        frame = viewer.frame(page, "c_maps")
        frame.get_by_role("button", name="スワイプ").click()
        bar, scroller = frame.locator(".bar").bounding_box(), frame.locator(".scroller").bounding_box()
        assert bar and scroller and bar["height"] > 45, bar  # wrapped
        assert bar["y"] + bar["height"] <= scroller["y"] + 1
        frame.get_by_test_id("map-link").click(timeout=5_000)  # not covered by the maps
        expect(frame.get_by_test_id("map-linkbox")).to_be_visible()
    finally:
        context.close()


def test_one_back_leaves_a_page_visited_before(st_server: Server, page: Page) -> None:
    """The sidebar links carry each page's last view, so no bare address comes between views in the history."""
    goto(page, f"{st_server.base_url}/")
    sidebar = page.get_by_test_id("stSidebar")
    for name in ("Compare", "Explore", "Compare"):
        sidebar.get_by_role("link", name=name).click()
        wait_for_app_run(page)
    assert page.evaluate("location.pathname") == "/Compare"
    page.go_back()
    wait_for_app_run(page)
    assert page.evaluate("location.pathname") == "/", "one Back, and Explore shows again"
    expect(page.get_by_test_id("stSidebar").get_by_role("radio", name="Attention")).to_be_checked()


def test_back_and_forward_restore_earlier_views(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/")
    sidebar = page.get_by_test_id("stSidebar")
    dates = page.locator(".st-key-x_dates input").first  # the range's start
    default = dates.input_value()
    shown = []
    for label in ("Last 7 days", "Last 90 days"):
        sidebar.get_by_text(label, exact=True).click()
        wait_for_app_run(page)
        shown.append((query(page)["from"], dates.input_value()))
    assert len({default, *(d for _, d in shown)}) == 3
    page.go_back()
    wait_for_app_run(page)
    assert (query(page)["from"], dates.input_value()) == shown[0]
    expect(page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first).to_contain_text(shown[0][1])
    page.go_back()
    wait_for_app_run(page)
    assert dates.input_value() == default
    page.go_forward()
    wait_for_app_run(page)
    assert (query(page)["from"], dates.input_value()) == shown[0]

    goto(page, f"{st_server.base_url}/{COMPARE}")
    sidebar.get_by_text("Attention", exact=True).click()
    wait_for_app_run(page)
    assert query(page)["type"] == ["attention"]
    page.go_back()
    wait_for_app_run(page)
    expect(sidebar.get_by_role("radio", name="Scroll reach")).to_be_checked()
    expect(page.get_by_test_id("stMetricLabel").nth(2)).to_contain_text("Bands that differ")


def _shot_path(name: str) -> object:
    folder = ARTIFACTS / "e2e" / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


def test_screenshots_of_every_page_in_both_languages(st_server: Server, chromium_browser: Browser) -> None:
    pages = {"explore": "?page=%2F", "compare": COMPARE, "runs": "Saved_runs", "health": "Data_health"}
    for size in SIZES:
        for lang in ("en", "ja"):
            context = chromium_browser.new_context(viewport=size, locale="en-US")
            try:
                page = context.new_page()
                for name, path in pages.items():
                    joiner = "&" if "?" in path else "?"
                    goto(page, f"{st_server.base_url}/{path}{joiner}lang={lang}")
                    heading = page.get_by_test_id("stMain").get_by_role("heading", level=1)
                    expect(heading).to_be_visible()
                    if name in ("explore", "compare"):
                        key = "x_map" if name == "explore" else "c_maps"
                        assert viewer.jpeg_maps(page, key) >= 1
                        box = page.locator(f".st-key-{key} iframe").bounding_box()
                        assert box is not None and box["width"] >= 0.6 * size["width"], "the map gets the width"
                    page.screenshot(path=str(_shot_path(f"{name}-{size['width']}x{size['height']}-{lang}")))
            finally:
                context.close()


def test_a_typed_date_range_applies_on_enter(st_server: Server, page: Page) -> None:
    """Streamlit's date input commits a typed date only when it loses focus: Enter applies it too."""
    goto(page, f"{st_server.base_url}/?page=%2F&from=2026-10-05&to=2026-11-01")
    viewer.frame(page, "x_map").locator("#viewer[data-painted=true]").wait_for(timeout=60_000)
    day = page.get_by_role("spinbutton", name="day, Date range start date")
    day.focus()
    page.keyboard.type("10")
    expect(day).to_have_text("10")
    page.wait_for_timeout(500)
    assert query(page)["from"] == ["2026-10-05"], "typed, not applied yet"
    page.keyboard.press("Enter")
    page.wait_for_function("location.search.includes('from=2026-10-10')", timeout=20_000)
    wait_for_app_run(page)
    assert query(page)["from"] == ["2026-10-10"] and query(page)["to"] == ["2026-11-01"]
    expect(page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first).to_contain_text("2026-10-10")
