"""A closed tab gives back what it held once Streamlit stops keeping its session for a reconnect (nothing of the
app's keeps an upload alive), and the Data health page says what the server holds."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import streamlit_server, wait_for_app_run

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1400, "height": 1000}


def held(page: Page) -> str:
    """The Data health page's account of this server's memory, freshly run."""
    page.reload()
    wait_for_app_run(page)
    section = page.get_by_test_id("stExpander").filter(has_text="This server's memory")
    section.get_by_text("This server's memory").click()
    caption = section.get_by_test_id("stCaptionContainer")
    expect(caption).to_be_visible()
    return section.inner_text()


def test_a_closed_tab_gives_back_its_upload(demo_home: Path, tmp_path: Path, chromium_browser: Browser) -> None:
    picture = tmp_path / "page.png"
    buffer = io.BytesIO()
    Image.new("RGB", (1440, 3000), (230, 236, 245)).save(buffer, format="PNG")
    picture.write_bytes(buffer.getvalue())
    quick = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "1"}
    with streamlit_server(demo_home, tmp_path / "output", tmp_path, timeout=120, env=quick) as server:
        designer = chromium_browser.new_context(viewport=VIEWPORT, locale="en-US")
        tab = designer.new_page()
        tab.goto(server.base_url)
        wait_for_app_run(tab)
        tab.get_by_test_id("stSidebar").get_by_text("Upload", exact=True).click()
        wait_for_app_run(tab)
        tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(picture))
        expect(tab.get_by_test_id("stSidebar")).to_contain_text("Stored as screenshots/", timeout=60_000)

        admin = chromium_browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
        admin.goto(f"{server.base_url}/Data_health")
        wait_for_app_run(admin)
        assert "1 uploaded file(s) held now" in held(admin)

        designer.close()  # the tab is closed: Streamlit keeps its session one second (the TTL), then drops it
        time.sleep(3)
        text = held(admin)
        assert "0 uploaded file(s) held now" in text, text
        assert "Traceback" not in server.log_text()
