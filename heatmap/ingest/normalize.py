"""From an export's string records to canonical rows, counting what is excluded and why (docs/contract.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from heatmap.contract import PLACEHOLDER_VALUES, Bounds
from heatmap.fields import FieldMap
from heatmap.readers.base import Issue, IssueLog, RawBatch
from heatmap.table import EVENT_KINDS, FLAG_KINDS, schema, seconds_sq_floor

PLACEHOLDERS = sorted(PLACEHOLDER_VALUES)
CLICK_KINDS = ["click", *FLAG_KINDS]


MAX_SAMPLES_PER_REASON = 3
SAMPLE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "reason": pl.String(),
    "file": pl.String(),
    "line": pl.Int64(),
}

FOLDED_SCHEMA: dict[str, pl.DataType] = {"date": pl.Date(), "folded": pl.Int64(), "events": pl.Int64()}
GA_OTHER = "(other)"


@dataclass
class Normalized:
    """One export object's contribution: canonical rows plus per-date bookkeeping for de-duplication."""

    table: pl.DataFrame
    day_rows: pl.DataFrame  # date, rows: records read per GA date (all of them, excluded included)
    excluded: pl.DataFrame  # date, reason, rows
    issues: list[Issue] = field(default_factory=list)
    samples: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SAMPLE_SCHEMA))  # a few excluded lines
    folded: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FOLDED_SCHEMA))  # date, folded, events


def _placeholder(column: str) -> pl.Expr:
    return pl.col(column).is_null() | pl.col(column).is_in(PLACEHOLDERS)


def _number(column: str, dtype: pl.DataType) -> pl.Expr:
    """GA writes numbers as strings; anything else (including padded text) becomes null and is judged later."""
    return pl.col(column).cast(dtype, strict=False)


def _out_of_bounds(raw: str, parsed: str, most_per_event: float) -> pl.Expr:
    """A measure that was sent (not a placeholder) but is not a finite number from 0 to `most_per_event` × events."""
    value = pl.col(parsed)
    # A number is never a placeholder; NaN sorts above every number, so is_between is False for NaN and ±inf.
    return (
        pl.when(value.is_null())
        .then(~_placeholder(raw))
        .otherwise(~value.is_between(0, pl.col("_events") * most_per_event))
    )


def _parse_dates(values: pl.Series, bounds: Bounds) -> dict[str, date | None]:
    """GA dates are YYYYMMDD (some tools write YYYY-MM-DD); parsed once per distinct value, not per row.
    A date outside the bounds' window is no date at all: it must never stretch a coverage calendar."""
    first, last = bounds.first_day, bounds.last_day()
    parsed: dict[str, date | None] = {}
    for text in values.drop_nulls().unique().to_list():
        compact = text.strip().replace("-", "")
        try:  # exactly 8 digits: strptime alone reads "2026013" as 3 January
            day = datetime.strptime(compact, "%Y%m%d").date() if len(compact) == 8 and compact.isdigit() else None
        except ValueError:
            day = None
        parsed[text] = day if day is not None and first <= day <= last else None
    return parsed


def _seconds_sq_if_possible() -> pl.Expr:
    """The row's seconds², or null when it is less than the row's seconds can give (table.seconds_sq_floor)."""
    events = pl.col("_events").cast(pl.Float64)
    floor = seconds_sq_floor(pl.col("_seconds").fill_null(0.0), events, events.clip(lower_bound=1.0))
    return pl.when(pl.col("_seconds_sq") < floor).then(None).otherwise(pl.col("_seconds_sq"))


