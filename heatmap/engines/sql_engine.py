"""What the SQL engines share: the catalog from two small queries, a view from one, results cached.

The object listing comes from the store as for the local engine; a coverage query says which GA dates each
object holds; the same `winners` rule as the local engine picks the execution that counts per date; the
catalog and view queries then count only those (object, date) pairs, and read only the partitions (run-date
folders) that hold those objects. File-and-line errors and exclusion counts are the local engine's (it parses
every line); a SQL engine says so instead of showing an empty table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import date

import polars as pl
from sqlglot import exp

from heatmap.contract import Bounds
from heatmap.engines.base import Where
from heatmap.engines.sql import Pairs, Scope, catalog_sql, coverage_sql, partition_of, unit_of, view_sql
from heatmap.errors import DataError
from heatmap.fields import FieldMap
from heatmap.ingest.catalog import Catalog
from heatmap.ingest.executions import decide, execution_of
from heatmap.query import resolve_dimension
from heatmap.stores.base import ObjectInfo
from heatmap.table import ViewSums

RESULT_CACHE = 64  # views per engine: toggling back to a view does not run (or pay for) its query again


class SqlEngine:
    """Subclasses say how to run a query (`run`) and how a row's "$path" names an object key (`key_of`)."""

    name = "sql"
    dialect = "trino"

    def __init__(self, source: str, objects: list[ObjectInfo], fields: FieldMap, bounds: Bounds) -> None:
        self.fields = fields
        self.bounds = bounds
        self.objects = objects
        self._results: OrderedDict[str, pl.DataFrame] = OrderedDict()
        self._lock = threading.Lock()
        self.winners_by_day: dict[date, list[str]] = {}  # the keys of the objects whose rows count, per GA date
        self._keys = {self.path_of(o.key): o.key for o in objects}
        self.catalog = self._catalog(source)

    # --- to implement ------------------------------------------------------------------------------------------

    def run(self, query: exp.Expression) -> pl.DataFrame:
        raise NotImplementedError

    def path_of(self, key: str) -> str:
        """The "$path" value of an object key."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------------------------

    def sql_text(self, query: exp.Expression) -> str:
        return query.sql(dialect=self.dialect, pretty=True)

    def cached(self, query: exp.Expression) -> pl.DataFrame:
        """Results per query text; the text includes the (object, date) pairs, so a new listing is a new query."""
        text = query.sql(dialect=self.dialect)
        with self._lock:
            found = self._results.get(text)
            if found is not None:
                self._results.move_to_end(text)
                return found
        result = self.run(query)
        with self._lock:
            self._results[text] = result
            while len(self._results) > RESULT_CACHE:
                self._results.popitem(last=False)
        return result

    def partition(self, key: str) -> tuple[str, str | None]:
        """(flow, run-date folder or None) of an object, decided once per engine (a folder dated after today is
        read by flow; it must stay so while the engine lives, as its tables were set up that way)."""
        known: dict[str, tuple[str, str | None]] = self.__dict__.setdefault("_partitions", {})
        if key not in known:
            known[key] = partition_of(key)
        return known[key]

    def scope(self, keys: Iterable[str]) -> Scope:
        """The partitions that hold these objects."""
        return Scope.of(keys, self.path_of, self.partition)

    def _catalog(self, source: str) -> Catalog:
        keys = self._keys
        coverage = self.cached(coverage_sql(self.fields, self.bounds, self.scope(o.key for o in self.objects)))
        rows: dict[tuple[str, date], int] = {}
        days_of: dict[str, set[date]] = {}
        for path, day_text, count in coverage.iter_rows():
            key = keys.get(path)
            if key is None:
                continue
            day = date(int(day_text[:4]), int(day_text[4:6]), int(day_text[6:]))
            days_of.setdefault(key, set()).add(day)
            rows[(key, day)] = int(count)
        _executions, won, per_day = decide(self.objects, days_of)
        rows_per_day: dict[date, int] = dict.fromkeys(won, 0)
        for (key, day), count in rows.items():
            if won.get(day) == execution_of(key):
                rows_per_day[day] += count
                self.winners_by_day.setdefault(day, []).append(key)
        views = self.cached(catalog_sql(self.fields, self.bounds, self._pairs(None, None), self._scope_in(None, None)))
        page_views, segment_values = _catalog_values(views, self.fields.segments)
        return Catalog(
            source=source,
            objects=self.objects,
            segments=self.fields.segments,
            winners=won,
            executions_per_day=per_day,
            rows_per_day=rows_per_day,
            errors=[],
            reads_every_line=False,
            page_views=page_views,
            segment_values=segment_values,
        )

    def _winning(self, start: date | None, end: date | None) -> list[tuple[str, date]]:
        return [
            (key, day)
            for day, keys in self.winners_by_day.items()
            if (start is None or day >= start) and (end is None or day <= end)
            for key in keys
        ]

    def _pairs(self, start: date | None, end: date | None) -> Pairs:
        """(unit, GA date) pairs of the winners in the range: a folder counts once however many files it holds."""
        units = {(unit_of(key, self.path_of(key)), day.strftime("%Y%m%d")) for key, day in self._winning(start, end)}
        return sorted(units)

    def _scope_in(self, start: date | None, end: date | None) -> Scope:
        return self.scope(dict.fromkeys(key for key, _day in self._winning(start, end)))

    def view_query(self, page: str, start: date, end: date, where: Where | None = None) -> exp.Expression:
        if start > end:
            raise DataError(f"the date range is reversed: {start} is after {end}")
        resolved = {resolve_dimension(self.catalog.segments, k): list(v) for k, v in (where or {}).items()}
        pairs, scope = self._pairs(start, end), self._scope_in(start, end)
        return view_sql(self.fields, self.bounds, pairs, scope, page, start, end, resolved)

    def scanned_bytes(self, start: date | None = None, end: date | None = None) -> tuple[int, int]:
        """(bytes a view of these dates reads, bytes of every export): Athena bills the objects of the partitions a
        query reads, whole (JSON has no columns to skip). A run-date partition holds every object of its folder,
        winning or not; an object without date folders makes the query read its flow's folder whole. Without
        dates: what the catalog query reads."""
        scope = self._scope_in(start, end)
        dated = {(flow, day) for flow, days in scope.dated for day in days}
        undated = {flow for flow, _paths in scope.undated}
        read = 0
        for info in self.objects:
            flow, run_date = self.partition(info.key)
            if flow in undated or (flow, run_date) in dated:
                read += info.size
        return read, sum(o.size for o in self.objects)

    def view(self, page: str, start: date, end: date, where: Where | None = None) -> ViewSums:
        result = self.cached(self.view_query(page, start, end, where))
        return _view_sums(result)


def _catalog_values(
    views: pl.DataFrame, segments: tuple[str, ...]
) -> tuple[dict[str, int], dict[str, tuple[str, ...]]]:
    ordered = views.drop_nulls("value").sort(["views", "value"], descending=[True, False])
    page_views = {str(v): int(n) for d, v, n in ordered.iter_rows() if d == "page"}
    segment_values = {name: tuple(str(v) for d, v, _n in ordered.iter_rows() if d == name) for name in segments}
    return page_views, segment_values


def _view_sums(result: pl.DataFrame) -> ViewSums:
    dwell = (
        result.filter(pl.col("event") == "dwell")
        .select(
            pl.col("band").cast(pl.Int32),
            pl.col("events").cast(pl.Int64),
            pl.col("seconds").cast(pl.Float64),
            pl.col("seconds_sq").cast(pl.Float64),
            pl.col("sq_missing").cast(pl.Int64),
        )
        .sort("band")
    )
    clicks = (
        result.filter(pl.col("event") == "click")
        .select(pl.col("y").cast(pl.Int32), pl.col("x").cast(pl.Int16), pl.col("events").cast(pl.Int64))
        .sort("y", "x")
    )
    return ViewSums(dwell=dwell, clicks=clicks)
