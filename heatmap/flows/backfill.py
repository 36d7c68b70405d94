"""Backfill days through the on-demand AppFlow flow: set its date filter, start it, follow the run.

StartFlow on the *scheduled* daily flow does not re-run it (it only activates it, docs/operations.md), so a
missing day is pulled again by the on-demand backfill flow of tracking/appflow.yaml. That flow selects its days
with one Filter task, `BETWEEN` on `date`, whose LOWER_BOUND and UPPER_BOUND task properties hold epoch
milliseconds: the start (00:00 UTC) of the first day and of the last day, as the template's BackfillFrom and
BackfillTo parameters do. A backfill:

1. reads the flow (DescribeFlow) and refuses when it cannot be right: not on demand, no date filter, or a run
   still in progress (changing the filter under a running execution would change what that run means);
2. writes the same definition back with only the two bounds changed (UpdateFlow keeps everything else);
3. starts it (StartFlow) and, with `wait`, follows that execution until it is Successful or Error.

A range longer than one run may cover is split into consecutive runs; each run is waited for before the next
UpdateFlow. The event route's backfill flow (from BigQuery) has no date filter and exports its whole table: one
StartFlow, nothing updated (`exports_whole_table`). Every AppFlow call goes through heatmap.flows.client
(botocore's retries, one-sentence errors).
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from heatmap.errors import FlowBusy, FlowError, FlowRangeError
from heatmap.flows.client import call
from heatmap.flows.runs import FINISHED, RUNNING, FlowRun, find_run, iso, list_runs, running_run

#: The longest range one run pulls. GA4's Data API documents no maximum date span for a report, but it caps what
#: a report may cost: 250,000 rows per request (AppFlow pages through them) and a token budget per property
#: (standard properties: 40,000 tokens an hour, 200,000 a day), and a report's cost grows with the days and rows
#: it covers. AppFlow's GA4 connector itself pulls 30 days in one run (its default window, and what a scheduled
#: flow's first run pulls), so 30 days is the largest window known to work as a single run. Longer ranges are
#: split into consecutive runs of at most this many days; a smaller window (`days_per_run`) makes a failed run
#: (Google's 503 on a busy day) cheaper to repeat.
MAX_DAYS_PER_RUN = 30
DEFAULT_TIMEOUT = 2 * 60 * 60.0  # seconds to follow one run before giving up (the run itself goes on in AWS)
#: The keys of a DescribeFlow answer that UpdateFlow takes back unchanged (the tasks get new bounds).
UPDATE_KEYS = (
    "description",
    "triggerConfig",
    "sourceFlowConfig",
    "destinationFlowConfigList",
    "tasks",
    "metadataCatalogConfig",
)
LOWER_BOUND, UPPER_BOUND = "LOWER_BOUND", "UPPER_BOUND"
DATE_FIELD = "date"


# ----------------------------------------------------------------------------------------- dates and bounds


def day_ms(day: date) -> int:
    """Epoch milliseconds of 00:00 UTC on `day` (how AppFlow's date filters and the template hold a day)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def ms_day(value: Any) -> date | None:
    """The UTC day of an epoch-milliseconds bound; None when it is not one."""
    try:
        return datetime.fromtimestamp(int(str(value)) / 1000, UTC).date()
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def today_utc() -> date:
    return datetime.now(UTC).date()


def check_range(start: date, end: date, today: date, first_day: date) -> None:
    """Refuse a range that cannot be right, before any AppFlow call.

    `first_day` is the earliest day the flow's data can exist: the dashboard's HEATMAP_FIRST_DAY (set it to the
    day the tag went live), before which every row is excluded anyway, so pulling it would only cost GA quota.
    """
    if start > end:
        raise FlowRangeError(f"the range starts ({start}) after it ends ({end}); swap --from and --to")
    if end > today:
        raise FlowRangeError(f"{end} is in the future (today is {today} UTC): Google Analytics has no data for it yet")
    if start < first_day:
        raise FlowRangeError(
            f"{start} is before {first_day}, the first day the flow's data can exist (HEATMAP_FIRST_DAY); "
            "choose later days"
        )


def split_range(start: date, end: date, days_per_run: int = MAX_DAYS_PER_RUN) -> list[tuple[date, date]]:
    """Consecutive (first, last) pairs of at most `days_per_run` days covering start..end, oldest first."""
    if not 1 <= days_per_run <= MAX_DAYS_PER_RUN:
        raise FlowRangeError(f"days per run must be between 1 and {MAX_DAYS_PER_RUN}, not {days_per_run}")
    parts = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=days_per_run - 1))
        parts.append((first, last))
        first = last + timedelta(days=1)
    return parts


# ------------------------------------------------------------------------------------------ the date filter


def _is_date_filter(task: dict[str, Any]) -> bool:
    operators = set((task.get("connectorOperator") or {}).values())
    return task.get("taskType") == "Filter" and "BETWEEN" in operators and DATE_FIELD in task.get("sourceFields", [])


