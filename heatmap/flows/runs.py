"""The runs (executions) of a flow, newest first: what Data health and `python -m heatmap flow-runs` show.

A day missing from the calendar has a reason, and it is usually here: a run that ended in Error with Google's
503 in its message, or no run at all. Reading runs is DescribeFlowExecutionRecords, following nextToken.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from heatmap.flows.client import call

#: AppFlow's execution statuses. A run in one of RUNNING has not finished: its flow must not be changed.
RUNNING = frozenset({"InProgress", "CancelStarted"})
FINISHED = frozenset({"Successful", "Error", "Canceled"})
PAGE_SIZE = 100  # DescribeFlowExecutionRecords' maximum maxResults
MAX_PAGES = 50  # a server that keeps returning nextToken cannot keep us here forever


@dataclass(frozen=True)
class FlowRun:
    """One execution of a flow, as docs/cli.md's `flow-runs` prints it."""

    execution_id: str
    status: str
    started: datetime | None
    updated: datetime | None
    records: int | None
    error: str | None

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def failed(self) -> bool:
        return self.status == "Error"

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "started": iso(self.started),
            "updated": iso(self.updated),
            "records": self.records,
            "error": self.error,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> FlowRun:
        """From an ExecutionRecord; absent fields stay None (a run just started has no result yet)."""
        result = record.get("executionResult") or {}
        info = result.get("errorInfo") or {}
        message = " ".join(str(info.get("executionMessage") or "").split()) or None
        records = result.get("recordsProcessed")
        return cls(
            execution_id=str(record.get("executionId") or ""),
            status=str(record.get("executionStatus") or "Unknown"),
            started=_utc(record.get("startedAt")),
            updated=_utc(record.get("lastUpdatedAt")),
            records=int(records) if records is not None else None,
            error=message,
        )


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, seconds precision: "2026-10-15T02:00:13Z"."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return None


def _newest_first(runs: Iterable[FlowRun]) -> list[FlowRun]:
    floor = datetime.min.replace(tzinfo=UTC)
    return sorted(runs, key=lambda r: r.started or r.updated or floor, reverse=True)


def list_runs(client: Any, flow: str, limit: int = 10) -> list[FlowRun]:
    """The last `limit` runs of `flow`, newest first (following nextToken until there are enough).

    AppFlow lists executions newest first; they are sorted by start time again anyway, so the order shown
    never depends on how a page boundary fell.
    """
    if limit < 1:
        return []
    found: list[FlowRun] = []
    token: str | None = None
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        params: dict[str, Any] = {"maxResults": min(PAGE_SIZE, max(1, limit - len(found)))}
        if token:
            params["nextToken"] = token
        page = call(client, "DescribeFlowExecutionRecords", flow, **params)
        found += [FlowRun.from_record(r) for r in page.get("flowExecutions") or []]
        token = page.get("nextToken") or None
        if len(found) >= limit or not token or token in seen:
            break
        seen.add(token)
    return _newest_first(found)[:limit]


def find_run(client: Any, flow: str, execution_id: str, look: int = 20) -> FlowRun | None:
    """The run `execution_id` among the last `look` runs of `flow`; None until AppFlow lists it."""
    for run in list_runs(client, flow, look):
        if run.execution_id == execution_id:
            return run
    return None


def running_run(runs: Iterable[FlowRun]) -> FlowRun | None:
    """The newest run that has not finished, if any."""
    return next((r for r in runs if r.running), None)
