"""Discover export objects, parse them (concurrently, cached), de-duplicate executions: one canonical table."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import polars as pl

from heatmap.cache import ColumnarCache, cache_key
from heatmap.contract import Bounds
from heatmap.errors import NotFound
from heatmap.executions import execution_of, group_executions, winners
from heatmap.fields import FieldMap
from heatmap.normalize import MAX_SAMPLES_PER_REASON, Normalized, normalize
from heatmap.query import PageIndex
from heatmap.readers import Issue, RawBatch, read_export
from heatmap.stores.base import ObjectInfo, Store
from heatmap.table import schema

Progress = Callable[[int, int], None]

NOT_EXPORTS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".md", ".txt")


@dataclass
class Dataset:
    """The canonical table of a source plus everything needed to judge it (coverage, errors, provenance)."""

    source: str
    table: pl.DataFrame
    objects: list[ObjectInfo]
    winners: dict[date, str]  # GA date -> execution whose rows count
    executions_per_day: dict[date, int]
    rows_per_day: dict[date, int]
    errors: list[Issue]
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> rows
    excluded_samples: list[Issue] = field(default_factory=list)  # a few lines per reason, to look at

    @property
    def excluded_rows(self) -> int:
        return sum(self.excluded.values())

    @property
    def days(self) -> list[date]:
        return sorted(self.rows_per_day)

    @property
    def missing_days(self) -> list[date]:
        """Days between the first and last exported day that no execution exported: never read as zero."""
        if not self.rows_per_day:
            return []
        first, last = min(self.rows_per_day), max(self.rows_per_day)
        span = (last - first).days + 1
        return [d for d in (first + timedelta(n) for n in range(span)) if d not in self.rows_per_day]

    def coverage(self) -> dict[str, Any]:
        """The CLI's `coverage` object (DESIGN §10)."""
        return {
            "days": {
                d.isoformat(): {"rows": self.rows_per_day[d], "executions": self.executions_per_day[d]}
                for d in self.days
            },
            "missing_days": [d.isoformat() for d in self.missing_days],
            "errors": [issue.to_dict() for issue in self.errors],
            "excluded_rows": self.excluded_rows,
            "excluded": dict(sorted(self.excluded.items(), key=lambda item: -item[1])),
            "excluded_samples": [issue.to_dict() for issue in self.excluded_samples],
        }

    @cached_property
    def index(self) -> PageIndex:
        """Built on first use; its page-sorted table replaces the original so only one copy stays in memory."""
        index = PageIndex(self.table)
        self.table = index.table
        return index

    def pages(self) -> list[tuple[str, int]]:
        """Pages with their page views (band-0 dwell events), busiest first."""
        views = (
            self.table.filter((pl.col("event") == "dwell") & (pl.col("band") == 0))
            .group_by("page")
            .agg(pl.col("events").sum())
            .sort(["events", "page"], descending=[True, False])
        )
        return [(str(p), int(n)) for p, n in views.iter_rows()]

    def inputs(self, start: date, end: date) -> list[dict[str, str]]:
        """The export objects (key, ETag) whose rows count for dates in [start, end]: a run's provenance."""
        used = {name for day, name in self.winners.items() if start <= day <= end}
        return [{"key": o.key, "etag": o.etag} for o in self.objects if execution_of(o.key) in used]


def list_exports(store: Store) -> list[ObjectInfo]:
    return [o for o in store.list() if not o.key.lower().endswith(NOT_EXPORTS) and "/." not in f"/{o.key}"]


def load_dataset(
    store: Store,
    fields: FieldMap | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    bounds: Bounds | None = None,
) -> Dataset:
    fields = fields or FieldMap()
    bounds = bounds or Bounds()
    objects = list_exports(store)
    cache = ColumnarCache(cache_dir) if cache_dir else None
    listing = "\n".join(f"{o.key}\x1f{o.etag}\x1f{o.size}" for o in objects)
    dataset_key = cache_key("dataset", store.uri, fields.fingerprint(), bounds.fingerprint(), listing)
    if cache and (hit := cache.get(dataset_key)):
        if progress:
            progress(len(objects), len(objects))
        return _from_cache(store.uri, objects, *hit)
    parsed = _parse_all(store, objects, fields, bounds, cache, progress, workers)
    dataset = _assemble(store.uri, objects, parsed, fields)
    if cache:
        cache.put(dataset_key, {"table": dataset.table}, _to_meta(dataset))
    return dataset


