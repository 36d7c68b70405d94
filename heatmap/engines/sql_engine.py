"""What the SQL engines share: the catalog (read whole once, then only what changed), a view from one query (or
parts that add up), results cached.

The object listing comes from the store as for the local engine; a coverage query says which GA dates each
object holds; the same `winners` rule as the local engine picks the execution that counts per date; the
catalog and view queries then count only those (object, date) pairs, and read only the partitions (run-date
folders) that hold those objects. File-and-line errors and exclusion counts are the local engine's (it parses
every line); a SQL engine says so instead of showing an empty table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import polars as pl
from sqlglot import exp

from heatmap.caching import LoadOnce
from heatmap.contract import Bounds
from heatmap.engines import catalog_state
from heatmap.engines.base import Page, Where
from heatmap.engines.catalog_state import CatalogState, StateHome, object_id
from heatmap.engines.sql import (
    DECLARED_PREFIX,
    JSON,
    Scope,
    catalog_sql,
    coverage_sql,
    partition_of,
    scope_of,
    unit_of,
    view_sql,
)
from heatmap.errors import DataError
from heatmap.fields import FieldMap
from heatmap.ingest.catalog import Catalog
from heatmap.ingest.executions import decide, execution_of
from heatmap.query import resolve_dimension
from heatmap.stores.base import ObjectInfo, Store
from heatmap.table import FLAG_KINDS, ViewSums

_SHAPE_NAMES = {
    "jsonl": "JSON Lines",
    "csv": "CSV",
    "parquet": "Parquet",
    "ua": "Universal Analytics report documents",
    "json-array": "JSON arrays",
    "binary": "binary files that are not Parquet",
    "parquet.gz": "gzip-compressed Parquet files",
}
RESULT_CACHE = 64  # views per engine: toggling back to a view does not run (or pay for) its query again


class SqlEngine:
    """Subclasses say how to run a query (`run`) and what "$path" a row of an object key has (`path_of`)."""

    name = "sql"
    dialect = "trino"
    max_query_bytes = 240_000  # Athena refuses query text over 262,144 bytes; the rest is headroom

    def __init__(
        self,
        source: str,
        objects: list[ObjectInfo],
        fields: FieldMap,
        bounds: Bounds,
        state_dir: str | None = None,
        shared: Store | None = None,
    ) -> None:
        """`state_dir` and `shared` (the output's shared store): where the catalog's state is kept between runs and
        servers (catalog_state.py), so a new listing reads only what changed; without either, every catalog
        reads every export."""
        self.fields = fields
        self.bounds = bounds
        self.objects = objects
        self._results: LoadOnce[str, pl.DataFrame] = LoadOnce(RESULT_CACHE)
        self.winners_by_day: dict[date, list[str]] = {}  # the keys of the objects whose rows count, per GA date
        self.families: dict[str, str] = {}  # object key -> the family of tables that reads it (JSON unless said)
        self.source = source
        self._states = StateHome(state_dir, shared, self.name, source, fields, bounds)
        self.catalog_scopes: list[Scope] = []
        self._built: Catalog | None = None
        self._building = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        """Built on first use, once (constructing an engine does no I/O): `prepare`, then the catalog queries."""
        with self._building:
            if self._built is None:
                self.prepare()
                self._built = self._catalog(self.source)
            return self._built

    # --- to implement ------------------------------------------------------------------------------------------

    def run(self, query: exp.Expression) -> pl.DataFrame:
        raise NotImplementedError

    def path_of(self, key: str) -> str:
        """The "$path" value of an object key."""
        raise NotImplementedError

    def prepare(self) -> None:
        """The engine's own I/O before its first query (DuckDB: copy the exports here, read their shapes)."""

    def check_shapes(self, keys: list[str]) -> dict[str, str]:
        """The family of tables that reads each of `keys` (those no earlier catalog has seen; JSON when not
        named), or one sentence refusing exports this engine cannot read."""
        return {}

    # --- shared ------------------------------------------------------------------------------------------------

    def sql_text(self, query: exp.Expression) -> str:
        return query.sql(dialect=self.dialect, pretty=True)

    def _catalog_query(self, query: exp.Expression) -> pl.DataFrame:
        """A catalog query, its partitions noted in `catalog_scopes` (what building this catalog read)."""
        scope = scope_of(query)
        if scope is not None:
            self.catalog_scopes.append(scope)
        return self.cached(query)

    def cached(self, query: exp.Expression) -> pl.DataFrame:
        """Results per query text; the text includes the (object, date) pairs, so a new listing is a new query. A
        query already running is waited for, not run again: the sessions of a server share one engine, so a
        team opening the same link runs (and pays for) it once."""
        return self._results.get_or_load(query.sql(dialect=self.dialect), lambda: self.run(query))

    def partition(self, key: str) -> tuple[str, str | None]:
        """(flow, run-date folder or None) of an object, decided once per engine (a folder dated after today is
        read by flow; it must stay so while the engine lives, as its tables were set up that way)."""
        known: dict[str, tuple[str, str | None]] = self.__dict__.setdefault("_partitions", {})
        if key not in known:
            known[key] = partition_of(key)
        return known[key]

    def family(self, key: str) -> str:
        return self.families.get(key, JSON.name)

    def scope(self, keys: Iterable[str]) -> Scope:
        """The partitions that hold these objects."""
        return Scope.of(keys, self.path_of, self.partition, self.family)

    def _catalog(self, source: str) -> Catalog:
        ids = {o.key: object_id(o) for o in self.objects}
        self._keys = {self.path_of(o.key): o.key for o in self.objects}
        state = self._states.load()
        coverage = self._coverage(ids, state)
        days_of = {key: {_day(text) for text in coverage[ids[key]]} for key in ids}
        _executions, won, per_day = decide(self.objects, days_of)
        rows_per_day: dict[date, int] = dict.fromkeys(won, 0)
        counted: set[catalog_state.Pair] = set()
        for key, days in days_of.items():
            for day in days:
                if won.get(day) == execution_of(key):
                    rows_per_day[day] += coverage[ids[key]][day.strftime("%Y%m%d")]
                    self.winners_by_day.setdefault(day, []).append(key)
                    counted.add((ids[key], day.strftime("%Y%m%d")))
        views = self._changed_views(state, counted, ids) if state is not None else None
        if views is None:
            queries = self.fitting(
                self._units(None, None), lambda pairs, scope: catalog_sql(self.fields, self.bounds, pairs, scope)
            )
            views = _counts(self._catalog_query(query) for query in queries)
        families = {ids[key]: name for key, name in self.families.items() if key in ids}
        self._states.save(CatalogState(coverage, counted, views, families), ids.values())
        page_views, segment_values, declared = _catalog_values(
            {key: n for key, (n, _rows) in views.items()}, self.fields.segments
        )
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
            declared=declared,
        )

    def _coverage(self, ids: dict[str, str], state: CatalogState | None) -> dict[str, dict[str, int]]:
        """Rows per GA date of every listed object (id -> {YYYYMMDD: rows}): from the state for objects it knows,
        from one query over the new objects' partitions for the rest (other objects in those partitions come
        back too, and agree)."""
        known = state.coverage if state is not None else {}
        coverage = {i: known[i] for i in ids.values() if i in known}
        families = state.families if state is not None else {}
        self.families.update({key: families[i] for key, i in ids.items() if i in coverage and i in families})
        fresh = [key for key, i in ids.items() if i not in coverage]
        coverage.update({ids[key]: {} for key in fresh})
        if not fresh:
            return coverage
        self.families.update(self.check_shapes(fresh))
        named = {key: [key] for key in fresh}
        for query in self.fitting(named, lambda _keys, scope: coverage_sql(self.fields, self.bounds, scope)):
            for path, day, count in self._catalog_query(query).iter_rows():
                key = self._keys.get(path)
                if key is not None:
                    coverage.setdefault(ids[key], {})[str(day)] = int(count)
        return coverage

    def _changed_views(
        self, state: CatalogState, counted: set[catalog_state.Pair], ids: dict[str, str]
    ) -> dict[tuple[str, str], catalog_state.Counts] | None:
        """The state's page views brought up to `counted` by one query over the objects whose pairs came or went;
        None when they must be counted again from scratch."""
        signed = catalog_state.changed_views(state, counted, set(ids.values()))
        if signed is None:
            return None
        if not signed:
            return dict(state.views)
        key_of = {i: key for key, i in ids.items()}
        named = {(self.path_of(key_of[i]), day, sign): [key_of[i]] for i, day, sign in signed}  # exactly that object
        queries = self.fitting(named, lambda pairs, scope: catalog_sql(self.fields, self.bounds, pairs, scope))
        change = _counts(self._catalog_query(query) for query in queries)
        return catalog_state.apply(state.views, [(d, v, n, r) for (d, v), (n, r) in change.items()])

    def _winning(self, start: date | None, end: date | None) -> list[tuple[str, date]]:
        return [
            (key, day)
            for day, keys in self.winners_by_day.items()
            if (start is None or day >= start) and (end is None or day <= end)
            for key in keys
        ]

    def _units(self, start: date | None, end: date | None) -> dict[tuple[str, str], list[str]]:
        """(unit, GA date) pairs of the winners in the range, each with its objects' keys: a folder counts once
        however many files it holds."""
        units: dict[tuple[str, str], list[str]] = {}
        for key, day in self._winning(start, end):
            units.setdefault((unit_of(key, self.path_of(key)), day.strftime("%Y%m%d")), []).append(key)
        return dict(sorted(units.items()))

    def fitting(
        self, named: Mapping[Any, list[str]], build: Callable[[list[Any], Scope], exp.Expression]
    ) -> list[exp.Expression]:
        """`build(pairs, scope)` over the pairs of `named` (each with the keys of the objects it names) and their
        partitions: one query, or one per part when its text is longer than the engine takes (Athena refuses
        more than 256 KB: about 2,500 runs named in one query). The parts name disjoint pairs, so their sums add
        up to the whole."""
        pairs = list(named)
        query = build(pairs, self.scope(key for pair in pairs for key in named[pair]))
        if len(pairs) <= 1 or len(self.sql_text(query).encode()) <= self.max_query_bytes:
            return [query]
        half = len(pairs) // 2
        return self.fitting({p: named[p] for p in pairs[:half]}, build) + self.fitting(
            {p: named[p] for p in pairs[half:]}, build
        )

    def _scope_in(self, start: date | None, end: date | None) -> Scope:
        return self.scope(dict.fromkeys(key for key, _day in self._winning(start, end)))

    def view_queries(self, page: Page, start: date, end: date, where: Where | None = None) -> list[exp.Expression]:
        """The queries of a view: one, unless its winners are too many to name in one (`fitting`)."""
        if start > end:
            raise DataError(f"the date range is reversed: {start} is after {end}")
        segments = self.catalog.segments  # built first: its winners are the view's
        resolved = {resolve_dimension(segments, k): list(v) for k, v in (where or {}).items()}
        return self.fitting(
            self._units(start, end),
            lambda pairs, scope: view_sql(self.fields, self.bounds, pairs, scope, page, start, end, resolved),
        )

    def scanned_bytes(self, start: date | None = None, end: date | None = None) -> tuple[int, int]:
        """(bytes a view of these dates reads, bytes of every export). Without dates: what a full count of the
        catalog's page views reads."""
        self.catalog  # noqa: B018 (its winners are the view's)
        return self.scope_bytes(self._scope_in(start, end)), sum(o.size for o in self.objects)

    def scope_bytes(self, scope: Scope) -> int:
        """What a query over `scope` reads: Athena bills the objects of the partitions a query names, whole (JSON
        has no columns to skip). A run-date partition holds every object of its folder, winning or not; an object
        without date folders makes the query read its flow's folder whole."""
        dated, undated = scope.folders
        read = 0
        for info in self.objects:
            flow, run_date = self.partition(info.key)
            if flow in undated or (flow, run_date) in dated:
                read += info.size
        return read

    def view(self, page: Page, start: date, end: date, where: Where | None = None) -> ViewSums:
        results = [self.cached(query) for query in self.view_queries(page, start, end, where)]
        return _view_sums(_added(results, ["event", "band", "y", "x"]))


