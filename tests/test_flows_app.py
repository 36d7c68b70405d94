"""AppTest of Data health's AppFlow part (heatmap/ui/flows_panel.py) against the fake AppFlow server: the runs of
both flows next to the calendar, a failed run in red with its message, the Backfill action with its progress and
"Reload data", missing IAM permissions, and the login gate in front of the action."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from heatmap.flows.backfill import day_ms
from heatmap.flows.jobs import JOBS
from tests.fixtures.appflow import BACKFILL, DAILY, FakeAppFlow
from tests.fixtures.browser import AppEnv
from tests.test_auth import AUTH  # the same placeholder OIDC secrets

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
HEALTH = "pages/3_Data_health.py"
TIMEOUT = 180
GA_503 = "Google Analytics 4 returned HTTP 503 Service Unavailable for 2026-10-14"


@pytest.fixture
def flows(app_env: AppEnv, fake_appflow: FakeAppFlow, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAppFlow]:
    """The demo data (2026-10-14 missing) with both flows configured and a history: the daily run that should
    have brought 2026-10-14 failed with Google's 503."""
    monkeypatch.setenv("HEATMAP_DAILY_FLOW", DAILY)
    monkeypatch.setenv("HEATMAP_BACKFILL_FLOW", BACKFILL)
    fake_appflow.add_run(DAILY, "Successful", datetime(2026, 10, 14, 2, tzinfo=UTC), 41_000, execution_id="daily-13")
    fake_appflow.add_run(DAILY, "Error", datetime(2026, 10, 15, 2, tzinfo=UTC), message=GA_503, execution_id="daily-14")
    fake_appflow.add_run(DAILY, "Successful", datetime(2026, 10, 16, 2, tzinfo=UTC), 40_500, execution_id="daily-15")
    fake_appflow.add_run(BACKFILL, "Successful", datetime(2026, 9, 3, 9, tzinfo=UTC), 80_000, execution_id="fill-1")
    yield fake_appflow
    JOBS.wait(BACKFILL, 30)
    JOBS.clear()


def open_health(lang: str | None = None, secrets: dict[str, Any] | None = None, user: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    at.run()
    at.switch_page(HEALTH).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.error, *at.warning, *at.info, *at.success, *at.subheader]
    return "\n".join(str(e.value) for e in parts)


def runs_tables(at: AppTest, started: str = "Started (UTC)") -> list[Any]:
    """The runs tables (daily flow first), told apart from the page's other tables by their columns."""
    return [d.value for d in at.dataframe if started in d.value.columns]


def progress_texts(at: AppTest) -> list[str]:
    return [p.proto.text for p in at.get("progress")]


def test_runs_of_both_flows_with_the_failed_one_in_red(flows: FakeAppFlow) -> None:
    at = open_health()
    shown = texts(at)
    assert "AppFlow runs" in shown and f"`{DAILY}`" in shown and f"`{BACKFILL}`" in shown
    daily, backfill = runs_tables(at)
    assert list(daily["Status"]) == ["Successful", "Failed", "Successful"]  # newest first
    assert list(daily["Records"]) == ["40,500", "–", "41,000"] and GA_503 in list(daily["Message"])
    assert list(backfill["Status"]) == ["Successful"]
    failed = [e.value for e in at.error if GA_503 in e.value]
    assert len(failed) == 1 and DAILY in failed[0] and "daily-14" in failed[0] and "2026-10-15 02:00" in failed[0]
    assert at.get("plotly_chart"), "the coverage calendar is still drawn"
    assert flows.operations().count("DescribeFlowExecutionRecords") == 2  # one read per flow, nothing written


def test_the_event_routes_flows_are_listed_too(flows: FakeAppFlow, monkeypatch: pytest.MonkeyPatch) -> None:
    event_daily = flows.add_flow("EventDailyFlow")["flowName"]
    flows.add_flow("EventBackfillFlow")
    monkeypatch.setenv("HEATMAP_EVENT_DAILY_FLOW", event_daily)
    flows.add_run(event_daily, "Error", datetime(2026, 10, 30, 3, tzinfo=UTC), message="BigQuery: table not found")
    at = open_health()
    shown = texts(at)
    assert "Event route daily flow (BigQuery)" in shown and f"`{event_daily}`" in shown
    assert "Event route backfill flow" not in shown, "only the flows named in the settings are listed"
    _daily, _backfill, events = runs_tables(at)
    assert list(events["Status"]) == ["Failed"] and "BigQuery: table not found" in list(events["Message"])
    assert "7 days from the event route (exact)" in shown


def test_runs_in_japanese(flows: FakeAppFlow) -> None:
    at = open_health(lang="ja")
    shown = texts(at)
    assert "AppFlow の実行履歴" in shown and "日次フロー" in shown and "バックフィル用フロー" in shown
    assert "失敗" in list(runs_tables(at, "開始 (UTC)")[0]["状態"])
    assert any("失敗しました" in e.value and GA_503 in e.value for e in at.error)
    assert "2026-10-14 – 2026-10-14 の 1 日分をバックフィル" in [b.label for b in at.button]


