"""The worst link in a real browser: a 100 KB page value, hundreds of segment values and broken percent-escapes
open Explore with one warning and a map, never a traceback (issue 9, part 5; AppTest cases: test_app_hostile.py).

What Streamlit itself does, seen here: the browser sends the raw query string (`%ff%fe` stays escaped in the
address bar) and Streamlit's parse_qs turns invalid UTF-8 into U+FFFD; a query string of more than 1000 fields is
dropped whole before the app runs (server log: "Ignoring query string with 3001 parameters"), so that link opens
the default view with no warning the app could give; the HTTP server refuses a request line over about 128 KB.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import ARTIFACTS, Server, wait_for_app_run

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    context = chromium_browser.new_context(viewport={"width": 1440, "height": 2200}, locale="en-US")
    yield context.new_page()
    context.close()


def test_the_worst_link_shows_a_warning_and_a_map(st_server: Server, page: Page) -> None:
    devices = "&".join(f"device=v{i}" for i in range(900))  # under Streamlit's 1000 fields, so the app sees them
    worst = f"/?page={quote('/' + 'a' * 100_000)}&{devices}&visitor=%ff%fe&%c3%28=1&type=clicks&dpr=NaN&run=..%2F..%2Fx"
    assert 100_000 < len(worst) < 120_000
    page.goto(st_server.base_url + worst)
    wait_for_app_run(page)
    warning = page.get_by_test_id("stAlertContentWarning").filter(has_text="could not be used")
    expect(warning).to_have_count(1)
    text = warning.inner_text()
    for said in ("value too long", "device=×900 (too many values", "broken %-escapes", "not a saved run id", "dpr=NaN"):
        assert said in text, text
    assert text.count("broken %-escapes") == 2  # the value of visitor and the key %c3%28
    assert len(text) < 2_000
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", level=1)).to_have_text("/")
    expect(page.locator(".st-key-x_map iframe")).to_be_attached(timeout=60_000)
    wait_for_app_run(page)
    shown = page.get_by_test_id("stApp").inner_text()
    assert "Traceback" not in shown and "Error" not in shown
    expect(page.get_by_test_id("stException")).to_have_count(0)
    query = parse_qs(urlsplit(page.url).query)
    assert query["page"] == ["/"] and query["device"] == ["desktop"]  # the default view replaced the bad link
    assert len(page.url) < 1_000
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "e2e-worst-link.png"))

    # more than 1000 fields: Streamlit drops the query before the app runs; the default view opens, cleanly
    page.goto(st_server.base_url + "/?page=%2Fpricing&" + "&".join(f"device=v{i}" for i in range(3_000)))
    wait_for_app_run(page)
    expect(main.get_by_role("heading", level=1)).to_have_text("/")
    expect(page.locator(".st-key-x_map iframe")).to_be_attached(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert "Traceback" not in page.get_by_test_id("stApp").inner_text()
    assert len(page.url) < 1_000
