"""The app in a real browser: `streamlit run streamlit_app.py` on 127.0.0.1 (HEATMAP_HOME in a tmp folder) driven
by Debian's chromium. Upload → render → save → share link → the same view in a NEW browser context.
Screenshots of every page go to artifacts/e2e/ (git-ignored) for review.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fixtures import map_viewer as viewer
from tests.fixtures.browser import ARTIFACTS, Server, wait_for_app_run

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "e2e"
VIEWPORT = {"width": 1440, "height": 2200}
PAGES = {"explore": "", "compare": "Compare", "runs": "Saved_runs", "health": "Data_health"}


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def query_of(url: str) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def browser(chromium_browser: Browser) -> Browser:
    return chromium_browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=VIEWPORT, locale="en-US")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def page_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1440×3000 'full-page screenshot' with a header, sections and buttons."""
    image = Image.new("RGB", (1440, 3000), (250, 250, 252))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1440, 90), fill=(30, 41, 59))
    for i, top in enumerate(range(120, 3000, 480)):
        draw.rectangle((80, top, 1360, top + 400), fill=(226, 232, 240) if i % 2 else (219, 234, 254))
        draw.rounded_rectangle((560, top + 300, 880, top + 350), radius=12, fill=(37, 99, 235))
    path = tmp_path_factory.mktemp("shots") / "home-desktop.png"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def goto(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app_run(page)


def caption_of_view(page: Page) -> str:
    return page.get_by_test_id("stMain").get_by_test_id("stCaptionContainer").first.inner_text()


def test_deep_link_to_a_page_runs_the_shared_setup(st_server: Server, page: Page) -> None:
    """A first request straight to a page URL gets the translated sidebar and the data (no entrypoint needed)."""
    goto(page, f"{st_server.base_url}/Data_health?lang=ja")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("探索")
    expect(sidebar).to_contain_text("データの状態")
    expect(page.get_by_test_id("stMain")).to_contain_text("2026-10-14")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_upload_render_save_share_and_reopen(st_server: Server, browser: Browser, page: Page, page_png: Path) -> None:
    goto(page, st_server.base_url)
    expect(page.get_by_test_id("stMain").get_by_role("heading", level=1)).to_have_text("/")
    screenshot(page, "explore-demo")

    # a view: scroll reach for returning desktop visitors (desktop is the default device), on an uploaded screenshot
    page.get_by_test_id("stSidebar").get_by_text("Scroll reach", exact=True).click()
    wait_for_app_run(page)
    visitor = page.locator(".st-key-x_seg_newVsReturning")
    visitor.get_by_role("combobox").click()
    page.get_by_role("option", name="returning", exact=True).click()
    page.keyboard.press("Escape")
    wait_for_app_run(page)
    page.get_by_test_id("stSidebar").get_by_text("Upload", exact=True).click()
    wait_for_app_run(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(page_png))
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Stored as screenshots/", timeout=60_000)
    wait_for_app_run(page)
    assert viewer.jpeg_maps(page, "x_map") == 1  # the rendered preview in the viewer

    # hover read-out on the map: band, reach with its interval, seconds per view
    text = viewer.hover(page, "x_map", 0, 0.5, 250)
    assert "Band 2 " in text and "Reach" in text and "95 % CI" in text, text
    screenshot(page, "explore-uploaded-hover")

    view_caption = caption_of_view(page)
    assert "Device: desktop" in view_caption and "returning" in view_caption
    expect(viewer.frame(page, "x_map").get_by_test_id("map-legend")).to_contain_text("Scroll reach")
    page.get_by_role("button", name="Save run").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Saved run", timeout=60_000)
    wait_for_app_run(page)
    codes = page.get_by_test_id("stCode")
    share = (codes.nth(0).text_content() or "").strip()  # the full link, folded under "The full link"
    run_link = (codes.nth(1).text_content() or "").strip()
    assert re.search(r"\?run=\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$", run_link), run_link
    written = page.get_by_test_id("stMain").inner_text()
    assert "heatmap.png" in written and "run.json" in written and "screenshots/" in written
    screenshot(page, "explore-saved")
    # the download is made when clicked, from the stored screenshot: the same PNG as the saved run's
    with page.expect_download(timeout=60_000) as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="PNG").click()
    downloaded = Path(download.value.path()).read_bytes()
    run_id = run_link.rsplit("=", 1)[1]
    (saved_png,) = (st_server.log_path.parent / "output").glob(f"runs/**/{run_id}/heatmap.png")
    assert downloaded == saved_png.read_bytes()

    expected = query_of(share)
    assert expected["device"] == ["desktop"] and expected["visitor"] == ["returning"]
    assert expected["type"] == ["reach"] and len(expected["shot"][0]) == 64
    assert query_of(page.url) == expected, "the address bar is the share link"
    sha = expected["shot"][0]

    for name, link in (("share-link", share), ("run-link", run_link)):
        fresh = browser.new_context(viewport=VIEWPORT, locale="en-US")  # no cookies, no session, no upload
        other = fresh.new_page()
        try:
            goto(other, link)
            expect(other.get_by_test_id("stMain").get_by_role("heading", level=1)).to_have_text("/")
            assert caption_of_view(other) == view_caption
            assert query_of(other.url) == expected
            expect(other.get_by_role("radio", name="Stored before")).to_be_checked()
            stored = other.locator(".st-key-x_stored")
            shown = stored.inner_text() + " " + " ".join(i.input_value() for i in stored.locator("input").all())
            assert sha[:12] in shown, shown
            assert viewer.jpeg_maps(other, "x_map") == 1
            expect(other.get_by_test_id("stException")).to_have_count(0)
            screenshot(other, f"explore-reopened-{name}")
        finally:
            fresh.close()