def test_backfill_the_missing_day_with_progress_then_reload(flows: FakeAppFlow) -> None:
    at = open_health()
    button = at.button(key="h_backfill")
    assert button.label == "Backfill 1 day(s): 2026-10-14 – 2026-10-14"
    assert at.date_input(key="h_backfill_days").value == (datetime(2026, 10, 14).date(),) * 2
    assert any(f"AppFlow flow {BACKFILL}" in c.value and "(UpdateFlow)" in c.value for c in at.caption)
    assert flows.count("UpdateFlow") == 0  # nothing changes before the click

    flows.holding = True  # the run stays InProgress until released
    button.click().run()
    assert not at.exception
    assert any(p.startswith("Backfilling 2026-10-14 – 2026-10-14 · run 1 of 1") for p in progress_texts(at))
    assert not [b for b in at.button if b.key == "h_backfill"], "no second backfill while one runs"

    flows.holding = False
    job = JOBS.wait(BACKFILL, 30)
    assert job is not None and job.succeeded
    at.run()
    done = [s.value for s in at.success if "finished" in s.value]
    assert done == [
        "Backfill of 2026-10-14 – 2026-10-14 finished: 1,234 records in 1 run(s). Reload the data to see the days."
    ]
    (update,) = flows.bodies("UpdateFlow")
    bounds = update["tasks"][1]["taskProperties"]
    assert (bounds["LOWER_BOUND"], bounds["UPPER_BOUND"]) == (str(day_ms(job.start)), str(day_ms(job.end)))
    assert flows.count("StartFlow") == 1
    assert runs_tables(at)[1]["Status"].iloc[0] == "Successful"  # the new run is listed

    at.button(key="h_backfill_reload").click().run()
    assert not at.exception
    assert not [s for s in at.success if "finished" in s.value]  # the result is dismissed after reloading


def test_a_chosen_range_and_a_failed_backfill_run(flows: FakeAppFlow) -> None:
    from tests.fixtures.appflow import Outcome

    flows.outcomes.append(Outcome("Error", message="Google Analytics 4 returned 503 Service Unavailable"))
    at = open_health()
    at.date_input(key="h_backfill_days").set_value((datetime(2026, 10, 10).date(), datetime(2026, 10, 12).date()))
    at.run()
    button = at.button(key="h_backfill")
    assert button.label == "Backfill 3 day(s): 2026-10-10 – 2026-10-12"
    button.click().run()
    JOBS.wait(BACKFILL, 30)
    at.run()
    failed = [e.value for e in at.error if "did not finish" in e.value]
    assert len(failed) == 1 and "2026-10-10 – 2026-10-12" in failed[0]
    assert "ended Error: Google Analytics 4 returned 503 Service Unavailable" in failed[0]
    assert at.button(key="h_backfill").label.startswith("Backfill")  # the action is offered again


def test_without_appflow_permissions_the_page_works_and_names_the_permission(flows: FakeAppFlow) -> None:
    flows.deny("DescribeFlowExecutionRecords")
    at = open_health()
    warnings = [w.value for w in at.warning if "IAM permission" in w.value]
    assert len(warnings) == 2 and all("**appflow:DescribeFlowExecutionRecords**" in w for w in warnings)
    assert at.get("plotly_chart") and "2026-10-14" in at.error[0].value  # the calendar and the missing day
    assert at.dataframe and at.metric  # days, errors and exclusions are all still there
    del flows.always["DescribeFlowExecutionRecords"]
    flows.deny("UpdateFlow")  # may read, may not change the flow
    at.button(key="h_backfill").click().run()
    JOBS.wait(BACKFILL, 30)
    at.run()
    assert any("**appflow:UpdateFlow**" in e.value and BACKFILL in e.value for e in at.error)
    assert flows.count("StartFlow") == 0


def test_without_flows_a_short_hint_remains(app_env: AppEnv, fake_appflow: FakeAppFlow) -> None:
    at = open_health()
    assert "Name the AppFlow flows" in texts(at)
    assert "python -m heatmap backfill --flow <backfill flow> --from 2026-10-14 --to 2026-10-14" in at.code[0].value
    assert not [b for b in at.button if b.key == "h_backfill"] and fake_appflow.count() == 0


def test_the_action_is_behind_login(flows: FakeAppFlow) -> None:
    logged_out = AppTest.from_file(APP, default_timeout=TIMEOUT)
    logged_out.secrets["auth"] = AUTH
    logged_out.user = {"is_logged_in": False}
    logged_out.run()
    logged_out.switch_page(HEALTH).run()
    assert not [b for b in logged_out.button if b.key == "h_backfill"] and flows.count() == 0
    at = open_health(secrets={"auth": AUTH}, user={"is_logged_in": True, "email": "designer@example.com"})
    at.button(key="h_backfill").click().run()
    job = JOBS.wait(BACKFILL, 30)
    assert job is not None and job.succeeded and job.started_by == "designer@example.com"