def _catalog_values(
    views: Mapping[tuple[str, str], int], segments: tuple[str, ...]
) -> tuple[dict[str, int], dict[str, tuple[str, ...]], dict[str, dict[str, int]]]:
    """Page views per page, segment values by page views, and per declared template its paths' page views."""
    ordered = sorted(views.items(), key=lambda item: (-item[1], item[0][1]))
    page_views = {value: n for (dimension, value), n in ordered if dimension == "page"}
    segment_values = {name: tuple(v for (d, v), _n in ordered if d == name) for name in segments}
    declared: dict[str, dict[str, int]] = {}
    for (dimension, path), n in ordered:
        if dimension.startswith(DECLARED_PREFIX) and n > 0:
            declared.setdefault(dimension.removeprefix(DECLARED_PREFIX), {})[path] = n
    return page_views, segment_values, declared


def _counts(results: Iterable[pl.DataFrame]) -> dict[tuple[str, str], catalog_state.Counts]:
    """(page views, rows) per (dimension, value), added up over the parts of a catalog query."""
    counts: dict[tuple[str, str], catalog_state.Counts] = {}
    for result in results:
        for dimension, value, views, rows in result.drop_nulls("value").iter_rows():
            before = counts.get((str(dimension), str(value)), (0, 0))
            counts[(str(dimension), str(value))] = (before[0] + int(views), before[1] + int(rows))
    return counts