def test_every_page_renders(st_server: Server, page: Page) -> None:
    for name, path in PAGES.items():
        goto(page, f"{st_server.base_url}/{path}")
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stMain").get_by_role("heading", level=1)).to_be_visible()
        if name in ("explore", "compare"):
            assert viewer.jpeg_maps(page, {"explore": "x_map", "compare": "c_maps"}[name]) >= 1
        screenshot(page, f"page-{name}")
    goto(page, f"{st_server.base_url}/Compare?lang=ja&mode=periods&page=%2Fpricing&type=attention")
    expect(page.get_by_test_id("stMain")).to_contain_text("比較")
    screenshot(page, "page-compare-periods-ja")


def test_compare_this_view_opens_compare_on_what_the_designer_was_looking_at(st_server: Server, page: Page) -> None:
    view = "page=%2Fpricing&from=2026-10-15&to=2026-11-01&device=mobile&channel=Organic+Search&type=attention"
    goto(page, f"{st_server.base_url}/?{view}")
    page.get_by_role("link", name="Compare this view with the period before").click()
    page.wait_for_url(re.compile(r"/Compare\?"))
    wait_for_app_run(page)
    query = query_of(page.url)
    assert query["mode"] == ["periods"] and query["page"] == ["/pricing"] and query["type"] == ["attention"]
    assert (query["from_b"], query["to_b"]) == (["2026-10-15"], ["2026-11-01"])
    assert (query["from"], query["to"]) == (["2026-09-27"], ["2026-10-14"])
    assert query["device"] == ["mobile"] and query["channel"] == ["Organic Search"]
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert viewer.jpeg_maps(page, "c_maps") >= 1
    screenshot(page, "compare-from-explore")


def test_invalid_link_warns_in_the_browser(st_server: Server, page: Page) -> None:
    goto(page, f"{st_server.base_url}/?page=%2Fgone&from=tomorrow&type=heat&shot=xyz")
    expect(page.get_by_test_id("stAlertContentWarning").first).to_contain_text("could not be used")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert query_of(page.url)["page"] == ["/"]  # the address bar was corrected to the view shown
    screenshot(page, "explore-invalid-link")


def _adjusted_p(text: str) -> float:
    """The adjusted p a hover read-out shows, in the app's one format: "< 0.001" or "= 0.012"."""
    match = re.search(r"adjusted p ([<=]) (\d\.\d{3})\b", text)
    assert match, text
    return float(match.group(2)) - (1e-9 if match.group(1) == "<" else 0.0)