def _parse_all(
    store: Store,
    objects: list[ObjectInfo],
    fields: FieldMap,
    bounds: Bounds,
    cache: ColumnarCache | None,
    progress: Progress | None,
    workers: int | None,
) -> dict[str, Normalized]:
    keep = set(fields.column_roles())

    def parse(info: ObjectInfo) -> Normalized:
        key = cache_key(
            "object", store.uri, info.key, info.etag, str(info.size), fields.fingerprint(), bounds.fingerprint()
        )
        if cache and (hit := cache.get(key)):
            frames, meta = hit
            issues = [Issue(**item) for item in meta["issues"]]
            return Normalized(frames["table"], frames["day_rows"], frames["excluded"], issues, frames["samples"])
        try:
            data = store.read(info.key)
        except NotFound:
            return failed(info.key, "listed but gone when read")
        try:
            result = normalize(read_export(data, info.key, keep), info.key, fields, bounds)
        except Exception as exc:  # isolation: whatever one object does, the rest of the source still loads
            return failed(info.key, f"could not be read ({type(exc).__name__}: {str(exc)[:200]})")
        if cache:
            frames = {"table": result.table, "day_rows": result.day_rows, "excluded": result.excluded}
            cache.put(key, {**frames, "samples": result.samples}, {"issues": [i.to_dict() for i in result.issues]})
        return result

    def failed(key: str, reason: str) -> Normalized:
        return normalize(RawBatch(pl.DataFrame(), [Issue(key, None, reason)]), key, fields, bounds)

    done: dict[str, Normalized] = {}
    if progress:
        progress(0, len(objects))
    with ThreadPoolExecutor(max_workers=workers or min(8, (os.cpu_count() or 2) * 2)) as pool:
        futures = {pool.submit(parse, info): info.key for info in objects}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if progress:
                progress(len(done), len(objects))
    return done


def _assemble(source: str, objects: list[ObjectInfo], parsed: dict[str, Normalized], fields: FieldMap) -> Dataset:
    executions = group_executions(objects)
    days_by_execution: dict[str, set[date]] = {}
    for execution in executions.values():
        days = days_by_execution.setdefault(execution.name, set())
        for key in execution.objects:
            days.update(parsed[key].day_rows["date"].to_list())
    won = winners(days_by_execution, executions)
    executions_per_day: dict[date, int] = {}
    for days in days_by_execution.values():
        for day in days:
            executions_per_day[day] = executions_per_day.get(day, 0) + 1
    parts: list[pl.DataFrame] = []
    rows_per_day: dict[date, int] = dict.fromkeys(won, 0)
    excluded: dict[str, int] = {}
    errors: list[Issue] = []
    samples: list[Issue] = []
    for execution in executions.values():
        mine = [day for day, name in won.items() if name == execution.name]
        for key in execution.objects:
            result = parsed[key]
            errors.extend(result.issues)
            if not mine:
                continue
            parts.append(result.table.filter(pl.col("date").is_in(mine)))
            for day, rows in result.day_rows.filter(pl.col("date").is_in(mine)).iter_rows():
                rows_per_day[day] += rows
            for _day, reason, rows in result.excluded.filter(pl.col("date").is_in(mine)).iter_rows():
                excluded[reason] = excluded.get(reason, 0) + rows
            for _day, reason, file, line in result.samples.filter(pl.col("date").is_in(mine)).iter_rows():
                if sum(sample.reason == reason for sample in samples) < MAX_SAMPLES_PER_REASON:
                    samples.append(Issue(file, line, reason))
    # No re-aggregation: a GA report has one row per dimension tuple, and everything downstream sums anyway.
    table = pl.concat(parts, rechunk=False) if parts else pl.DataFrame(schema=schema(fields.segments))
    errors.sort(key=lambda issue: (issue.file, issue.line or 0))
    return Dataset(source, table, objects, won, executions_per_day, rows_per_day, errors, excluded, samples)


def _to_meta(dataset: Dataset) -> dict[str, Any]:
    return {
        "winners": {d.isoformat(): name for d, name in dataset.winners.items()},
        "executions_per_day": {d.isoformat(): n for d, n in dataset.executions_per_day.items()},
        "rows_per_day": {d.isoformat(): n for d, n in dataset.rows_per_day.items()},
        "errors": [issue.to_dict() for issue in dataset.errors],
        "excluded": dataset.excluded,
        "excluded_samples": [issue.to_dict() for issue in dataset.excluded_samples],
    }


def _from_cache(
    source: str, objects: list[ObjectInfo], frames: dict[str, pl.DataFrame], meta: dict[str, Any]
) -> Dataset:
    def by_day(values: dict[str, Any]) -> dict[date, Any]:
        return {date.fromisoformat(d): v for d, v in values.items()}

    return Dataset(
        source=source,
        table=frames["table"],
        objects=objects,
        winners=by_day(meta["winners"]),
        executions_per_day=by_day(meta["executions_per_day"]),
        rows_per_day=by_day(meta["rows_per_day"]),
        errors=[Issue(**item) for item in meta["errors"]],
        excluded=dict(meta["excluded"]),
        excluded_samples=[Issue(**item) for item in meta["excluded_samples"]],
    )