def _added(results: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """The sums of a view's parts, added up per key (they name disjoint winners, so nothing counts twice)."""
    if len(results) == 1:
        return results[0]
    both = pl.concat(results, how="vertical_relaxed")
    return both.group_by(keys, maintain_order=True).agg(pl.col(c).sum() for c in both.columns if c not in keys)


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


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
    cells = (pl.col("y").cast(pl.Int32), pl.col("x").cast(pl.Int16), pl.col("events").cast(pl.Int64))
    clicks = result.filter(pl.col("event") == "click").select(*cells).sort("y", "x")
    flagged = (
        result.filter(pl.col("event").is_in(FLAG_KINDS))
        .select(pl.col("event").cast(pl.String), *cells)
        .sort("event", "y", "x")
    )
    return ViewSums(dwell=dwell, clicks=clicks, flagged=flagged)


def refuse_shapes(kinds: Mapping[str, str], readable: Iterable[str], reader: str, way_out: str) -> None:
    """One sentence naming an export shape `reader` cannot read (`kinds`: export key -> heatmap.readers kind), an
    export that has it, and the way out; nothing when every export is readable (or empty)."""
    allowed = {*readable, "empty"}
    odd = sorted((kind, key) for key, kind in kinds.items() if kind not in allowed)
    if odd:
        kind, key = odd[0]
        count = sum(1 for k, _key in odd if k == kind)
        names = ", ".join(_SHAPE_NAMES[k] for k in sorted(allowed - {"empty"}, key=list(_SHAPE_NAMES).index))
        raise DataError(
            f"{reader} read {names} exports; {count:,} export(s) here are {_SHAPE_NAMES.get(kind, kind)} "
            f"(for example {key}): {way_out}"
        )