def normalize(batch: RawBatch, name: str, fields: FieldMap, bounds: Bounds | None = None) -> Normalized:
    bounds = bounds or Bounds()
    roles = fields.column_roles()
    frame = batch.frame
    segments = fields.segments
    missing = [role for role in ("date", "page", "event_name", "events") if _column(roles, role) not in frame.columns]
    if frame.height and missing:
        return _empty(segments, [Issue(name, None, f"missing fields for roles {missing}; check the field mapping")])
    if not frame.height:
        return _empty(segments, list(batch.issues))
    absent = [plain for plain in roles if plain not in frame.columns]
    if absent:
        frame = frame.with_columns(pl.lit(None, pl.String).alias(plain) for plain in absent)
    col = {role: plain for plain, role in roles.items()}
    parsed, checks, implied = _rules(col, fields, bounds, _parse_dates(frame[col["date"]], bounds))
    is_dwell = pl.col("_event") == "dwell"
    is_click = pl.col("_event").is_in(CLICK_KINDS)  # a flag is a click's cell too
    more_seconds_only = pl.col(col["event_name"]) == fields.dwell_more_event
    # One pass: every check as a cheap boolean over every row (a row that fails any is excluded whole, docs/contract.md:
    # every row is untrusted) and the typed columns; the reason texts only for the few rows that fail.
    typed = (
        frame.lazy()
        .with_columns(**parsed)
        .select(
            pl.any_horizontal(check for check, reason in checks if reason not in implied)
            .fill_null(False)
            .alias("_excluded"),
            pl.col("_date").alias("date"),
            pl.col(col["page"]).alias("page"),
            pl.col("_event").alias("event"),
            pl.when(is_dwell).then(pl.col("_band")).cast(pl.Int32, strict=False).alias("band"),
            pl.when(is_click).then(pl.col("_x")).cast(pl.Int16, strict=False).alias("x"),
            pl.when(is_click).then(pl.col("_y")).cast(pl.Int32, strict=False).alias("y"),
            *[pl.col(col[s]).fill_null("(not set)").alias(s) for s in segments],
            pl.when(more_seconds_only).then(0).otherwise(pl.col("_events")).cast(pl.Int64).alias("events"),
            pl.when(is_dwell).then(pl.col("_seconds").fill_null(0.0)).otherwise(0.0).alias("seconds"),
            pl.when(is_dwell).then(_seconds_sq_if_possible()).otherwise(0.0).alias("seconds_sq"),  # null: not sent
        )
        .collect()
    )
    folded = _folded(frame, parsed, col, fields, bounds)
    issues = list(batch.issues)
    undated = typed["date"].is_null()
    rows = pl.Series("_row", range(frame.height), pl.UInt32)
    if undated.any():
        log = IssueLog(name)
        first, last = bounds.first_day.strftime("%Y%m%d"), bounds.last_day().strftime("%Y%m%d")
        for row in rows.filter(undated).head(log.limit).to_list():
            log.add(batch.line_of(row), f"date is not a day from {first} to {last} in YYYYMMDD form")
        log.more = int(undated.sum()) - len(log.kept)
        issues.extend(log.issues())
        typed, frame, rows = typed.filter(~undated), frame.filter(~undated), rows.filter(~undated)
    day_rows = typed.group_by("date").agg(pl.len().cast(pl.Int64).alias("rows"))
    excluded = pl.DataFrame(schema={"date": pl.Date, "reason": pl.String, "rows": pl.Int64})
    samples = pl.DataFrame(schema=SAMPLE_SCHEMA)
    flagged = typed["_excluded"]
    if flagged.any():
        reasons = (
            frame.filter(flagged)
            .with_columns(rows.filter(flagged))
            .lazy()
            .with_columns(**parsed)
            .select("_row", pl.col("_date").alias("date"), _first_reason(checks))
            .collect()
        )
        excluded = reasons.group_by("date", "reason").agg(pl.len().cast(pl.Int64).alias("rows"))
        picked = reasons.group_by("reason", maintain_order=True).head(MAX_SAMPLES_PER_REASON)
        samples = pl.DataFrame(
            {
                "date": picked["date"],
                "reason": picked["reason"],
                "file": [name] * picked.height,
                "line": [batch.line_of(row) for row in picked["_row"].to_list()],
            },
            schema=SAMPLE_SCHEMA,
        )
        typed = typed.filter(~flagged)
    # Only kept rows' strings become categories (a forged 100 KB path must not live on in a category dictionary).
    table = typed.select(
        pl.col(c).cast(dtype) if c in ("page", *segments) else pl.col(c) for c, dtype in schema(segments).items()
    )
    return Normalized(table=table, day_rows=day_rows, excluded=excluded, issues=issues, samples=samples, folded=folded)


def _folded(
    frame: pl.DataFrame, parsed: dict[str, pl.Expr], col: dict[str, str], fields: FieldMap, bounds: Bounds
) -> pl.DataFrame:
    """Per GA date, the heatmap events GA summed into "(other)" rows (its summary tables were full) and all
    heatmap events: the report route's loss, shown on every view. A row whose event name is "(other)" may hold
    heatmap events, so it counts as folded heatmap events; a forged count counts as none."""
    names = [fields.dwell_event, fields.dwell_more_event, fields.click_event, GA_OTHER]
    keys = (col["page"], col["event_name"], col["band"], col["x"], col["y"], *[col[s] for s in fields.segments])
    events = pl.when(pl.col("_events").is_between(0, bounds.max_events_per_row)).then(pl.col("_events")).otherwise(0)
    in_other = pl.any_horizontal(pl.col(key) == GA_OTHER for key in keys).fill_null(False)
    return (
        frame.lazy()
        .filter(pl.col(col["event_name"]).is_in(names))
        .with_columns(_date=parsed["_date"], _events=parsed["_events"])
        .filter(pl.col("_date").is_not_null())
        .group_by(pl.col("_date").alias("date"))
        .agg(
            events.filter(in_other).sum().cast(pl.Int64).alias("folded"),
            events.sum().cast(pl.Int64).alias("events"),
        )
        .collect()
    )


