"""AppFlow operations, request shapes (botocore Stubber): what flow-runs reads and what a backfill sends.

The flows are tracking/appflow.yaml's, converted to the API's shapes (tests/fixtures/appflow.py), so the date
filter is found and changed exactly as the template builds it. Retries, timing and errors against a server over
HTTP are in tests/test_flows_server.py.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from heatmap.errors import FlowBusy, FlowError, FlowRangeError
from heatmap.flows import AppFlowOptions, list_runs, make_client
from heatmap.flows.backfill import (
    MAX_DAYS_PER_RUN,
    UPDATE_KEYS,
    backfill,
    check_range,
    current_bounds,
    date_filter_index,
    day_ms,
    split_range,
    update_request,
)
from heatmap.flows.runs import FlowRun
from tests.fixtures.appflow import BACKFILL, DAILY, template_flow

TODAY = date(2026, 12, 1)
FIRST_DAY = date(2005, 1, 1)


@pytest.fixture
def client(aws_env: None) -> Any:
    return make_client(AppFlowOptions(region="us-east-1"))


def described(logical_id: str = "BackfillFlow", last_status: str | None = None) -> dict[str, Any]:
    """A DescribeFlow answer as boto3 returns it (datetimes, not epoch numbers)."""
    flow = template_flow(logical_id)
    for key in ("createdAt", "lastUpdatedAt"):
        flow[key] = datetime.fromtimestamp(flow[key], UTC)
    if last_status:
        flow["lastRunExecutionDetails"] = {
            "mostRecentExecutionStatus": last_status,
            "mostRecentExecutionTime": datetime(2026, 11, 30, 2, tzinfo=UTC),
            "mostRecentExecutionMessage": "",
        }
    return flow


def record(execution_id: str, status: str, started: datetime, records: int | None = None, message: str = "") -> dict:
    result: dict[str, Any] = {}
    if records is not None:
        result["recordsProcessed"] = records
    if message:
        result["errorInfo"] = {"putFailuresCount": 0, "executionMessage": message}
    return {
        "executionId": execution_id,
        "executionStatus": status,
        "startedAt": started,
        "lastUpdatedAt": started + timedelta(minutes=4),
        "executionResult": result,
    }


def no_sleep(_seconds: float) -> None:
    return None


# ------------------------------------------------------------------------------------------ dates and bounds


def test_bounds_are_epoch_milliseconds_of_utc_midnights() -> None:
    assert day_ms(date(2025, 1, 1)) == 1735689600000  # the template's default BackfillFrom
    assert day_ms(date(2025, 1, 2)) == 1735776000000  # ... and BackfillTo
    assert day_ms(date(2026, 10, 14)) == 1791936000000
    assert day_ms(date(2026, 10, 15)) - day_ms(date(2026, 10, 14)) == 86_400_000


def test_the_template_date_filter_is_found_and_read() -> None:
    flow = described()
    index = date_filter_index(flow)
    task = flow["tasks"][index]
    assert task["taskType"] == "Filter" and task["connectorOperator"] == {"CustomConnector": "BETWEEN"}
    assert task["sourceFields"] == ["date"]
    assert current_bounds(flow) == (date(2025, 1, 1), date(2025, 1, 2))
    with pytest.raises(FlowError, match="no date filter"):
        date_filter_index(described("DailyFlow"))


def test_update_keeps_the_definition_and_changes_only_the_bounds() -> None:
    flow = described()
    before = copy.deepcopy(flow)
    request = update_request(flow, date(2026, 10, 14), date(2026, 10, 16))
    assert flow == before, "the DescribeFlow answer must not be modified"
    assert set(request) == {"flowName", *(k for k in UPDATE_KEYS if k in flow)}
    assert request["flowName"] == BACKFILL
    for key in UPDATE_KEYS:
        if key in flow and key != "tasks":
            assert request[key] == flow[key], key
    index = date_filter_index(flow)
    assert len(request["tasks"]) == len(flow["tasks"])
    for n, (new, old) in enumerate(zip(request["tasks"], flow["tasks"], strict=True)):
        if n != index:
            assert new == old
    changed = request["tasks"][index]
    assert {k: v for k, v in changed.items() if k != "taskProperties"} == {
        k: v for k, v in flow["tasks"][index].items() if k != "taskProperties"
    }
    assert changed["taskProperties"] == {
        "DATA_TYPE": "date",
        "LOWER_BOUND": "1791936000000",  # 2026-10-14T00:00Z
        "UPPER_BOUND": "1792108800000",  # 2026-10-16T00:00Z: the last day, as the template's BackfillTo
    }


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        (date(2026, 10, 15), date(2026, 10, 14), "after it ends"),
        (date(2026, 11, 30), date(2026, 12, 2), "in the future"),
        (date(2004, 12, 30), date(2005, 1, 3), "before 2005-01-01"),
    ],
)
def test_impossible_ranges_are_refused(start: date, end: date, reason: str) -> None:
    with pytest.raises(FlowRangeError, match=reason):
        check_range(start, end, TODAY, FIRST_DAY)
    check_range(TODAY, TODAY, TODAY, FIRST_DAY)  # today itself is allowed (GA's time zones may be ahead)


def test_split_into_consecutive_runs_of_at_most_30_days() -> None:
    assert MAX_DAYS_PER_RUN == 30
    assert split_range(date(2026, 10, 14), date(2026, 10, 14)) == [(date(2026, 10, 14), date(2026, 10, 14))]
    parts = split_range(date(2026, 8, 1), date(2026, 10, 4))  # 65 days
    assert parts == [
        (date(2026, 8, 1), date(2026, 8, 30)),
        (date(2026, 8, 31), date(2026, 9, 29)),
        (date(2026, 9, 30), date(2026, 10, 4)),
    ]
    assert split_range(date(2026, 1, 1), date(2026, 1, 30)) == [(date(2026, 1, 1), date(2026, 1, 30))]
    assert len(split_range(date(2026, 1, 1), date(2026, 1, 10), days_per_run=3)) == 4
    with pytest.raises(FlowRangeError):
        split_range(date(2026, 1, 1), date(2026, 1, 10), days_per_run=31)


# ---------------------------------------------------------------------------------------------- flow-runs


def test_runs_follow_next_token_and_come_newest_first(client: Any) -> None:
    t0 = datetime(2026, 11, 28, 2, tzinfo=UTC)
    stub = Stubber(client)
    stub.add_response(
        "describe_flow_execution_records",
        {"flowExecutions": [record("c", "Successful", t0 + timedelta(days=2), 900),
                            record("b", "Error", t0 + timedelta(days=1), message="GA4 503 Service Unavailable")],
         "nextToken": "page-2"},
        {"flowName": DAILY, "maxResults": 3},
    )  # fmt: skip
    stub.add_response(
        "describe_flow_execution_records",
        {"flowExecutions": [record("a", "Successful", t0, 800)], "nextToken": "page-3"},
        {"flowName": DAILY, "maxResults": 1, "nextToken": "page-2"},
    )
    with stub:
        runs = list_runs(client, DAILY, limit=3)
    stub.assert_no_pending_responses()  # enough runs: page 3 is never asked for
    assert [r.execution_id for r in runs] == ["c", "b", "a"]
    assert runs[1].failed and runs[1].error == "GA4 503 Service Unavailable"
    assert runs[0].to_json() == {
        "execution_id": "c",
        "status": "Successful",
        "started": "2026-11-30T02:00:00Z",
        "updated": "2026-11-30T02:04:00Z",
        "records": 900,
        "error": None,
    }


def test_a_run_without_result_yet_has_nulls() -> None:
    run = FlowRun.from_record({"executionId": "x", "executionStatus": "InProgress"})
    assert run.to_json() == {
        "execution_id": "x", "status": "InProgress", "started": None, "updated": None, "records": None, "error": None,
    }  # fmt: skip
    assert run.running


# ------------------------------------------------------------------------------------------------ backfill


def add_part(
    stub: Stubber,
    flow: dict[str, Any],
    start: date,
    end: date,
    execution_id: str,
    previous: dict[str, Any] | None,
    follow: list[str] | None,
    records: int = 100,
) -> None:
    """The calls of one run, in order: DescribeFlow, the busy check, UpdateFlow, StartFlow, then the polls."""
    stub.add_response("describe_flow", flow, {"flowName": BACKFILL})
    stub.add_response(
        "describe_flow_execution_records", {"flowExecutions": [previous] if previous else []},
        {"flowName": BACKFILL, "maxResults": 5},
    )  # fmt: skip
    stub.add_response("update_flow", {"flowStatus": "Active"}, {**update_request(flow, start, end), "clientToken": ANY})
    stub.add_response(
        "start_flow",
        {"flowArn": flow["flowArn"], "flowStatus": "Active", "executionId": execution_id},
        {"flowName": BACKFILL, "clientToken": ANY},
    )
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    for status in follow or []:
        stub.add_response(
            "describe_flow_execution_records",
            {"flowExecutions": [record(execution_id, status, now, records if status == "Successful" else None)]},
            {"flowName": BACKFILL, "maxResults": 20},
        )


def test_one_day_backfill_sends_update_start_and_follows_the_run(client: Any) -> None:
    flow = described(last_status="Successful")
    day = date(2026, 10, 14)
    previous = record("old", "Successful", datetime(2026, 11, 1, tzinfo=UTC), 5)
    stub = Stubber(client)
    add_part(stub, flow, day, day, "exec-1", previous, follow=["InProgress", "InProgress", "Successful"], records=42)
    seen: list[str] = []
    with stub:
        result = backfill(
            client, BACKFILL, day, day, wait=True, today=TODAY, poll_seconds=0, sleep=no_sleep,
            progress=lambda p: seen.append(p.step),
        )  # fmt: skip
    stub.assert_no_pending_responses()
    assert result.to_json() == {
        "flow": BACKFILL,
        "execution_id": "exec-1",
        "status": "Successful",
        "from": "2026-10-14",
        "to": "2026-10-14",
        "runs": [
            {"execution_id": "exec-1", "status": "Successful", "from": "2026-10-14", "to": "2026-10-14",
             "records": 42, "error": None},
        ],
    }  # fmt: skip
    assert seen[:4] == ["checking", "updating", "starting", "running"] and seen[-1] == "finished"


def test_without_wait_the_run_is_started_and_left_running(client: Any) -> None:
    flow = described()
    day = date(2026, 10, 14)
    stub = Stubber(client)
    add_part(stub, flow, day, day, "exec-1", None, follow=None)
    with stub:
        result = backfill(client, BACKFILL, day, day, today=TODAY, poll_seconds=0, sleep=no_sleep)
    stub.assert_no_pending_responses()
    assert (result.execution_id, result.status) == ("exec-1", "InProgress")


def test_a_long_range_is_split_and_each_run_is_waited_for_before_the_next_update(client: Any) -> None:
    """The Stubber fails on any call out of this order: an UpdateFlow while the previous run is unfinished would
    meet the follow-up poll's response instead."""
    flow = described()
    stub = Stubber(client)
    parts = split_range(date(2026, 8, 1), date(2026, 10, 4))
    previous = None
    for n, (first, last) in enumerate(parts, start=1):
        is_last = n == len(parts)
        add_part(
            stub, flow, first, last, f"exec-{n}", previous, follow=None if is_last else ["InProgress", "Successful"]
        )
        previous = record(f"exec-{n}", "Successful", datetime(2026, 11, 30, 9, tzinfo=UTC), 100)
    with stub:
        result = backfill(
            client, BACKFILL, date(2026, 8, 1), date(2026, 10, 4), today=TODAY, poll_seconds=0, sleep=no_sleep
        )
    stub.assert_no_pending_responses()
    document = result.to_json()
    assert (document["execution_id"], document["status"]) == ("exec-3", "InProgress")
    assert (document["from"], document["to"]) == ("2026-08-01", "2026-10-04")
    assert [(r["from"], r["to"], r["status"]) for r in document["runs"]] == [
        ("2026-08-01", "2026-08-30", "Successful"),
        ("2026-08-31", "2026-09-29", "Successful"),
        ("2026-09-30", "2026-10-04", "InProgress"),
    ]