def date_filter_index(flow: dict[str, Any]) -> int:
    """Index of the flow's date filter task (Filter, BETWEEN on `date`), as tracking/appflow.yaml builds it."""
    found = [i for i, task in enumerate(flow.get("tasks") or []) if _is_date_filter(task)]
    name = flow.get("flowName", "?")
    if not found:
        raise FlowError(
            f"flow {name!r} has no date filter (a Filter task BETWEEN on {DATE_FIELD}, as tracking/appflow.yaml "
            "builds the backfill flow), so a backfill cannot choose its days; deploy the backfill flow from the template"
        )
    if len(found) > 1:
        raise FlowError(f"flow {name!r} has {len(found)} date filters; keep one (Filter BETWEEN on {DATE_FIELD})")
    return found[0]


def current_bounds(flow: dict[str, Any]) -> tuple[date | None, date | None]:
    """The days the flow's date filter covers now (None where a bound is missing or not epoch ms)."""
    props = flow["tasks"][date_filter_index(flow)].get("taskProperties") or {}
    return ms_day(props.get(LOWER_BOUND)), ms_day(props.get(UPPER_BOUND))


def update_request(flow: dict[str, Any], start: date, end: date) -> dict[str, Any]:
    """UpdateFlow's parameters: the DescribeFlow definition unchanged except the date filter's two bounds."""
    index = date_filter_index(flow)
    params: dict[str, Any] = {"flowName": flow["flowName"]}
    params.update({key: copy.deepcopy(flow[key]) for key in UPDATE_KEYS if flow.get(key) is not None})
    task = params["tasks"][index]
    task["taskProperties"] = {
        **(task.get("taskProperties") or {}),
        LOWER_BOUND: str(day_ms(start)),
        UPPER_BOUND: str(day_ms(end)),
    }
    return params


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BackfillRun:
    """One run of a backfill: the execution that pulled `start`..`end`."""

    execution_id: str
    status: str
    start: date
    end: date
    records: int | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "records": self.records,
            "error": self.error,
        }


@dataclass(frozen=True)
class BackfillResult:
    """What a backfill did. `execution_id` and `status` are the last run's (docs/cli.md's shape); `runs` has
    every run in order, one for a range of up to MAX_DAYS_PER_RUN days, more for a split range."""

    flow: str
    start: date
    end: date
    runs: tuple[BackfillRun, ...]
    not_run: tuple[tuple[date, date], ...] = ()  # parts never started because an earlier run failed

    @property
    def execution_id(self) -> str:
        return self.runs[-1].execution_id

    @property
    def status(self) -> str:
        return self.runs[-1].status

    @property
    def failed(self) -> bool:
        return any(run.status in ("Error", "Canceled") for run in self.runs)

    @property
    def records(self) -> int | None:
        counts = [run.records for run in self.runs if run.records is not None]
        return sum(counts) if counts else None

    def to_json(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "execution_id": self.execution_id,
            "status": self.status,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "runs": [run.to_json() for run in self.runs],
        }

    def failure(self) -> str | None:
        """One sentence about the run that failed (None when none did)."""
        bad = next((run for run in self.runs if run.status in ("Error", "Canceled")), None)
        if bad is None:
            return None
        text = f"backfill run {bad.execution_id} of flow {self.flow!r} ({bad.start} to {bad.end}) ended {bad.status}"
        if bad.error:
            text += f": {bad.error}"
        if self.not_run:
            text += f"; {self.not_run[0][0]} to {self.not_run[-1][1]} were not started"
        return text


@dataclass(frozen=True)
class BackfillProgress:
    """Where a backfill is, for a progress line: part `part` of `parts`, its step and its run."""

    flow: str
    part: int
    parts: int
    start: date
    end: date
    step: str  # "checking", "updating", "starting", "running", "finished"
    execution_id: str | None = None
    status: str | None = None
    records: int | None = None
    started: datetime | None = None


Progress = Callable[[BackfillProgress], None]

# ------------------------------------------------------------------------------------------------ backfill

_LOCKS_GUARD = threading.Lock()
_LOCKS: dict[str, threading.Lock] = {}


