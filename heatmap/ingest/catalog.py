"""The catalog of a source: what the app needs before any view (docs/engines.md "startup reads metadata only").

Pages with their page views, segment values by frequency, coverage (days, executions, missing days), errors,
exclusions with sample lines, and which part counts for which days. Built from the parts' summaries after
de-duplication, small enough to keep for the life of the server and to cache as one JSON file per listing.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from heatmap.contract import REPORT_ROUTE
from heatmap.ingest.executions import decide, execution_of, route_of
from heatmap.ingest.normalize import MAX_SAMPLES_PER_REASON
from heatmap.ingest.parts import Summary
from heatmap.readers.base import Issue
from heatmap.stores.base import ObjectInfo

SQL_ENGINE_NOTE = (
    "file/line errors and excluded rows are counted only by the local engine, which reads every line; "
    "days, executions and missing days come from the listing"
)


@dataclass
class Catalog:
    source: str
    objects: list[ObjectInfo]
    segments: tuple[str, ...]
    winners: dict[date, str]  # GA date -> execution whose rows count
    executions_per_day: dict[date, int]
    rows_per_day: dict[date, int]
    errors: list[Issue]
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows
    excluded_samples: list[Issue] = field(default_factory=list)  # a few lines per reason, to look at
    page_views: dict[str, int] = field(default_factory=dict)  # busiest first
    segment_values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by page views, most first
    parts: dict[str, list[date]] = field(default_factory=dict)  # part name -> the days its rows count for
    partial: set[str] = field(default_factory=set)  # parts that also hold rows of days another execution won
    reads_every_line: bool = True  # False for SQL engines: file/line errors and exclusions are not counted
    folded: dict[date, tuple[int, int]] = field(default_factory=dict)  # heatmap events in GA's "(other)", all
    declared: dict[str, dict[str, int]] = field(default_factory=dict)  # template -> path -> page views declaring it

    @property
    def excluded_rows(self) -> int:
        return sum(self.excluded.values())

    @property
    def days(self) -> list[date]:
        return sorted(self.rows_per_day)

    @property
    def route_by_day(self) -> dict[date, str]:
        """How each GA date's counted rows came: contract.EVENT_ROUTE (exact) or REPORT_ROUTE (GA4 may fold)."""
        return {day: route_of(name) for day, name in sorted(self.winners.items())}

    @property
    def calendar(self) -> list[date]:
        """Every day from the first to the last exported day, exported or not."""
        if not self.rows_per_day:
            return []
        first, last = min(self.rows_per_day), max(self.rows_per_day)
        return [first + timedelta(n) for n in range((last - first).days + 1)]

    @property
    def missing_days(self) -> list[date]:
        """Days between the first and last exported day that no execution exported: never read as zero."""
        return [d for d in self.calendar if d not in self.rows_per_day]

    def folded_share(self, start: date, end: date) -> float | None:
        """The share of the period's heatmap events that GA4 folded into "(other)" rows (report route: its summary
        tables were full, so less-visited pages and cells are undercounted); None when it was not counted."""
        pairs = [counts for day, counts in self.folded.items() if start <= day <= end]
        total = sum(events for _folded, events in pairs)
        return sum(folded for folded, _events in pairs) / total if total else None

    def pages(self) -> list[tuple[str, int]]:
        """Pages with their page views (band-0 dwell events), busiest first."""
        return list(self.page_views.items())

    def coverage(self) -> dict[str, Any]:
        """The CLI's `coverage` object (docs/cli.md)."""
        routes = self.route_by_day
        return {
            "days": {
                d.isoformat(): {
                    "rows": self.rows_per_day[d],
                    "executions": self.executions_per_day[d],
                    "route": routes.get(d, REPORT_ROUTE),
                }
                for d in self.days
            },
            "missing_days": [d.isoformat() for d in self.missing_days],
            "errors": [issue.to_dict() for issue in self.errors],
            "excluded_rows": self.excluded_rows,
            "excluded": dict(sorted(self.excluded.items(), key=lambda item: -item[1])),
            "excluded_samples": [issue.to_dict() for issue in self.excluded_samples],
            **({} if self.reads_every_line else {"note": SQL_ENGINE_NOTE}),
        }

    def inputs(self, start: date, end: date) -> list[dict[str, str]]:
        """The export objects (key, ETag) whose rows count for dates in [start, end]: a run's provenance."""
        used = {name for day, name in self.winners.items() if start <= day <= end}
        return [{"key": o.key, "etag": o.etag} for o in self.objects if execution_of(o.key) in used]

    # --- persistence: one small JSON file per listing ------------------------------------------------------

    def to_json(self) -> bytes:
        iso = date.isoformat
        return json.dumps(
            {
                "source": self.source,
                "segments": list(self.segments),
                "winners": {iso(d): n for d, n in self.winners.items()},
                "executions_per_day": {iso(d): n for d, n in self.executions_per_day.items()},
                "rows_per_day": {iso(d): n for d, n in self.rows_per_day.items()},
                "errors": [i.to_dict() for i in self.errors],
                "excluded": self.excluded,
                "excluded_samples": [i.to_dict() for i in self.excluded_samples],
                "page_views": self.page_views,
                "segment_values": {k: list(v) for k, v in self.segment_values.items()},
                "parts": {name: [iso(d) for d in days] for name, days in self.parts.items()},
                "partial": sorted(self.partial),
                "folded": {iso(d): list(v) for d, v in self.folded.items()},
                "declared": self.declared,
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes, objects: list[ObjectInfo]) -> Catalog:
        raw = json.loads(data)

        def by_day(values: dict[str, Any]) -> dict[date, Any]:
            return {date.fromisoformat(d): v for d, v in values.items()}

        return cls(
            source=raw["source"],
            objects=objects,
            segments=tuple(raw["segments"]),
            winners=by_day(raw["winners"]),
            executions_per_day=by_day(raw["executions_per_day"]),
            rows_per_day=by_day(raw["rows_per_day"]),
            errors=[Issue(**i) for i in raw["errors"]],
            excluded=dict(raw["excluded"]),
            excluded_samples=[Issue(**i) for i in raw["excluded_samples"]],
            page_views=dict(raw["page_views"]),
            segment_values={k: tuple(v) for k, v in raw["segment_values"].items()},
            parts={name: [date.fromisoformat(d) for d in days] for name, days in raw["parts"].items()},
            partial=set(raw["partial"]),
            folded={date.fromisoformat(d): (int(f), int(n)) for d, (f, n) in raw.get("folded", {}).items()},
            declared={name: dict(paths) for name, paths in raw.get("declared", {}).items()},
        )


def assemble(
    source: str, objects: list[ObjectInfo], summaries: dict[str, tuple[str, Summary]], segments: tuple[str, ...]
) -> Catalog:
    """De-duplicate executions (per GA date only the newest execution counts, docs/contract.md) and sum what counts.

    `summaries` maps object key -> (part name, summary).
    """
    executions, won, executions_per_day = decide(objects, {key: s.day_rows for key, (_p, s) in summaries.items()})
    rows_per_day: dict[date, int] = dict.fromkeys(won, 0)
    excluded: Counter[str] = Counter()
    samples: list[Issue] = []
    errors: list[Issue] = []
    page_views: Counter[str] = Counter()
    segment_views: dict[str, Counter[str]] = {name: Counter() for name in segments}
    parts: dict[str, list[date]] = {}
    partial: set[str] = set()
    folded: dict[date, tuple[int, int]] = {}
    declared: dict[str, Counter[str]] = {}
    for execution in executions.values():
        mine = {day for day, name in won.items() if name == execution.name}
        for key in execution.objects:
            part, summary = summaries[key]
            errors.extend(summary.issues)
            counted = sorted(day for day in summary.day_rows if day in mine)
            if not counted:
                continue
            parts[part] = counted
            if len(counted) < len(summary.day_rows):
                partial.add(part)
            for day in counted:
                rows_per_day[day] += summary.day_rows[day]
                before, here = folded.get(day, (0, 0)), summary.folded.get(day, (0, 0))
                folded[day] = (before[0] + here[0], before[1] + here[1])
                page_views.update(summary.page_views.get(day, {}))
                for name, paths in summary.declared_views.get(day, {}).items():
                    declared.setdefault(name, Counter()).update(paths)
                for name, values in summary.segment_views.get(day, {}).items():
                    if name in segment_views:
                        segment_views[name].update(values)
            for day, reason, rows in summary.excluded:
                if day in mine:
                    excluded[reason] += rows
            for day, issue in summary.samples:
                if day in mine and sum(s.reason == issue.reason for s in samples) < MAX_SAMPLES_PER_REASON:
                    samples.append(issue)
    errors.sort(key=lambda issue: (issue.file, issue.line or 0))
    return Catalog(
        source=source,
        objects=objects,
        segments=segments,
        winners=won,
        executions_per_day=executions_per_day,
        rows_per_day=rows_per_day,
        errors=errors,
        excluded=dict(excluded),
        excluded_samples=samples,
        page_views=_by_frequency(page_views),
        segment_values={name: tuple(_by_frequency(counts)) for name, counts in segment_views.items()},
        parts=parts,
        partial=partial,
        folded=folded,
        declared={name: _by_frequency(paths) for name, paths in declared.items()},
    )


def _by_frequency(counts: Counter[str]) -> dict[str, int]:
    """Most first; ties by name, so the order is stable across runs."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