def _rules(
    col: dict[str, str], fields: FieldMap, bounds: Bounds, dates: dict[str, date | None]
) -> tuple[dict[str, pl.Expr], list[tuple[pl.Expr, str]], set[str]]:
    """The parsed columns (`_date`, `_event`, `_band`, ...), the checks over them in reporting order, and the
    reasons whose rows a later check excludes too (a placeholder never parses as a number): they name the cause
    of an exclusion but need not be evaluated to decide it."""
    parsed = {
        "_date": pl.col(col["date"]).replace_strict(dates, default=None, return_dtype=pl.Date),
        "_event": pl.col(col["event_name"]).replace_strict(
            {
                fields.dwell_event: "dwell",
                fields.dwell_more_event: "dwell",
                fields.click_event: "click",
                fields.rage_event: "rage",
                fields.dead_event: "dead",
                fields.fixed_event: "fixed",
            },
            default=None,
            return_dtype=pl.Enum(list(EVENT_KINDS)),
        ),
        "_band": _number(col["band"], pl.Int64()),
        "_x": _number(col["x"], pl.Int64()),
        "_y": _number(col["y"], pl.Int64()),
        "_events": _number(col["events"], pl.Int64()),
        "_seconds": _number(col["seconds"], pl.Float64()),
        "_seconds_sq": _number(col["seconds_sq"], pl.Float64()),
    }
    is_dwell = pl.col("_event") == "dwell"
    is_click = pl.col("_event").is_in(CLICK_KINDS)  # a flag is a click's cell too
    band_placeholder, click_placeholder = "band is (other) or (not set)", "click position is (other) or (not set)"
    checks = [
        (pl.col("_event").is_null(), "not a heatmap event"),
        (_placeholder(col["page"]), "page is (other) or (not set)"),
        (
            pl.col(col["page"]).str.len_chars() > bounds.max_page_length,
            f"page path longer than {bounds.max_page_length:,} characters",
        ),
        (
            pl.col("_events").is_null() | ~pl.col("_events").is_between(0, bounds.max_events_per_row),
            f"event count is not a whole number from 0 to {bounds.max_events_per_row:,}",
        ),
        (is_dwell & _placeholder(col["band"]), band_placeholder),
        (
            is_dwell & (pl.col("_band").is_null() | ~pl.col("_band").is_between(0, bounds.max_band)),
            f"band is not a whole number from 0 to {bounds.max_band} (pages up to {bounds.max_page_height_px:,} px)",
        ),
        (
            is_dwell & _out_of_bounds(col["seconds"], "_seconds", bounds.max_seconds_per_event),
            f"seconds is not a number from 0 to {bounds.max_seconds_per_event:,.0f} per event",
        ),
        (
            is_dwell & _out_of_bounds(col["seconds_sq"], "_seconds_sq", bounds.max_seconds_per_event**2),
            f"seconds² is not a number from 0 to {bounds.max_seconds_per_event**2:,.0f} per event",
        ),
        (is_click & (_placeholder(col["x"]) | _placeholder(col["y"])), click_placeholder),
        (is_click & (pl.col("_x").is_null() | ~pl.col("_x").is_between(0, 99)), "click x is not a whole percent 0-99"),
        (
            is_click & (pl.col("_y").is_null() | ~pl.col("_y").is_between(0, bounds.max_click_y)),
            f"click y is not a whole number from 0 to {bounds.max_click_y} (pages up to {bounds.max_page_height_px:,} px)",
        ),
        *[
            (
                pl.col(col[s]).str.len_chars() > bounds.max_segment_length,
                f"{s} longer than {bounds.max_segment_length} characters",
            )
            for s in fields.segments
        ],
    ]
    return parsed, checks, {band_placeholder, click_placeholder}


def _first_reason(checks: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """The text of the first check a row fails, in the order the checks are listed."""
    chain: Any = pl.when(checks[0][0]).then(pl.lit(checks[0][1]))
    for check, reason in checks[1:]:
        chain = chain.when(check).then(pl.lit(reason))
    classified: pl.Expr = chain.otherwise(pl.lit(None)).alias("reason")
    return classified


def _column(roles: dict[str, str], role: str) -> str:
    return next(plain for plain, r in roles.items() if r == role)


def _empty(segments: tuple[str, ...], issues: list[Issue]) -> Normalized:
    return Normalized(
        table=pl.DataFrame(schema=schema(segments)),
        day_rows=pl.DataFrame(schema={"date": pl.Date, "rows": pl.Int64}),
        excluded=pl.DataFrame(schema={"date": pl.Date, "reason": pl.String, "rows": pl.Int64}),
        issues=issues,
    )
