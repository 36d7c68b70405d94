"""Which AppFlow execution an export object belongs to, and which execution wins each GA date.

Incremental runs, manual re-runs and GA's 24-48 h revisions export the same GA date more than once.
For each date only the newest execution holding it counts; summing them would double the numbers. An execution of
the event route (tracking/bigquery, flows `<prefix>-events-*`) counts before any of the report route: the report
folds what GA4's summary tables could not hold into "(other)", the event route is exact.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from heatmap.contract import EVENT_BACKFILL_FLOW_SUFFIX, EVENT_DAILY_FLOW_SUFFIX, EVENT_ROUTE, REPORT_ROUTE
from heatmap.stores.base import ObjectInfo

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def execution_of(key: str) -> str:
    """The execution folder of an object key: `<flow>/[...]<executionId>/[field=value/...]<file>`.

    The last UUID-shaped folder is the execution id when there is one (AppFlow's ids are UUIDs);
    otherwise the object's folder minus partition (`k=v`) folders; a file at the top is its own execution.
    """
    folders = key.split("/")[:-1]
    for index in range(len(folders) - 1, -1, -1):
        if _UUID.match(folders[index]):
            return "/".join(folders[: index + 1])
    while folders and "=" in folders[-1]:
        folders.pop()
    return "/".join(folders) if folders else key


def route_of(execution: str) -> str:
    """The route an execution came by: the event route when one of its folders is an events flow's name."""
    for folder in execution.split("/"):
        for suffix in (EVENT_DAILY_FLOW_SUFFIX, EVENT_BACKFILL_FLOW_SUFFIX):
            if folder.endswith(suffix) and folder != suffix:
                return EVENT_ROUTE
    return REPORT_ROUTE


@dataclass(frozen=True)
class Execution:
    name: str
    last_modified: datetime
    objects: tuple[str, ...]

    @cached_property
    def route(self) -> str:
        return route_of(self.name)

    @property
    def order(self) -> tuple[bool, datetime, str]:
        return (self.route == EVENT_ROUTE, self.last_modified, self.name)


def group_executions(objects: Iterable[ObjectInfo]) -> dict[str, Execution]:
    grouped: dict[str, list[ObjectInfo]] = {}
    for info in objects:
        grouped.setdefault(execution_of(info.key), []).append(info)
    return {
        name: Execution(name, max(o.last_modified for o in infos), tuple(o.key for o in infos))
        for name, infos in grouped.items()
    }


def winners(dates_by_execution: Mapping[str, Iterable[date]], executions: Mapping[str, Execution]) -> dict[date, str]:
    """For each GA date, the execution that exported it and counts: event route first, then the newest (by
    LastModified, then name)."""
    best: dict[date, str] = {}
    for name, days in dates_by_execution.items():
        for day in days:
            current = best.get(day)
            if current is None or executions[name].order > executions[current].order:
                best[day] = name
    return best


def decide(
    objects: Iterable[ObjectInfo], days_of: Mapping[str, Iterable[date]]
) -> tuple[dict[str, Execution], dict[date, str], dict[date, int]]:
    """The executions, the one that counts for each GA date, and how many executions of the route that counts
    exported each date (more than one: re-exported; the other route's are superseded, not re-exports).

    `days_of` maps an object key to the GA dates it holds; every engine decides with this one rule.
    """
    executions = group_executions(objects)
    days_by_execution: dict[str, set[date]] = {name: set() for name in executions}
    for name, execution in executions.items():
        for key in execution.objects:
            days_by_execution[name].update(days_of.get(key, ()))
    won = winners(days_by_execution, executions)
    per_day = Counter(
        day
        for name, days in days_by_execution.items()
        for day in days
        if executions[name].route == executions[won[day]].route
    )
    return executions, won, dict(per_day)
