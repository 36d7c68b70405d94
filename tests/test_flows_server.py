"""AppFlow over HTTP against the fake server (tests/fixtures/appflow.py): botocore's retries counted at the server,
bounded time, and what the CLI prints for every error (one line on stderr, JSON only on stdout, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from heatmap.aws import new_session
from heatmap.cli import main
from heatmap.config import Settings
from heatmap.errors import FlowAccessDenied, FlowError, FlowNotFound
from heatmap.flows import AppFlowOptions, list_runs, make_client
from heatmap.flows.backfill import backfill, date_filter_index, day_ms
from tests.fixtures.appflow import (
    BACKFILL,
    DAILY,
    INTERNAL,
    QUOTA,
    REGION,
    THROTTLED,
    UNAVAILABLE,
    FakeAppFlow,
    Outcome,
    template_flow,
)
from tests.fixtures.browser import free_port

ROOT = Path(__file__).resolve().parents[1]
DAY = date(2026, 10, 14)


def settings_client() -> Any:
    """The client the CLI and the app make: from Settings, i.e. HEATMAP_APPFLOW_* and the AWS environment."""
    return make_client(Settings.load(env=dict(os.environ)).appflow)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------------------------------------- retries


def test_two_503s_then_success_are_retried(fake_appflow: FakeAppFlow) -> None:
    fake_appflow.add_run(DAILY, "Successful", datetime(2026, 11, 30, 2, tzinfo=UTC), 1000)
    fake_appflow.fail("DescribeFlowExecutionRecords", UNAVAILABLE, UNAVAILABLE)
    runs = list_runs(settings_client(), DAILY)
    assert [r.status for r in runs] == ["Successful"]
    assert fake_appflow.count("DescribeFlowExecutionRecords") == 3


def test_500s_are_retried_too(fake_appflow: FakeAppFlow) -> None:
    fake_appflow.fail("DescribeFlow", INTERNAL, INTERNAL)
    result = backfill(settings_client(), BACKFILL, DAY, DAY, wait=True, poll_seconds=0.05)
    assert result.status == "Successful" and fake_appflow.count("DescribeFlow") == 3


def test_throttling_is_retried_with_backoff(fake_appflow: FakeAppFlow) -> None:
    fake_appflow.fail("DescribeFlowExecutionRecords", THROTTLED, THROTTLED)
    began = time.monotonic()
    assert list_runs(settings_client(), DAILY) == []
    elapsed = time.monotonic() - began
    assert fake_appflow.count("DescribeFlowExecutionRecords") == 3
    assert elapsed < 10  # throttling backoff: rand(0,1) * 1 s, then * 2 s (botocore standard mode)
    times = [t for op, _, t in fake_appflow.requests]
    assert times == sorted(times)


@pytest.mark.parametrize(("setting", "attempts"), [(None, 5), ("1", 1), ("3", 3), ("7", 7)])
def test_max_attempts_counts_every_attempt_at_the_server(
    fake_appflow: FakeAppFlow, monkeypatch: pytest.MonkeyPatch, setting: str | None, attempts: int
) -> None:
    """HEATMAP_APPFLOW_MAX_ATTEMPTS is the number of requests the server sees (botocore's total_max_attempts),
    default 5; a persistent 503 ends within a bounded time with one sentence."""
    if setting:
        monkeypatch.setenv("HEATMAP_APPFLOW_MAX_ATTEMPTS", setting)
    fake_appflow.always["DescribeFlowExecutionRecords"] = UNAVAILABLE
    client = settings_client()
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": attempts}
    began = time.monotonic()
    with pytest.raises(FlowError) as caught:
        list_runs(client, DAILY)
    assert time.monotonic() - began < 15  # 503 backoff: rand(0,1) * 50 ms * 2^i, at most 20 s each
    assert fake_appflow.count("DescribeFlowExecutionRecords") == attempts
    plural = "s" if attempts != 1 else ""
    assert f"answered 503 ServiceUnavailableException to DescribeFlowExecutionRecords for flow '{DAILY}' after {attempts} attempt{plural}" in str(caught.value)  # fmt: skip


def test_botocore_counts_retries_in_max_attempts_and_attempts_in_total_max_attempts(fake_appflow: FakeAppFlow) -> None:
    """Why the client passes total_max_attempts: `retries={"max_attempts": 2}` means 2 *retries*, 3 requests."""
    fake_appflow.always["DescribeFlow"] = UNAVAILABLE
    retries_form = new_session().client(
        "appflow", region_name=REGION, config=Config(retries={"mode": "standard", "max_attempts": 2})
    )
    with pytest.raises(ClientError):
        retries_form.describe_flow(flowName=BACKFILL)
    assert fake_appflow.count("DescribeFlow") == 3
    with pytest.raises(FlowError):
        backfill(make_client(AppFlowOptions(region=REGION, max_attempts=2)), BACKFILL, DAY, DAY)
    assert fake_appflow.count("DescribeFlow") == 3 + 2


def test_adaptive_mode_is_accepted_and_a_bad_mode_refused(fake_appflow: FakeAppFlow) -> None:
    fake_appflow.fail("DescribeFlowExecutionRecords", UNAVAILABLE)
    client = make_client(AppFlowOptions(region=REGION, retry_mode="adaptive"))
    assert client.meta.config.retries["mode"] == "adaptive"
    assert list_runs(client, DAILY) == [] and fake_appflow.count() == 2
    with pytest.raises(FlowError, match="retry mode"):
        make_client(AppFlowOptions(region=REGION, retry_mode="legacy"))


def test_start_flow_quota_is_transient_update_flow_quota_is_not(fake_appflow: FakeAppFlow) -> None:
    fake_appflow.fail("StartFlow", QUOTA, QUOTA)
    result = backfill(settings_client(), BACKFILL, DAY, DAY, wait=True, poll_seconds=0.05)
    assert result.status == "Successful"
    assert fake_appflow.count("StartFlow") == 3
    fake_appflow.fail("UpdateFlow", QUOTA)
    with pytest.raises(FlowError, match="a service quota is reached") as caught:
        backfill(settings_client(), BACKFILL, DAY, DAY, poll_seconds=0.05)
    assert fake_appflow.count("UpdateFlow") == 2  # the first backfill's, and this one: not retried
    assert "after 1 attempt" in str(caught.value)


def test_permanent_errors_are_not_retried(fake_appflow: FakeAppFlow) -> None:
    with pytest.raises(FlowNotFound, match="has no flow named 'nope'"):
        list_runs(settings_client(), "nope")
    assert fake_appflow.count() == 1
    fake_appflow.deny("UpdateFlow")
    with pytest.raises(FlowAccessDenied) as caught:
        backfill(settings_client(), BACKFILL, DAY, DAY, poll_seconds=0)
    assert caught.value.action == "appflow:UpdateFlow" and fake_appflow.count("UpdateFlow") == 1
    assert fake_appflow.count("StartFlow") == 0
    fake_appflow.fail("DescribeFlowExecutionRecords", (400, "ValidationException", "maxResults is invalid"))
    with pytest.raises(FlowError, match="as invalid"):
        list_runs(settings_client(), DAILY)
    assert fake_appflow.count("DescribeFlowExecutionRecords") == 3  # 'nope', the backfill's busy check, this one


def test_an_unreachable_endpoint_ends_in_bounded_time(
    fake_appflow: FakeAppFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_APPFLOW", f"http://127.0.0.1:{free_port()}")
    began = time.monotonic()
    with pytest.raises(FlowError, match="cannot reach AppFlow"):
        list_runs(settings_client(), DAILY)
    assert time.monotonic() - began < 20


# --------------------------------------------------------------------------------------- backfill end to end


def test_backfill_changes_only_the_bounds_on_the_server_and_waits(fake_appflow: FakeAppFlow) -> None:
    before = json.loads(json.dumps(fake_appflow.flows[BACKFILL]))
    result = backfill(settings_client(), BACKFILL, DAY, date(2026, 10, 15), wait=True, poll_seconds=0.05)
    assert result.status == "Successful" and result.runs[0].records == 1234
    (body,) = fake_appflow.bodies("UpdateFlow")
    index = date_filter_index(before)
    assert body["tasks"][index]["taskProperties"]["LOWER_BOUND"] == str(day_ms(DAY))
    assert body["tasks"][index]["taskProperties"]["UPPER_BOUND"] == str(day_ms(date(2026, 10, 15)))
    after = fake_appflow.flows[BACKFILL]
    for key in ("triggerConfig", "sourceFlowConfig", "destinationFlowConfigList", "description"):
        assert after[key] == before[key], key
    assert [t for n, t in enumerate(after["tasks"]) if n != index] == [
        t for n, t in enumerate(before["tasks"]) if n != index
    ]
    ops = fake_appflow.operations()
    assert ops[:4] == ["DescribeFlow", "DescribeFlowExecutionRecords", "UpdateFlow", "StartFlow"]
    assert set(ops[4:]) == {"DescribeFlowExecutionRecords"}


def test_the_event_routes_backfill_starts_one_whole_table_run_and_changes_nothing(fake_appflow: FakeAppFlow) -> None:
    """The BigQuery flows have no date filter (AppFlow documents none): one run exports the whole table."""
    flow = fake_appflow.add_flow("EventBackfillFlow")["flowName"]
    before = json.loads(json.dumps(fake_appflow.flows[flow]))
    result = backfill(settings_client(), flow, date(2026, 8, 1), date(2026, 10, 4), wait=True, poll_seconds=0.05)
    assert [(r.status, r.start, r.end) for r in result.runs] == [("Successful", date(2026, 8, 1), date(2026, 10, 4))]
    assert fake_appflow.count("UpdateFlow") == 0 and fake_appflow.count("StartFlow") == 1
    assert fake_appflow.flows[flow] == before
    daily = fake_appflow.add_flow("EventDailyFlow")["flowName"]
    with pytest.raises(FlowError, match="is Scheduled"):
        backfill(settings_client(), daily, DAY, DAY, poll_seconds=0.05)


def test_a_split_backfill_never_updates_under_a_running_execution(fake_appflow: FakeAppFlow) -> None:
    """The fake answers ConflictException to an UpdateFlow while a run is InProgress; each run takes 0.3 s."""
    fake_appflow.default_outcome = Outcome(seconds=0.3)
    result = backfill(settings_client(), BACKFILL, date(2026, 8, 1), date(2026, 10, 4), wait=True, poll_seconds=0.05)
    assert [r.status for r in result.runs] == ["Successful"] * 3
    bounds = [
        (b["tasks"][1]["taskProperties"]["LOWER_BOUND"], b["tasks"][1]["taskProperties"]["UPPER_BOUND"])
        for b in fake_appflow.bodies("UpdateFlow")
    ]
    assert bounds == [
        (str(day_ms(date(2026, 8, 1))), str(day_ms(date(2026, 8, 30)))),
        (str(day_ms(date(2026, 8, 31))), str(day_ms(date(2026, 9, 29)))),
        (str(day_ms(date(2026, 9, 30))), str(day_ms(date(2026, 10, 4)))),
    ]


# ---------------------------------------------------------------------------------------------------- CLI


def test_cli_flow_runs_json(fake_appflow: FakeAppFlow, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = datetime(2026, 11, 25, 2, tzinfo=UTC)
    for n in range(4):
        fake_appflow.add_run(DAILY, "Successful", t0 + timedelta(days=n), 1000 + n, execution_id=f"run-{n}")
    fake_appflow.add_run(DAILY, "Error", t0 + timedelta(days=4), message="Google Analytics 4: 503 Service Unavailable",
                         execution_id="run-4")  # fmt: skip
    code, out, err = cli(capsys, "flow-runs", "--flow", DAILY, "--limit", "3", "--json")
    assert code == 0 and err == ""
    document = json.loads(out)
    assert document["flow"] == DAILY
    assert [r["execution_id"] for r in document["runs"]] == ["run-4", "run-3", "run-2"]
    assert document["runs"][0] == {
        "execution_id": "run-4",
        "status": "Error",
        "started": "2026-11-29T02:00:00Z",
        "updated": "2026-11-29T02:04:00Z",
        "records": None,
        "error": "Google Analytics 4: 503 Service Unavailable",
    }
    assert document["runs"][1]["records"] == 1003


def test_cli_flow_runs_follows_next_token(fake_appflow: FakeAppFlow, capsys: pytest.CaptureFixture[str]) -> None:
    t0 = datetime(2026, 6, 1, 2, tzinfo=UTC)
    for n in range(150):
        fake_appflow.add_run(DAILY, "Successful", t0 + timedelta(days=n), n)
    code, out, _ = cli(capsys, "flow-runs", "--flow", DAILY, "--limit", "120", "--json")
    runs = json.loads(out)["runs"]
    assert code == 0 and len(runs) == 120 and runs[0]["records"] == 149
    assert [b.get("maxResults") for b in fake_appflow.bodies("DescribeFlowExecutionRecords")] == [100, 20]


def test_cli_flow_defaults_to_the_configured_flows(
    fake_appflow: FakeAppFlow, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "flow-runs", "--json")
    assert code == 1 and "pass --flow NAME (or set HEATMAP_DAILY_FLOW)" in one_error_line(err)
    monkeypatch.setenv("HEATMAP_DAILY_FLOW", DAILY)
    monkeypatch.setenv("HEATMAP_BACKFILL_FLOW", BACKFILL)
    assert cli(capsys, "flow-runs", "--json")[0] == 0
    code, out, err = cli(capsys, "backfill", "--from", "2026-10-14", "--to", "2026-10-14", "--json")
    assert code == 0 and err == "" and json.loads(out)["flow"] == BACKFILL


def test_cli_backfill_wait_json(fake_appflow: FakeAppFlow, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14",
                         "--wait", "--json")  # fmt: skip
    assert code == 0 and err == ""
    document = json.loads(out)
    (execution,) = [r for r in fake_appflow.executions[BACKFILL]]
    assert document == {
        "flow": BACKFILL,
        "execution_id": execution["executionId"],
        "status": "Successful",
        "from": "2026-10-14",
        "to": "2026-10-14",
        "runs": [{"execution_id": execution["executionId"], "status": "Successful", "from": "2026-10-14",
                  "to": "2026-10-14", "records": 1234, "error": None}],
    }  # fmt: skip


def test_cli_backfill_run_that_fails(fake_appflow: FakeAppFlow, capsys: pytest.CaptureFixture[str]) -> None:
    fake_appflow.outcomes.append(Outcome("Error", message="Google Analytics 4 returned 503 Service Unavailable"))
    code, out, err = cli(capsys, "backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14",
                         "--wait", "--json")  # fmt: skip
    assert code == 1
    assert json.loads(out)["status"] == "Error"
    line = one_error_line(err)
    assert "ended Error: Google Analytics 4 returned 503 Service Unavailable" in line


@pytest.mark.parametrize(
    ("setup", "argv", "expected", "requests"),
    [
        ("none", ["flow-runs", "--flow", "nope"], "AppFlow has no flow named 'nope'", 1),
        ("deny-records", ["flow-runs", "--flow", DAILY], "lacks the IAM permission appflow:DescribeFlowExecutionRecords", 1),
        ("deny-describe", ["backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14"],
         "lacks the IAM permission appflow:DescribeFlow on flow", 1),
        ("deny-update", ["backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14"],
         "lacks the IAM permission appflow:UpdateFlow", 3),
        ("deny-start", ["backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14"],
         "lacks the IAM permission appflow:StartFlow", 4),
        ("503", ["flow-runs", "--flow", DAILY], "after 5 attempts; AWS may be having trouble", 5),
        ("throttled", ["flow-runs", "--flow", DAILY], "kept throttling DescribeFlowExecutionRecords", 2),
        ("busy", ["backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14"],
         "is already running (run busy-1", 2),
        ("none", ["backfill", "--flow", DAILY, "--from", "2026-10-14", "--to", "2026-10-14"],
         "StartFlow would only activate it", 1),
        ("none", ["backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2099-01-01"], "in the future", 0),
        ("none", ["backfill", "--flow", BACKFILL, "--from", "2004-01-01", "--to", "2004-01-02"], "HEATMAP_FIRST_DAY", 0),
        ("none", ["backfill", "--flow", BACKFILL, "--from", "2026-10-15", "--to", "2026-10-14"], "swap --from and --to", 0),
        ("none", ["backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to", "2026-10-14", "--days-per-run", "90"],
         "days per run must be between 1 and 30", 0),
        ("none", ["flow-runs", "--flow", DAILY, "--limit", "0"], "--limit must be between 1 and 1000", 0),
    ],
)  # fmt: skip
def test_cli_errors_are_one_line(
    fake_appflow: FakeAppFlow,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    argv: list[str],
    expected: str,
    requests: int,
) -> None:
    if setup.startswith("deny-"):
        operation = {"records": "DescribeFlowExecutionRecords", "describe": "DescribeFlow",
                     "update": "UpdateFlow", "start": "StartFlow"}[setup[5:]]  # fmt: skip
        fake_appflow.deny(operation)
    elif setup == "503":
        fake_appflow.always["DescribeFlowExecutionRecords"] = UNAVAILABLE
    elif setup == "throttled":
        monkeypatch.setenv("HEATMAP_APPFLOW_MAX_ATTEMPTS", "2")
        fake_appflow.always["DescribeFlowExecutionRecords"] = THROTTLED
    elif setup == "busy":
        fake_appflow.add_run(BACKFILL, "InProgress", datetime.now(UTC), execution_id="busy-1")
    code, out, err = cli(capsys, *argv, "--json")
    assert code == 1 and out == ""
    assert expected in one_error_line(err)
    assert fake_appflow.count() == requests
    assert fake_appflow.count("UpdateFlow") == (1 if setup in ("deny-update", "deny-start") else 0)


def test_cli_in_a_real_process_prints_json_only_and_errors_in_one_line(fake_appflow: FakeAppFlow) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "heatmap", "backfill", "--flow", BACKFILL, "--from", "2026-10-14", "--to",
         "2026-10-14", "--wait", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] == "Successful" and ok.stderr == ""
    fake_appflow.always["DescribeFlowExecutionRecords"] = UNAVAILABLE
    before = fake_appflow.count("DescribeFlowExecutionRecords")  # the backfill's busy check and polls
    began = time.monotonic()
    bad = subprocess.run(
        [sys.executable, "-m", "heatmap", "flow-runs", "--flow", DAILY, "--json"],
        cwd=ROOT, env={**env, "HEATMAP_APPFLOW_MAX_ATTEMPTS": "4"}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stdout == ""
    assert "after 4 attempts" in one_error_line(bad.stderr)
    assert time.monotonic() - began < 60
    assert fake_appflow.count("DescribeFlowExecutionRecords") - before == 4


def test_template_flows_are_what_the_fake_serves() -> None:
    assert template_flow("BackfillFlow")["flowName"] == BACKFILL
    assert template_flow("DailyFlow")["triggerConfig"]["triggerType"] == "Scheduled"