def test_compare_shows_tested_attention_and_click_differences(st_server: Server, page: Page, demo_home: Path) -> None:
    """The demo's returning desktop visitors linger less per band (Welch's t-test per band) and hardly click
    "Sign up" at the top right (exact Poisson test per 10 % × 100 px region): both difference maps colour them,
    and the counts shown are what `python -m heatmap compare` computes headless."""
    from heatmap.engines.local import load_dataset
    from heatmap.statistics.compare import compare_bands
    from heatmap.statistics.metrics import band_table, click_grid
    from heatmap.stores.local import LocalStore

    link = (
        f"{st_server.base_url}/Compare?page=%2F&a_device=desktop&b_device=desktop&a_visitor=new&b_visitor=returning"
        "&diff=1"
    )
    engine = load_dataset(LocalStore(demo_home / "demo"), cache_dir=None)
    last = engine.catalog.days[-1]
    sides = []
    for visitor in ("new", "returning"):
        sums = engine.view(
            "/", last - timedelta(days=27), last, {"deviceCategory": ["desktop"], "newVsReturning": [visitor]}
        )
        bands = band_table(sums)
        sides.append((bands, click_grid(sums, bands.page_views)))
    expected = compare_bands(sides[0][0], sides[1][0], clicks_a=sides[0][1], clicks_b=sides[1][1])
    main = page.get_by_test_id("stMain")

    goto(page, link + "&type=attention")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    metrics = page.get_by_test_id("stMetricValue")
    expect(metrics.nth(2)).to_have_text(f"{expected.family('attention').significant_count:,}", timeout=60_000)
    assert expected.family("attention").significant_count > 0
    expect(main).to_contain_text("Welch's t-test on")
    assert viewer.jpeg_maps(page, "c_maps") == 3  # A, B and B − A
    band = int(np.flatnonzero(expected.family("attention").significant)[0])
    text = viewer.hover(page, "c_maps", 2, 0.5, band * 100 + 50)
    assert f"Band {band} " in text and "Seconds per page view A" in text and "B / A" in text, text
    assert _adjusted_p(text) <= 0.05
    screenshot(page, "compare-attention-tested")

    goto(page, link + "&type=clicks")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    regions = expected.family("clicks")
    expect(metrics.nth(2)).to_have_text(f"{regions.significant_count:,}", timeout=60_000)
    expect(page.get_by_test_id("stMetricLabel").nth(2)).to_contain_text("Regions that differ")
    expect(main).to_contain_text("exact Poisson rate test")
    grid = regions.significant.reshape(regions.rows, regions.columns)
    assert grid[0, 8], "the Sign up button (x 85 %, y 60 px) differs"
    assert grid[3, 4], "the Search jobs button (x 50 %, y 360 px) differs"
    assert viewer.jpeg_maps(page, "c_maps") == 3
    text = viewer.hover(page, "c_maps", 2, 0.45, 350)  # the Search jobs region
    assert "Band 3 " in text and "x 40–50 %" in text and "Clicks per 1,000 page views" in text, text
    assert _adjusted_p(text) <= 0.05
    text = viewer.hover(page, "c_maps", 2, 0.85, 60)  # the Sign up button, top right
    assert "Band 0 " in text and "x 80–90 %" in text, text
    assert _adjusted_p(text) <= 0.05
    screenshot(page, "compare-clicks-tested")


def test_fixed_element_clicks_are_drawn_on_the_first_screen_and_frustration_is_listed(
    st_server: Server, page: Page
) -> None:
    """The demo's fixed "Chat with us" button (x 90 %, 90 % down the first screen: 810 CSS px) on its own layer:
    the click map shows it there, and the page lists the rage and dead spots under the map."""
    goto(page, f"{st_server.base_url}/?page=%2F&type=clicks&clicks=fixed&device=desktop")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("over the page's first screen")
    expect(main).to_contain_text("Clicks on fixed and sticky elements")
    assert viewer.jpeg_maps(page, "x_map") == 1
    map_bottom, areas_top = page.evaluate(
        """() => [document.querySelector('.st-key-x_map iframe').getBoundingClientRect().bottom,
                  document.querySelector('.st-key-x_areas_box').getBoundingClientRect().top]"""
    )
    assert areas_top >= map_bottom, "on a window taller than the frame Streamlit sized, the map covered the lists"
    text = viewer.hover(page, "x_map", 0, 0.92, 850)
    found = re.match(r"([\d,]+) clicks · x 90–95 %", text)
    assert found and int(found[1].replace(",", "")) > 0 and "Band 8 " in text, text
    [outline] = viewer.config(page, "x_map")["layers"][0]["live"]["clickLines"]  # the first screen, outlined
    left = (
        viewer.frame(page, "x_map")
        .locator(".panes .live")
        .first.evaluate(
            """(e, row) => { let top = 0;
            for (const c of e.querySelectorAll('canvas')) {
                if (row < top + c.height) return Array.from(c.getContext('2d').getImageData(0, row - top, 8, 1).data);
                top += c.height;
            }
            return null; }""",
            outline["row"] // 2,
        )
    )
    assert left is not None and left[0:3] == [20, 20, 20] and [255, 255, 255] in [left[i : i + 3] for i in (8, 12)]
    expect(viewer.frame(page, "x_map").get_by_test_id("map-legend")).to_contain_text("fixed and sticky elements")
    screenshot(page, "explore-fixed-layer")
    goto(page, f"{st_server.base_url}/?page=%2Fpricing&type=clicks&clicks=dead&device=desktop")
    expect(main).to_contain_text("Rage and dead clicks")
    text = viewer.hover(page, "x_map", 0, 0.52, 730)  # the decoy "Most popular" label at 720 CSS px
    found = re.match(r"([\d,]+) clicks · x 50–55 %", text)
    assert found and int(found[1].replace(",", "")) > 0 and "Band 7 " in text, text
    screenshot(page, "explore-dead-layer")