@contextmanager
def _exclusive(flow: str) -> Iterator[None]:
    """One backfill per flow in this process (two app sessions pressing Backfill at once)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.setdefault(flow, threading.Lock())
    if not lock.acquire(blocking=False):
        raise FlowBusy(f"a backfill of flow {flow!r} is already running in this app; wait for it to finish")
    try:
        yield
    finally:
        lock.release()


def _refuse_if_running(client: Any, flow: str, described: dict[str, Any]) -> None:
    """Never UpdateFlow under a running execution: its days would silently change."""
    runs = list_runs(client, flow, 5)
    run = running_run(runs)
    last = (described.get("lastRunExecutionDetails") or {}).get("mostRecentExecutionStatus")
    if run is None and last not in RUNNING:
        return
    what = f"run {run.execution_id}, started {iso(run.started) or 'just now'}" if run else "its latest run"
    raise FlowBusy(
        f"a backfill of flow {flow!r} is already running ({what}); wait for it to finish "
        f"(python -m heatmap flow-runs --flow {flow}) and try again"
    )


def exports_whole_table(flow: dict[str, Any]) -> bool:
    """The event route's flows (AppFlow's BigQuery connector, a custom connector) take no date filter: AppFlow
    documents none for BigQuery, so a run exports the whole table, every day the scheduled query wrote. Such a
    backfill is one StartFlow, whatever the days; nothing in the flow is changed."""
    source = flow.get("sourceFlowConfig") or {}
    has_filter = any(_is_date_filter(task) for task in flow.get("tasks", []))
    return source.get("connectorType") == "CustomConnector" and not has_filter


def _check_on_demand(flow: str, described: dict[str, Any]) -> None:
    trigger = (described.get("triggerConfig") or {}).get("triggerType")
    if trigger != "OnDemand":
        raise FlowError(
            f"flow {flow!r} is {trigger or 'not on demand'}: StartFlow would only activate it, not run it; "
            "backfill with the on-demand flow (<prefix>-backfill of tracking/appflow.yaml, HEATMAP_BACKFILL_FLOW)"
        )


def backfill(
    client: Any,
    flow: str,
    start: date,
    end: date,
    *,
    wait: bool = False,
    first_day: date = date(2005, 1, 1),
    today: date | None = None,
    days_per_run: int = MAX_DAYS_PER_RUN,
    poll_seconds: float = 15.0,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BackfillResult:
    """Pull start..end again through `flow`. With `wait`, follow the last run to its end too (earlier runs of a
    split range are always followed: the next UpdateFlow must not happen under a running execution).

    `poll_seconds` spaces the checks on a running execution and is also the pause between UpdateFlow and
    StartFlow (AppFlow applies an update asynchronously; Apache Airflow's AppFlow operator waits likewise).
    A failed run stops the backfill: the result says which run failed and which days were not started.
    """
    check_range(start, end, today or today_utc(), first_day)
    parts = split_range(start, end, days_per_run)

    def report(step: str, n: int, first: date, last: date, run: FlowRun | None = None, ex: str | None = None) -> None:
        if progress is not None:
            progress(
                BackfillProgress(
                    flow, n, len(parts), first, last, step,
                    execution_id=run.execution_id if run else ex,
                    status=run.status if run else None,
                    records=run.records if run else None,
                    started=run.started if run else None,
                )
            )  # fmt: skip

    done: list[BackfillRun] = []
    with _exclusive(flow):
        for n, (first, last) in enumerate(parts, start=1):
            report("checking", n, first, last)
            described = call(client, "DescribeFlow", flow)
            _check_on_demand(flow, described)
            whole = exports_whole_table(described)
            if whole:
                parts, first, last = [(start, end)], start, end
            request = None if whole else update_request(described, first, last)  # refuses a flow without a filter
            _refuse_if_running(client, flow, described)
            if request is not None:
                report("updating", n, first, last)
                request.pop("flowName")
                call(client, "UpdateFlow", flow, **request, clientToken=str(uuid.uuid4()))
                sleep(max(poll_seconds, 0.0))
            report("starting", n, first, last)
            started = call(client, "StartFlow", flow, clientToken=str(uuid.uuid4()))
            execution_id = started.get("executionId")
            if not execution_id:
                raise FlowError(f"AppFlow started flow {flow!r} without a run id: is it an on-demand flow?")
            if not wait and n == len(parts):
                report("started", n, first, last, ex=execution_id)
                done.append(BackfillRun(execution_id, "InProgress", first, last))
                break
            seen = partial(report, "running", n, first, last, ex=execution_id)
            run = _follow(client, flow, execution_id, poll_seconds, timeout, sleep, seen)
            report("finished", n, first, last, run)
            done.append(BackfillRun(execution_id, run.status, first, last, run.records, run.error))
            if run.status != "Successful":
                return BackfillResult(flow, start, end, tuple(done), tuple(parts[n:]))
            if whole:
                break
    return BackfillResult(flow, start, end, tuple(done))


def _follow(
    client: Any,
    flow: str,
    execution_id: str,
    poll_seconds: float,
    timeout: float,
    sleep: Callable[[float], None],
    seen: Callable[[FlowRun | None], None],
) -> FlowRun:
    """Poll DescribeFlowExecutionRecords until `execution_id` has finished; FlowError after `timeout`."""
    deadline = time.monotonic() + timeout
    run: FlowRun | None = None
    while True:
        run = find_run(client, flow, execution_id) or run  # a run just started may not be listed yet
        seen(run)
        if run is not None and run.status in FINISHED:
            return run
        if time.monotonic() >= deadline:
            status = run.status if run else "not listed yet"
            raise FlowError(
                f"run {execution_id} of flow {flow!r} is still {status} after {timeout / 60:.0f} min; it goes on in "
                f"AWS: follow it with python -m heatmap flow-runs --flow {flow}"
            )
        sleep(max(poll_seconds, 0.01))
