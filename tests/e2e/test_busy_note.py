"""A picture job that has to wait for room behind other designers' says so on the page, and the note goes when
it starts (heatmap/ui/busy.py over caching.when_waiting). Real `streamlit run` of tests/e2e/apps/busy_app with
the app's own picture room, in Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from heatmap.ui.i18n import Translator
from tests.fixtures.browser import Server, wait_for_app_run
from tests.streamlit_process import streamlit_process

pytestmark = pytest.mark.e2e

APP = Path(__file__).resolve().parent / "apps" / "busy_app" / "streamlit_app.py"


@pytest.fixture(scope="module")
def busy_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with streamlit_process(APP, tmp_path_factory.mktemp("busy-app")) as server:
        yield server


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_waiting_picture_says_how_many_are_ahead_until_it_starts(
    busy_app: Server, english_page: Page, lang: str
) -> None:
    note = Translator(lang)("busy.waiting", ahead="1")
    english_page.goto(f"{busy_app.base_url}/?lang={lang}")
    wait_for_app_run(english_page)
    english_page.get_by_role("button", name="Hold the room").click()
    expect(english_page.get_by_text("ROOM-HELD")).to_be_visible()
    english_page.get_by_role("button", name="Make a picture").click()
    expect(english_page.get_by_text(note)).to_be_visible(timeout=3_000)  # while the other job holds the room (4 s)
    expect(english_page.get_by_text("PICTURE-MADE")).to_be_visible(timeout=10_000)
    expect(english_page.get_by_text(note)).to_have_count(0)
