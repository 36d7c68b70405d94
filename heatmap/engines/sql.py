"""The SQL a view needs, written once for Athena (Trino) and transpiled for DuckDB by sqlglot (docs/engines.md).

The queries read the raw exports through the Glue tables of tracking/athena.yaml, two per export format (a
`Family`): one partitioned by flow and run-date folder (`<flow>/<yyyy>/<mm>/<dd>/...`, AppFlow's `DAY` path
prefix), one `_undated`, partitioned by flow only (`<flow>/<execution>/...` and any other layout; it reads a
flow's folder whole). Their columns are the export fields' plain names in lower case. JSON Lines (`exports`):
every column a string, and a GA4 custom parameter has a second column for its `customEvent:` spelling
(`customevent_hm_band`); the queries take whichever the row has. Parquet from the report flows
(`exports_parquet`): strings under the plain names (the GA4 connector declares every field a string). Parquet
from the event route (`exports_events`): typed as BigQuery writes them (`EVENT_TYPES`). Every family enters
the queries as the same string columns, so one set of rules reads all three. `"$path"` names the object a row
came from.

The queries apply the same rules as heatmap/ingest/normalize.py: GA's placeholders, the contract's bounds (a row
with any value out of bounds is left out whole), seconds² that the row's seconds cannot give is unknown, and
de-duplication by a VALUES list of (unit, GA date) pairs that count — worked out from the object listing with
the local engine's rule, so both engines count exactly the same rows. A unit is the folder of a winning object
(every object in a folder belongs to one execution), or the object itself when it is its own execution (no
execution folder above it): one row per folder and day, not per file, so years of runs of many files each stay
far below Athena's 256 KB limit on a query's text. Each query reads only the partitions that
hold those objects (a `Scope`): the run-date folders of the winning objects, so a year of exports costs what the
view's days cost, and a backfill of old GA dates (written under the day it ran) is still found.

Every value (page, dates, segment values, bounds, paths) enters as a literal made by sqlglot, and every field
name as an identifier quoted by sqlglot: nothing a user or a row says is pasted into the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlglot
from sqlglot import exp

from heatmap import contract
from heatmap.contract import PLACEHOLDER_VALUES, Bounds
from heatmap.fields import FieldMap, plain_name
from heatmap.ingest.executions import execution_of
from heatmap.table import SQ_RELATIVE, SQ_ROUNDING
from heatmap.templates import UNDECLARED, Template

DIALECT = "trino"
FLOW, RUN_DATE = "flow", "run_date"  # the partition columns
PATH = '"$path"'  # Athena's pseudo-column: the object a row came from
RUN_DATE_FORMAT = "yyyy/MM/dd"  # the projection's format: AppFlow's DAY folders
FIRST_RUN_DATE = date(2005, 1, 1)  # the projection's first day (the table's range ends at NOW+1DAYS, UTC)
Pairs = Sequence[tuple[str, str]]  # (unit: a folder or a "$path", YYYYMMDD) whose rows count
SignedPairs = Sequence[tuple[str, str, int]]  # the same with +1 or -1: rows to add to counts or take away
SCOPE = "heatmap_scope"  # the key of a query's Scope in its sqlglot meta

_CUSTOM = frozenset(
    {plain_name(f) for f in (*contract.REPORT_DIMENSIONS, *contract.REPORT_METRICS) if f.startswith("customEvent:")}
    | {*contract.CUSTOM_DIMENSIONS, *contract.CUSTOM_METRICS}
)
_DAY_FOLDERS = re.compile(r"^(\d{4})/(\d{2})/(\d{2})$")


@dataclass(frozen=True)
class Family:
    """Exports one pair of Glue tables reads: `table` by flow and run date, `<table>_undated` by flow only."""

    name: str
    table: str

    @property
    def undated_table(self) -> str:
        return f"{self.table}_undated"


JSON = Family("json", "exports")  # JSON Lines: string columns, both spellings of a custom parameter
PARQUET = Family("parquet", "exports_parquet")  # the report flows' Parquet: string columns, plain names
EVENTS = Family("events", "exports_events")  # the event route's Parquet: typed columns (EVENT_TYPES)
FAMILIES = {family.name: family for family in (JSON, PARQUET, EVENTS)}
EVENT_TYPES = {  # the event route's typed columns (heatmap_daily.sql's output); every other one a string
    "date": "date",
    "hm_band": "bigint",
    "hm_x": "bigint",
    "hm_y": "bigint",
    "eventcount": "bigint",
    "hm_seconds": "double",
    "hm_seconds_sq": "double",
}


def column_name(field: str) -> str:
    """The table column of an export field: its plain name in lower case (Athena's Glue columns)."""
    return plain_name(field).lower()


def spellings(field: str) -> list[tuple[str, str]]:
    """The (table column, JSON key) pairs that may hold an export field, the first with a value counting: a GA4
    custom parameter is written `customEvent:hm_band` by AppFlow and `hm_band` by other tools."""
    plain = plain_name(field)
    if field.startswith("customEvent:") or plain in _CUSTOM:
        return [(f"customevent_{plain.lower()}", f"customEvent:{plain}"), (plain.lower(), plain)]
    return [(plain.lower(), plain)]


def table_columns(fields: Iterable[str]) -> list[tuple[str, str]]:
    """Every (column, JSON key) the tables need for these export fields, in order, each once."""
    return list(dict.fromkeys(pair for field in fields for pair in spellings(field)))


def role_fields(fields: FieldMap) -> list[str]:
    """The export fields a query reads."""
    return [fields.date, fields.page, fields.event_name, fields.band, fields.x, fields.y, fields.events,
            fields.seconds, fields.seconds_sq, *fields.segments]  # fmt: skip


def partition_of(key: str, today: date | None = None) -> tuple[str, str | None]:
    """(flow, run-date folder `yyyy/MM/dd`) of an object key relative to the source (`<flow>/<yyyy>/<mm>/<dd>/
    <execution>/<file>`), or (flow, None) when the key has no run-date folders where the table expects them (the
    older `<flow>/<execution>/<file>`, other tools, a date outside the projection's range): `exports_undated`
    reads those."""
    folders = key.split("/")[:-1]
    flow = folders[0] if folders else ""
    match = _DAY_FOLDERS.match("/".join(folders[1:4]))
    if not match:
        return flow, None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return flow, None
    last = today or datetime.now(UTC).date()
    return (flow, "/".join(folders[1:4])) if FIRST_RUN_DATE <= day <= last else (flow, None)


@dataclass(frozen=True)
class Scope:
    """The partitions a query reads, per (family, flow): run-date folders in the family's dated table, and the
    objects without date folders in its `_undated` table. That table reads a flow's folder whole, so those objects
    are named, by their unit (`unit_of`: the execution folder, or the file when it is its own execution): a run
    of many files is one name, and years of the older layout stay within Athena's 256 KB of query text."""

    dated: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (family, flow, run dates)
    undated: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (family, flow, units)

    @classmethod
    def of(
        cls,
        keys: Iterable[str],
        path_of: Callable[[str], str],
        partition: Callable[[str], tuple[str, str | None]] = partition_of,
        family: Callable[[str], str] = lambda _key: JSON.name,
    ) -> Scope:
        dated: dict[tuple[str, str], set[str]] = {}
        undated: dict[tuple[str, str], set[str]] = {}
        for key in keys:
            flow, run_date = partition(key)
            if run_date is None:
                undated.setdefault((family(key), flow), set()).add(unit_of(key, path_of(key)))
            else:
                dated.setdefault((family(key), flow), set()).add(run_date)
        return cls(
            tuple((name, flow, tuple(sorted(days))) for (name, flow), days in sorted(dated.items())),
            tuple((name, flow, tuple(sorted(units))) for (name, flow), units in sorted(undated.items())),
        )

    @property
    def folders(self) -> tuple[set[tuple[str, str]], set[str]]:
        """({(flow, run date)} the dated tables read, {flow} the undated tables read whole), whatever the family."""
        return {(flow, day) for _name, flow, days in self.dated for day in days}, {f for _n, f, _u in self.undated}


def _lit(value: object) -> str:
    return exp.convert(value).sql(dialect=DIALECT)


def _quoted(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=DIALECT)


def _ident(field: str) -> str:
    return _quoted(column_name(field))


def _column(family: Family, field: str) -> str:
    """A field as a string column of a family's table: whichever spelling a JSON row has; an event-route column
    cast back to the text the other formats hold (a field the event route does not write is null there; the
    layout width and the declared template, which only the event route writes, are null in the report's rows)."""
    if family is JSON:
        names = [_quoted(column) for column, _key in spellings(field)]
        return f"COALESCE({', '.join(names)})" if len(names) > 1 else names[0]
    if family is EVENTS and column_name(field) not in event_columns():
        return "CAST(NULL AS VARCHAR)"
    return f"CAST({_ident(field)} AS VARCHAR)" if family is EVENTS else _ident(field)


def event_columns() -> tuple[str, ...]:
    """The event route's table columns (heatmap_daily.sql's output, in order, lower case)."""
    return tuple(column_name(field) for field in contract.EVENT_FIELDS)


def _source(fields: FieldMap, scope: Scope) -> str:
    """The rows of the scope's partitions, one string column per field and `path`: a branch per table read."""

    def select(family: Family) -> str:
        return ", ".join(f"{_column(family, f)} AS {_ident(f)}" for f in dict.fromkeys(role_fields(fields)))

    def any_of(column: str, values: Sequence[str]) -> str:
        return f"{column} IN ({', '.join(_lit(v) for v in values)})"

    branches = []
    for family in FAMILIES.values():
        dated = [(flow, days) for name, flow, days in scope.dated if name == family.name]
        if dated:
            where = " OR ".join(f"({FLOW} = {_lit(flow)} AND {any_of(RUN_DATE, days)})" for flow, days in dated)
            branches.append(f"SELECT {PATH} AS path, {select(family)} FROM {family.table} WHERE {where}")
        undated = [(flow, units) for name, flow, units in scope.undated if name == family.name]
        if undated:  # an object is named by its unit: its execution folder, or itself (unit_of)
            where = " OR ".join(
                f"({FLOW} = {_lit(flow)} AND ({any_of(PATH, units)} OR {any_of(_folder(PATH), units)}))"
                for flow, units in undated
            )
            branches.append(f"SELECT {PATH} AS path, {select(family)} FROM {family.undated_table} WHERE {where}")
    if not branches:  # nothing to read: the JSON table, no partition
        branches.append(f"SELECT {PATH} AS path, {select(JSON)} FROM {JSON.table} WHERE FALSE")
    return "\n      UNION ALL\n      ".join(branches)


def _normalized(fields: FieldMap, scope: Scope) -> str:
    """The scope's rows as typed rows, with every check of normalize as a boolean `ok` (true: the row counts).
    NaN and infinities fail the BETWEEN bounds in both dialects (Trino: comparisons with NaN are false; DuckDB
    orders NaN above every number), so no finiteness function is needed.

    `sq` is the seconds² rule (table.seconds_sq_floor, its constants written in): a smaller seconds² than the
    row's seconds can give is unknown (null), not a number. The same float operations in the same order, with
    double literals in both dialects, so every engine draws the line alike."""
    c = {role: _ident(getattr(fields, role)) for role in ("date", "page", "event_name", "band", "x", "y", "events")}
    seconds, seconds_sq = _ident(fields.seconds), _ident(fields.seconds_sq)
    segments = [(name, _ident(name)) for name in fields.segments]

    def placeholder(column: str) -> str:
        return f"COALESCE({column}, '') IN (SELECT p FROM placeholders)"

    segment_select = ", ".join(f"COALESCE({col}, '(not set)') AS {_seg(name)}" for name, col in segments)
    segment_ok = " AND ".join(f"COALESCE(LENGTH({col}), 0) <= :max_segment_length" for _name, col in segments)
    return f"""
    source AS (
      {_source(fields, scope)}
    ),
    typed AS (
      SELECT
        path,
        REPLACE({c["date"]}, '-', '') AS day,
        {c["page"]} AS page,
        CASE WHEN {c["event_name"]} IN (:dwell_event, :dwell_more_event) THEN 'dwell'
             WHEN {c["event_name"]} = :click_event THEN 'click'
             WHEN {c["event_name"]} = :rage_event THEN 'rage'
             WHEN {c["event_name"]} = :dead_event THEN 'dead'
             WHEN {c["event_name"]} = :fixed_event THEN 'fixed' END AS event,
        {c["event_name"]} = :dwell_more_event AS more_only,
        TRY_CAST({c["events"]} AS BIGINT) AS events,
        TRY_CAST({c["band"]} AS BIGINT) AS band,
        TRY_CAST({c["x"]} AS BIGINT) AS x,
        TRY_CAST({c["y"]} AS BIGINT) AS y,
        TRY_CAST({seconds} AS DOUBLE) AS seconds,
        TRY_CAST({seconds_sq} AS DOUBLE) AS seconds_sq,
        {placeholder(c["page"])} AS page_missing,
        {placeholder(c["band"])} AS band_missing,
        {placeholder(c["x"])} OR {placeholder(c["y"])} AS position_missing,
        {placeholder(seconds)} AS seconds_missing,
        {placeholder(seconds_sq)} AS seconds_sq_missing,
        LENGTH({c["page"]}) AS page_length,
        {segment_ok or "TRUE"} AS segments_ok{", " + segment_select if segment_select else ""}
      FROM source
    ),
    dated AS (
      SELECT *, REGEXP_LIKE(COALESCE(day, ''), '^[0-9]{{8}}$') AND TRY(DATE_PARSE(day, '%Y%m%d')) IS NOT NULL
                AND day BETWEEN :first_day AND :last_day AS day_ok
      FROM typed
    ),
    checked AS (
      SELECT *, day_ok AND event IS NOT NULL AND NOT page_missing AND page_length <= :max_page_length
        AND events IS NOT NULL AND events BETWEEN 0 AND :max_events AND segments_ok
        AND CASE WHEN event = 'dwell' THEN
              NOT band_missing AND band IS NOT NULL AND band BETWEEN 0 AND :max_band
              AND (seconds_missing OR (seconds IS NOT NULL
                   AND seconds BETWEEN 0 AND events * :max_seconds))
              AND (seconds_sq_missing OR (seconds_sq IS NOT NULL
                   AND seconds_sq BETWEEN 0 AND events * :max_seconds_sq))
            ELSE NOT position_missing AND x IS NOT NULL AND x BETWEEN 0 AND 99
              AND y IS NOT NULL AND y BETWEEN 0 AND :max_y END AS ok,
        CASE WHEN seconds_sq < COALESCE(seconds, 0E0) * COALESCE(seconds, 0E0)
                               / GREATEST(CAST(events AS DOUBLE), 1E0) * (1E0 - {SQ_RELATIVE:.0E})
                               - {SQ_ROUNDING:.0E} * CAST(events AS DOUBLE)
             THEN NULL ELSE seconds_sq END AS sq
      FROM dated
    ),
    counted AS (
      SELECT checked.*, winners.sign FROM checked JOIN winners
        ON CASE WHEN checked.path IN (SELECT unit FROM winners) THEN checked.path
                ELSE {_folder("checked.path")} END
            = winners.unit
        AND checked.day = winners.day
      WHERE ok
    )"""


def _folder(path: str) -> str:
    """SQL for the folder of a "$path" (before its last slash). String functions: a regular expression cost 25 %
    more DuckDB time."""
    return f"SUBSTR({path}, 1, LENGTH({path}) - STRPOS(REVERSE({path}), '/'))"


def unit_of(key: str, path: str) -> str:
    """The unit a winning object is named by in the winners list: its folder ("$path" before the last slash, as
    the query cuts it), or its own "$path" when it is its own execution (execution_of). Objects of
    different executions never share a folder unit: an object is its own execution only when every folder above
    it is a `k=v` partition folder, and an execution's folders always hold another kind of folder."""
    return path if execution_of(key) == key else path.rsplit("/", 1)[0]


def _seg(name: str) -> str:
    return exp.to_identifier(f"seg_{column_name(name)}", quoted=True).sql(dialect=DIALECT)


def _values(fields: FieldMap, bounds: Bounds) -> dict[str, object]:
    return {
        "dwell_event": fields.dwell_event,
        "dwell_more_event": fields.dwell_more_event,
        "click_event": fields.click_event,
        "rage_event": fields.rage_event,
        "dead_event": fields.dead_event,
        "fixed_event": fields.fixed_event,
        "first_day": bounds.first_day.strftime("%Y%m%d"),
        "last_day": bounds.last_day().strftime("%Y%m%d"),
        "max_page_length": bounds.max_page_length,
        "max_segment_length": bounds.max_segment_length,
        "max_events": bounds.max_events_per_row,
        "max_band": bounds.max_band,
        "max_y": bounds.max_click_y,
        "max_seconds": float(bounds.max_seconds_per_event),
        "max_seconds_sq": float(bounds.max_seconds_per_event) ** 2,
    }


def _with(pairs: Pairs | SignedPairs, body: str) -> str:
    """The placeholders and the winners list (unit, day, sign: 1 unless the pairs say -1)."""
    placeholders = ", ".join(f"({exp.convert(p).sql(dialect=DIALECT)})" for p in sorted(PLACEHOLDER_VALUES))
    rows = ", ".join(f"({_lit(pair[0])}, {_lit(pair[1])}, {int(pair[2]) if len(pair) > 2 else 1})"
                     for pair in pairs) or "(NULL, NULL, NULL)"  # fmt: skip
    return (
        f"WITH placeholders AS (SELECT * FROM (VALUES {placeholders}) AS t(p)),\n"
        f"    winners AS (SELECT * FROM (VALUES {rows}) AS t(unit, day, sign)),{body}"
    )


def _build(text: str, values: Mapping[str, object], scope: Scope) -> exp.Expression:
    parsed = sqlglot.parse_one(text, read=DIALECT)
    built = exp.replace_placeholders(parsed, **{k: exp.convert(v) for k, v in values.items()})
    assert isinstance(built, exp.Expression)
    built.meta[SCOPE] = scope  # not part of the text: an engine that reads files itself uses it (duckdb)
    return built


def scope_of(query: exp.Expression) -> Scope | None:
    """The partitions a query built here reads (its WHERE clauses name them too)."""
    found = query.meta.get(SCOPE)
    return found if isinstance(found, Scope) else None


def coverage_sql(fields: FieldMap, bounds: Bounds, scope: Scope) -> exp.Expression:
    """Rows per (object, GA date) for every row with a believable date: what de-duplication and coverage need.
    `scope`: the partitions of every listed object."""
    text = (
        _with([], _normalized(fields, scope))
        + "\nSELECT path, day, COUNT(*) AS rows FROM checked WHERE day_ok GROUP BY path, day"
    )
    return _build(text, _values(fields, bounds), scope)


#: The catalog query's dimension for the page views of one declared template, per path: this, then the template.
DECLARED_PREFIX = "declared:"


def catalog_sql(fields: FieldMap, bounds: Bounds, pairs: Pairs | SignedPairs, scope: Scope) -> exp.Expression:
    """Page views (band-0 dwell events) and rows per page and per value of each segment dimension, counted rows
    only, and per declared template and path. With signed pairs, the change in those counts: the rows of a -1 pair are taken away (a value stays
    listed while it has rows, even with 0 page views, as in the local engine's catalog)."""
    sums = "SUM(events * sign) AS views, SUM(sign) AS rows"
    parts = [f"SELECT 'page' AS dimension, page AS value, {sums} FROM views GROUP BY page"]
    for name in fields.segments:
        literal = exp.convert(name).sql(dialect=DIALECT)
        parts.append(f"SELECT {literal}, {_seg(name)}, {sums} FROM views GROUP BY {_seg(name)}")
    declared = _declared(fields)
    if declared is not None:  # per declared template and path: DECLARED_PREFIX + template
        prefix = exp.convert(DECLARED_PREFIX).sql(dialect=DIALECT)
        parts.append(
            f"SELECT {prefix} || {declared}, page, {sums} FROM views WHERE {declared} NOT IN ({_UNDECLARED})"
            f" GROUP BY {declared}, page"
        )
    body = (
        _normalized(fields, scope)
        + ",\n    views AS (SELECT * FROM counted WHERE event = 'dwell' AND band = 0 AND NOT more_only)\n"
        + "\nUNION ALL\n".join(parts)
    )
    return _build(_with(pairs, body), _values(fields, bounds), scope)


def view_sql(
    fields: FieldMap,
    bounds: Bounds,
    pairs: Pairs,
    scope: Scope,
    page: str | Template,
    start: date,
    end: date,
    where: Mapping[str, Sequence[str]],
) -> exp.Expression:
    """Sums of one view: per band for dwell (events, seconds, seconds², rows without seconds²), per cell for
    clicks and for each click flag (rage, dead, fixed). Hundreds of rows whatever the source's size; statistics
    and drawing stay in process. `pairs`: the (object, GA date) pairs that count in the date range; `scope`: the
    partitions holding those objects. A template selects its paths by the rule's regular expressions
    (REGEXP_LIKE, the same rule as heatmap.templates)."""
    page_filter, page_values = _page_filter(page, _declared(fields))
    segment_filters = [
        f"{_seg(name)} IN ({', '.join(exp.convert(v).sql(dialect=DIALECT) for v in values)})"
        for name, values in where.items()
        if values
    ]
    filters = " AND ".join([page_filter, "day BETWEEN :start AND :end", *segment_filters])
    body = (
        _normalized(fields, scope)
        + f"""
    SELECT event,
      CASE WHEN event = 'dwell' THEN band END AS band,
      CASE WHEN event <> 'dwell' THEN y END AS y,
      CASE WHEN event <> 'dwell' THEN x END AS x,
      SUM(CASE WHEN more_only THEN 0 ELSE events END) AS events,
      SUM(CASE WHEN event = 'dwell' THEN COALESCE(seconds, 0) ELSE 0 END) AS seconds,
      COALESCE(SUM(CASE WHEN event = 'dwell' THEN sq END), 0) AS seconds_sq,
      COUNT_IF(event = 'dwell' AND sq IS NULL) AS sq_missing
    FROM counted WHERE {filters}
    GROUP BY 1, 2, 3, 4"""
    )
    values = {
        **_values(fields, bounds),
        **page_values,
        "start": start.strftime("%Y%m%d"),
        "end": end.strftime("%Y%m%d"),
    }
    return _build(_with(pairs, body), values, scope)


def _page_filter(page: str | Template, declared: str | None) -> tuple[str, dict[str, str]]:
    """One path, or a template: the rows declaring it (`declared`: the declared-template column, when the source
    has one) and the undeclaring rows its rule wins (heatmap.templates.Template.polars_condition)."""
    if isinstance(page, str):
        return "page = :page", {"page": page}
    earlier = [f"NOT REGEXP_LIKE(page, :page_before_{i})" for i in range(len(page.before))]
    values = {f"page_before_{i}": p for i, p in enumerate(page.before)}
    rule = "FALSE"
    if page.pattern is not None:
        rule = " AND ".join(["REGEXP_LIKE(page, :page_pattern)", *earlier])
        values["page_pattern"] = page.pattern
    if declared is None:
        return rule, values
    values["page_template"] = page.name
    return f"(CASE WHEN {declared} IN ({_UNDECLARED}) THEN {rule} ELSE {declared} = :page_template END)", values


_UNDECLARED = ", ".join(exp.convert(v).sql(dialect=DIALECT) for v in UNDECLARED)


def _declared(fields: FieldMap) -> str | None:
    """The declared-template column of the normalized rows, when the source's segments have it."""
    return _seg(contract.TEMPLATE_FIELD) if contract.TEMPLATE_FIELD in fields.segments else None


def text(query: exp.Expression, dialect: str = DIALECT) -> str:
    """The query as text for an engine (`trino` for Athena, `duckdb` here)."""
    return query.sql(dialect=dialect, pretty=True)
