"""A session holds no uploaded file once the output store has it (Streamlit would keep every one until the
session ends, 15 MB a tall page): the picture is read back from the store, the uploader still shows the file,
and the Data health page says what is held."""

from __future__ import annotations

import hashlib
import io
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


def png_file(path: Path, colour: tuple[int, int, int]) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (1440, 3000), colour).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_a_stored_upload_is_let_go_and_still_shown(demo_home: Path, tmp_path: Path, chromium_browser: Browser) -> None:
    pictures = [png_file(tmp_path / f"page-{i}.png", (230, 236, 245 - i * 40)) for i in range(3)]
    with streamlit_server(demo_home, tmp_path / "output", tmp_path, timeout=120) as server:
        admin = chromium_browser.new_context(viewport=VIEWPORT, locale="en-US").new_page()
        admin.goto(f"{server.base_url}/Data_health")
        wait_for_app_run(admin)
        designer = chromium_browser.new_context(viewport=VIEWPORT, locale="en-US")
        tab = designer.new_page()
        tab.goto(server.base_url)
        wait_for_app_run(tab)
        for picture in pictures:  # one after another, to Compare and back in between (the uploader remounts)
            tab.get_by_test_id("stSidebar").get_by_text("Upload", exact=True).click()
            wait_for_app_run(tab)
            tab.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(picture))
            stored_as = f"Stored as screenshots/{hashlib.sha256(picture.read_bytes()).hexdigest()}.png"
            expect(tab.get_by_test_id("stSidebar")).to_contain_text(stored_as, timeout=60_000)
            wait_for_app_run(tab)
            tab.get_by_test_id("stMain").get_by_role("heading").first.click()
            tab.keyboard.press("r")  # a rerun: the uploader still shows the file Streamlit has let go
            wait_for_app_run(tab)
            expect(tab.get_by_test_id("stSidebar")).to_contain_text(stored_as)
            expect(tab.get_by_test_id("stSidebar")).not_to_contain_text("until a new file is accepted")
            assert "0 uploaded file(s) held now" in held(admin), "a stored upload is let go at once"
            for name in ("Compare", "Explore"):
                tab.get_by_test_id("stSidebar").get_by_role("link", name=name).click()
                wait_for_app_run(tab)

        assert "Traceback" not in server.log_text()
