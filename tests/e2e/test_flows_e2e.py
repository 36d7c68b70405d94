"""Data health's Backfill in a real browser: `streamlit run` with both AppFlow flows configured and
AWS_ENDPOINT_URL_APPFLOW pointing at the fake AppFlow server (tests/fixtures/appflow.py), driven by Debian's
chromium. From "a day is missing" (the calendar, the failed daily run in red) to "the day is back": the backfill
run finishes, the fake writes the export AppFlow would have written (the backfill flow's folder, the days of its
date filter), Reload data, and the calendar has no missing day any more. Screenshots go to artifacts/e2e/.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from heatmap.flows.backfill import current_bounds, day_ms
from tests.fixtures.appflow import BACKFILL, DAILY, REGION, FakeAppFlow, Outcome, fake_appflow_server
from tests.fixtures.browser import APP_ENV_KEYS, ARTIFACTS, Server, wait_for_app_run
from tests.streamlit_process import streamlit_process

pytestmark = pytest.mark.e2e

SHOTS = ARTIFACTS / "e2e"
GA_503 = "Google Analytics 4 returned HTTP 503 Service Unavailable"
MISSING = datetime(2026, 10, 14).date()


@pytest.fixture(scope="module")
def appflow_app(demo_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, FakeAppFlow]]:
    """The fake AppFlow (module-wide) and a `streamlit run` configured for it; both stopped afterwards."""
    workdir = tmp_path_factory.mktemp("st-flows")
    nowhere = tmp_path_factory.mktemp("no-aws-config")
    source = small_source(demo_home / "demo", workdir / "exports")
    with fake_appflow_server() as fake:
        env = {
            "HEATMAP_HOME": str(demo_home),
            "HEATMAP_SOURCE": str(source),
            "HEATMAP_CACHE_DIR": str(workdir / "cache"),
            "HEATMAP_OUTPUT": str(workdir / "output"),
            "HEATMAP_DAILY_FLOW": DAILY,
            "HEATMAP_BACKFILL_FLOW": BACKFILL,
            "HEATMAP_APPFLOW_POLL_SECONDS": "0.2",
            "AWS_ENDPOINT_URL_APPFLOW": fake.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(nowhere / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(nowhere / "credentials"),
        }
        unset = (*APP_ENV_KEYS, "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS")
        fake.on_success = lambda name, flow, run: write_export(source, name, flow, run)
        with streamlit_process("streamlit_app.py", workdir, env=env, unset=unset) as server:
            yield server, fake
        assert "Traceback" not in server.log_text(), server.log_text()


def small_source(demo: Path, source: Path) -> Path:
    """A copy of the demo's daily runs of 2026-10-12..18 (GA dates 10-11..10-17; 10-14's run never happened),
    so that writing a backfilled day cannot touch the session's shared demo."""
    for run_day in range(12, 19):
        run = demo / "ga4-heatmap-daily" / "2026" / "10" / f"{run_day:02d}"
        if run.is_dir():
            shutil.copytree(run, source / "ga4-heatmap-daily" / "2026" / "10" / f"{run_day:02d}")
    return source


def write_export(source: Path, name: str, flow: dict[str, Any], run: dict[str, Any]) -> None:
    """What AppFlow writes for a successful backfill run: <prefix>/<flow>/<execution id>/<file>, one JSON line per
    report row, for each day of the flow's date filter (rows of 2026-10-13 with the date changed)."""
    first, last = current_bounds(flow)
    assert first and last
    (template,) = (source / "ga4-heatmap-daily" / "2026" / "10" / "14").rglob("*.jsonl")
    rows = template.read_text(encoding="utf-8").splitlines()
    lines = []
    day = first
    while day <= last:
        lines += [row.replace('"date": "20261013"', f'"date": "{day:%Y%m%d}"') for row in rows if '"20261013"' in row]
        day += timedelta(days=1)
    folder = source / name / run["executionId"]
    folder.mkdir(parents=True)
    (folder / f"{run['executionId'][:8]}-part-00000.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def page(chromium_browser: Browser) -> Iterator[Page]:
    context: BrowserContext = chromium_browser.new_context(viewport={"width": 1440, "height": 2200}, locale="en-US")
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def test_press_backfill_against_the_fake_appflow(appflow_app: tuple[Server, FakeAppFlow], page: Page) -> None:
    server, fake = appflow_app
    fake.add_run(DAILY, "Successful", datetime(2026, 10, 14, 2, tzinfo=UTC), 41_000)
    fake.add_run(DAILY, "Error", datetime(2026, 10, 15, 2, tzinfo=UTC), message=GA_503)
    fake.default_outcome = Outcome(records=40_321, seconds=3.0)

    page.goto(f"{server.base_url}/Data_health")
    wait_for_app_run(page)
    main = page.get_by_test_id("stMain")
    expect(main).to_contain_text("AppFlow runs")
    expect(main).to_contain_text("1 missing")
    expect(main.get_by_test_id("stAlertContentError").filter(has_text=GA_503)).to_have_count(1)  # the failed run
    button = page.locator(".st-key-h_backfill button")
    expect(button).to_have_text(re.compile(r"Backfill 1 day\(s\): 2026-10-14 – 2026-10-14"))
    expect(main).to_contain_text(f"Sets the date filter of AppFlow flow {BACKFILL} to these days (UpdateFlow)")
    screenshot(page, "health-flows")
    assert fake.count("UpdateFlow") == 0

    button.click()
    expect(main).to_contain_text("Backfilling 2026-10-14 – 2026-10-14 · run 1 of 1", timeout=30_000)  # progress
    screenshot(page, "health-backfill-running")
    expect(main).to_contain_text("finished: 40,321 records in 1 run(s)", timeout=60_000)
    wait_for_app_run(page)
    screenshot(page, "health-backfill-done")

    (update,) = fake.bodies("UpdateFlow")
    bounds = update["tasks"][1]["taskProperties"]
    assert (bounds["LOWER_BOUND"], bounds["UPPER_BOUND"]) == (str(day_ms(MISSING)), str(day_ms(MISSING)))
    assert fake.count("StartFlow") == 1
    assert fake.operations().index("UpdateFlow") < fake.operations().index("StartFlow")

    page.locator(".st-key-h_backfill_reload button").click()
    wait_for_app_run(page)
    expect(main).not_to_contain_text("finished: 40,321 records")
    expect(main).to_contain_text("0 missing", timeout=60_000)  # the day is back
    expect(main).to_contain_text("No day is missing between the first and the last export.")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    screenshot(page, "health-day-is-back")