def test_a_designer_captures_the_page_and_the_map_sits_on_it(st_server: Server, page: Page, page_png: Path) -> None:
    """On the demo (its pages served on loopback, allowed by the app itself), after an upload of the same page:
    Capture from the site, at the desktop layout's 1,440 CSS px; the capture is then the stored screenshot under
    the map, as tall as the page (3,000 CSS px), with the average fold where the demo's first screen ends (900 CSS
    px)."""
    goto(page, f"{st_server.base_url}/?page=%2F&device=desktop")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Upload", exact=True).click()
    wait_for_app_run(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(page_png))
    expect(sidebar).to_contain_text("Stored as screenshots/", timeout=60_000)
    wait_for_app_run(page)
    sidebar.get_by_text("Capture from the site").click()
    wait_for_app_run(page)
    expect(sidebar.get_by_label("Page URL")).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    sidebar.get_by_role("button", name="Capture").click()
    expect(sidebar.get_by_text(re.compile(r"Captured http://127\.0\.0\.1:\d+/ at 1,440 CSS px × 1"))).to_be_visible(
        timeout=90_000
    )
    wait_for_app_run(page)
    expect(sidebar.get_by_role("radio", name="Stored before")).to_be_checked()
    sidebar.locator(".st-key-x_stored").get_by_role("combobox").click()  # the list tells captures from uploads
    expect(page.get_by_role("option", name=re.compile(r"^captured \d{4}-\d\d-\d\d \d\d:\d\d · "))).to_have_count(1)
    expect(page.get_by_role("option")).to_have_count(2)  # and the upload, without the word
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert viewer.jpeg_maps(page, "x_map") == 1
    layer = viewer.config(page, "x_map")["layers"][0]
    assert layer["totalHeight"] == 3000, layer["totalHeight"]
    live = layer["live"]
    [fold] = [line for line in live["lines"] if line["fold"]]
    assert abs(fold["row"] / live["scale"] - 900) <= 100, fold  # the demo's desktop first screen: 900 CSS px
    screenshot(page, "explore-captured")


def test_a_phone_capture_is_read_at_the_ratio_it_was_taken_at(st_server: Server, page: Page) -> None:
    """Mobile: 390 CSS px at pixel ratio 2 by default; the map reads the 780-px picture as 390 CSS px wide (the
    stored capture's record gives the ratio; the guess from the data's depth agrees here, as the demo's page is
    as deep as its data)."""
    goto(page, f"{st_server.base_url}/?page=%2Fpricing&device=mobile")
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Capture from the site").click()
    wait_for_app_run(page)
    expect(sidebar.get_by_label("CSS width (px)")).to_have_value("390")
    sidebar.get_by_role("button", name="Capture").click()
    expect(sidebar.get_by_text(re.compile(r"at 390 CSS px × 2"))).to_be_visible(timeout=90_000)
    wait_for_app_run(page)
    sidebar.get_by_text("Alignment and display").click()
    expect(sidebar).to_contain_text(re.compile(r"780 × 13,680 px screenshot · 390 CSS px wide at 2×"))
    expect(page.get_by_test_id("stException")).to_have_count(0)
