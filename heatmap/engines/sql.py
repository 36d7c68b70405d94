"""The SQL a view needs, written once for Athena (Trino) and transpiled for DuckDB by sqlglot (DESIGN §13).

The queries read the raw exports as an `exports` table whose columns are the export fields' plain names in
lower case, every one a string (as AppFlow writes them and as the Glue table in tracking/athena.yaml declares
them), plus `"$path"`, the object each row came from. They apply the same rules as heatmap/ingest/normalize.py:
GA's placeholders, the contract's bounds (a row with any value out of bounds is left out whole), and
de-duplication by a VALUES list of (object, GA date) pairs that count — worked out from the object listing with
the local engine's rule, so both engines count exactly the same rows.

Every value (page, dates, segment values, bounds, paths) enters as a literal made by sqlglot, and every field
name as an identifier quoted by sqlglot: nothing a user or a row says is pasted into the text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import sqlglot
from sqlglot import exp

from heatmap.contract import PLACEHOLDER_VALUES, Bounds
from heatmap.fields import FieldMap, plain_name

DIALECT = "trino"
TABLE = "exports"
Pairs = Sequence[tuple[str, str]]  # ("$path", YYYYMMDD) whose rows count


def column_name(field: str) -> str:
    """The table column of an export field: its plain name in lower case (Athena's Glue columns)."""
    return plain_name(field).lower()


def _ident(field: str) -> str:
    return exp.to_identifier(column_name(field), quoted=True).sql(dialect=DIALECT)


def _normalized(fields: FieldMap) -> str:
    """The exports as typed rows, with every check of normalize as a boolean `ok` (true: the row counts).
    NaN and infinities fail the BETWEEN bounds in both dialects (Trino: comparisons with NaN are false; DuckDB
    orders NaN above every number), so no finiteness function is needed."""
    c = {role: _ident(getattr(fields, role)) for role in ("date", "page", "event_name", "band", "x", "y", "events")}
    seconds, seconds_sq = _ident(fields.seconds), _ident(fields.seconds_sq)
    segments = [(name, _ident(name)) for name in fields.segments]

    def placeholder(column: str) -> str:
        return f"COALESCE({column}, '') IN (SELECT p FROM placeholders)"

    segment_select = ", ".join(f"COALESCE({col}, '(not set)') AS {_seg(name)}" for name, col in segments)
    segment_ok = " AND ".join(f"COALESCE(LENGTH({col}), 0) <= :max_segment_length" for _name, col in segments)
    return f"""
    typed AS (
      SELECT
        "$path" AS path,
        REPLACE({c["date"]}, '-', '') AS day,
        {c["page"]} AS page,
        CASE WHEN {c["event_name"]} IN (:dwell_event, :dwell_more_event) THEN 'dwell'
             WHEN {c["event_name"]} = :click_event THEN 'click' END AS event,
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
      FROM {TABLE}
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
              AND y IS NOT NULL AND y BETWEEN 0 AND :max_y END AS ok
      FROM dated
    ),
    counted AS (
      SELECT checked.* FROM checked JOIN winners ON checked.path = winners.path AND checked.day = winners.day
      WHERE ok
    )"""


def _seg(name: str) -> str:
    return exp.to_identifier(f"seg_{column_name(name)}", quoted=True).sql(dialect=DIALECT)


def _values(fields: FieldMap, bounds: Bounds) -> dict[str, object]:
    return {
        "dwell_event": fields.dwell_event,
        "dwell_more_event": fields.dwell_more_event,
        "click_event": fields.click_event,
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


def _with(pairs: Pairs, body: str) -> str:
    placeholders = ", ".join(f"({exp.convert(p).sql(dialect=DIALECT)})" for p in sorted(PLACEHOLDER_VALUES))
    rows = ", ".join(f"({exp.convert(path).sql(dialect=DIALECT)}, {exp.convert(day).sql(dialect=DIALECT)})"
                     for path, day in pairs) or "(NULL, NULL)"  # fmt: skip
    return (
        f"WITH placeholders AS (SELECT * FROM (VALUES {placeholders}) AS t(p)),\n"
        f"    winners AS (SELECT * FROM (VALUES {rows}) AS t(path, day)),{body}"
    )


def _build(text: str, values: Mapping[str, object]) -> exp.Expression:
    parsed = sqlglot.parse_one(text, read=DIALECT)
    built = exp.replace_placeholders(parsed, **{k: exp.convert(v) for k, v in values.items()})
    assert isinstance(built, exp.Expression)
    return built


def coverage_sql(fields: FieldMap, bounds: Bounds) -> exp.Expression:
    """Rows per (object, GA date) for every row with a believable date: what de-duplication and coverage need."""
    text = (
        _with([], _normalized(fields))
        + "\nSELECT path, day, COUNT(*) AS rows FROM checked WHERE day_ok GROUP BY path, day"
    )
    return _build(text, _values(fields, bounds))


def catalog_sql(fields: FieldMap, bounds: Bounds, pairs: Pairs) -> exp.Expression:
    """Page views (band-0 dwell events) per page and per value of each segment dimension, counted rows only."""
    parts = ["SELECT 'page' AS dimension, page AS value, SUM(events) AS views FROM views GROUP BY page"]
    for name in fields.segments:
        literal = exp.convert(name).sql(dialect=DIALECT)
        parts.append(f"SELECT {literal}, {_seg(name)}, SUM(events) FROM views GROUP BY {_seg(name)}")
    body = (
        _normalized(fields)
        + ",\n    views AS (SELECT * FROM counted WHERE event = 'dwell' AND band = 0 AND NOT more_only)\n"
        + "\nUNION ALL\n".join(parts)
    )
    return _build(_with(pairs, body), _values(fields, bounds))


def view_sql(
    fields: FieldMap,
    bounds: Bounds,
    pairs: Pairs,
    page: str,
    start: date,
    end: date,
    where: Mapping[str, Sequence[str]],
) -> exp.Expression:
    """Sums of one view: per band for dwell (events, seconds, seconds², rows without seconds²), per cell for
    clicks. Hundreds of rows whatever the source's size; statistics and drawing stay in process."""
    segment_filters = [
        f"{_seg(name)} IN ({', '.join(exp.convert(v).sql(dialect=DIALECT) for v in values)})"
        for name, values in where.items()
        if values
    ]
    filters = " AND ".join(["page = :page", "day BETWEEN :start AND :end", *segment_filters])
    body = (
        _normalized(fields)
        + f"""
    SELECT event,
      CASE WHEN event = 'dwell' THEN band END AS band,
      CASE WHEN event = 'click' THEN y END AS y,
      CASE WHEN event = 'click' THEN x END AS x,
      SUM(CASE WHEN more_only THEN 0 ELSE events END) AS events,
      SUM(CASE WHEN event = 'dwell' THEN COALESCE(seconds, 0) ELSE 0 END) AS seconds,
      COALESCE(SUM(CASE WHEN event = 'dwell' THEN seconds_sq END), 0) AS seconds_sq,
      COUNT_IF(event = 'dwell' AND seconds_sq IS NULL) AS sq_missing
    FROM counted WHERE {filters}
    GROUP BY 1, 2, 3, 4"""
    )
    values = {**_values(fields, bounds), "page": page, "start": start.strftime("%Y%m%d"), "end": end.strftime("%Y%m%d")}
    return _build(_with(pairs, body), values)


def text(query: exp.Expression, dialect: str = DIALECT) -> str:
    """The query as text for an engine (`trino` for Athena, `duckdb` here)."""
    return query.sql(dialect=dialect, pretty=True)