def test_a_failed_part_stops_the_backfill_and_says_what_was_not_started(client: Any) -> None:
    flow = described()
    stub = Stubber(client)
    first, last = split_range(date(2026, 8, 1), date(2026, 10, 4))[0]
    add_part(stub, flow, first, last, "exec-1", None, follow=["Error"])
    stub.add_response(
        "describe_flow_execution_records",
        {"flowExecutions": [record("exec-1", "Error", datetime(2026, 11, 30, tzinfo=UTC), message="503 from GA")]},
        {"flowName": BACKFILL, "maxResults": 20},
    )
    with stub:
        result = backfill(client, BACKFILL, date(2026, 8, 1), date(2026, 10, 4), wait=True, today=TODAY,
                          poll_seconds=0, sleep=no_sleep)  # fmt: skip
    assert result.failed and result.status == "Error" and len(result.runs) == 1
    message = result.failure()
    assert message and "exec-1" in message and "ended Error" in message
    assert "2026-08-31 to 2026-10-04 were not started" in message


def test_a_running_execution_is_never_updated(client: Any) -> None:
    flow = described(last_status="InProgress")
    stub = Stubber(client)
    stub.add_response("describe_flow", flow, {"flowName": BACKFILL})
    running = record("exec-9", "InProgress", datetime(2026, 11, 30, 8, tzinfo=UTC))
    stub.add_response(
        "describe_flow_execution_records", {"flowExecutions": [running]}, {"flowName": BACKFILL, "maxResults": 5}
    )
    with stub, pytest.raises(FlowBusy) as caught:
        backfill(client, BACKFILL, date(2026, 10, 14), date(2026, 10, 14), today=TODAY, sleep=no_sleep)
    stub.assert_no_pending_responses()  # and no UpdateFlow was queued: the Stubber would have refused it
    assert "already running" in str(caught.value) and "exec-9" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_scheduled_daily_flow_is_refused(client: Any) -> None:
    stub = Stubber(client)
    stub.add_response("describe_flow", described("DailyFlow"), {"flowName": DAILY})
    with stub, pytest.raises(FlowError, match="StartFlow would only activate it"):
        backfill(client, DAILY, date(2026, 10, 14), date(2026, 10, 14), today=TODAY, sleep=no_sleep)


def test_an_impossible_range_makes_no_call(client: Any) -> None:
    stub = Stubber(client)  # nothing queued: any call would fail the test
    with stub, pytest.raises(FlowRangeError, match="in the future"):
        backfill(client, BACKFILL, TODAY, TODAY + timedelta(days=1), today=TODAY)


def test_a_programming_error_in_an_appflow_call_is_not_turned_into_a_sentence() -> None:
    """A TypeError (a bug: a wrong argument) must reach the log with its traceback, not pass as an AWS problem."""
    from heatmap.flows.client import call

    class Broken:
        def describe_flow(self, **_: Any) -> dict[str, Any]:
            raise TypeError("describe_flow() got an unexpected keyword argument")

    with pytest.raises(TypeError):
        call(Broken(), "DescribeFlow", "ga4-heatmap-backfill")
