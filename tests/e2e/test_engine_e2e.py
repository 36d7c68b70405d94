"""The app end to end with HEATMAP_ENGINE=duckdb (the Athena SQL run here): a real `streamlit run` in Chromium
shows the same map numbers as the local engine, says which engine answered, and Data health explains what a
SQL engine does not count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fixtures.browser import APP_ENV_KEYS, ARTIFACTS, wait_for_app_run
from tests.streamlit_process import StreamlitProcess, streamlit_process

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def duckdb_server(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitProcess]:
    workdir = tmp_path_factory.mktemp("duckdb-server")
    env = {"HEATMAP_HOME": str(demo_home), "HEATMAP_CACHE_DIR": str(workdir / "cache"),
           "HEATMAP_OUTPUT": str(workdir / "output"), "HEATMAP_ENGINE": "duckdb"}  # fmt: skip
    with streamlit_process("streamlit_app.py", workdir, env=env, unset=APP_ENV_KEYS, timeout=90) as server:
        yield server
    assert "Traceback" not in server.log_text(), server.log_text()


def open_page(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    page.goto(url)
    wait_for_app_run(page, timeout=120_000)
    return page


def test_explore_and_data_health_on_the_duckdb_engine(duckdb_server, st_server, chromium_browser):
    link = "?page=%2F&from=2026-10-05&to=2026-11-01&device=mobile&type=attention"
    numbers = {}
    for name, server in (("duckdb", duckdb_server), ("local", st_server)):
        page = open_page(chromium_browser, f"{server.base_url}/{link}")
        expect(page.get_by_test_id("stException")).to_have_count(0)
        expect(page.get_by_test_id("stSidebar")).to_contain_text(f"Numbers from the {name} engine")
        expect(page.locator(".st-key-x_map iframe, .st-key-c_maps iframe").first).to_be_attached(timeout=60_000)
        numbers[name] = page.get_by_test_id("stMetricValue").all_inner_texts()
        if name == "duckdb":
            (ARTIFACTS / "e2e").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "e2e" / "explore-duckdb.png"))
            page.goto(f"{server.base_url}/Data_health")
            wait_for_app_run(page, timeout=120_000)
            expect(page.get_by_test_id("stMain")).to_contain_text("counted by the local engine")
            expect(page.get_by_test_id("stException")).to_have_count(0)
        page.context.close()
    assert numbers["duckdb"] and numbers["duckdb"] == numbers["local"]
