"""While a run replaces the page, Streamlit dims it half a second in; the app's style makes that one step instead of
a one-second fade, whose every frame composited the whole page again (in a browser without a GPU that was most of
a core, taken from the server on the same machine). Real `streamlit run` of tests/e2e/apps/stale_app + Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import Server, wait_for_app_run
from tests.streamlit_process import streamlit_process

pytestmark = pytest.mark.e2e

APP = Path(__file__).resolve().parent / "apps" / "stale_app" / "streamlit_app.py"
RUNNING_FADES = """() => document.getAnimations()
    .filter(a => a.playState === 'running' && /opacity|border/.test(a.transitionProperty || ''))
    .map(a => `${a.transitionProperty} on ${a.effect.target.dataset.testid || a.effect.target.tagName}`)"""
DIMMED = """() => [...document.querySelectorAll('[data-stale="true"]')]
    .map(e => Number(getComputedStyle(e).opacity))"""


@pytest.fixture(scope="module")
def stale_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with streamlit_process(APP, tmp_path_factory.mktemp("stale-app")) as server:
        yield server


def test_a_long_run_dims_the_page_in_one_step(stale_app: Server, english_page: Page) -> None:
    english_page.goto(stale_app.base_url)
    wait_for_app_run(english_page)
    expect(english_page.get_by_text("STALE-APP-TEXT")).to_be_visible()
    english_page.get_by_role("button", name="Work").click()
    english_page.locator('[data-stale="true"]').first.wait_for(state="attached")  # the run began: the page is stale
    english_page.wait_for_timeout(
        800
    )  # Streamlit's fade would be under way (from 0.5 s, for a second); the run sleeps 3 s
    fades, dimmed = english_page.evaluate(RUNNING_FADES), english_page.evaluate(DIMMED)
    assert fades == [], fades
    assert dimmed and all(opacity < 0.5 for opacity in dimmed), dimmed  # dimmed all the way already
    wait_for_app_run(english_page)
    assert english_page.evaluate(DIMMED) == []
