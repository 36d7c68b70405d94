"""From an export's string records to canonical rows, counting what is excluded and why (DESIGN §4-5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import polars as pl

from heatmap.contract import PLACEHOLDER_VALUES
from heatmap.fields import FieldMap
from heatmap.readers.base import Issue, RawBatch
from heatmap.table import EVENT_KINDS, schema

PLACEHOLDERS = sorted(PLACEHOLDER_VALUES)


@dataclass
class Normalized:
    """One export object's contribution: canonical rows plus per-date bookkeeping for de-duplication."""

    table: pl.DataFrame
    day_rows: pl.DataFrame  # date, rows: records read per GA date (all of them, excluded included)
    excluded: pl.DataFrame  # date, reason, rows
    issues: list[Issue] = field(default_factory=list)


def _placeholder(column: str) -> pl.Expr:
    return pl.col(column).is_null() | pl.col(column).is_in(PLACEHOLDERS)


def _number(column: str, dtype: pl.DataType) -> pl.Expr:
    """GA writes numbers as strings; anything else (including padded text) becomes null and is judged later."""
    return pl.col(column).cast(dtype, strict=False)


def _parse_dates(values: pl.Series) -> dict[str, date | None]:
    """GA dates are YYYYMMDD (some tools write YYYY-MM-DD); parsed once per distinct value, not per row."""
    parsed: dict[str, date | None] = {}
    for text in values.drop_nulls().unique().to_list():
        try:
            parsed[text] = datetime.strptime(text.strip().replace("-", ""), "%Y%m%d").date()
        except ValueError:
            parsed[text] = None
    return parsed


def normalize(batch: RawBatch, name: str, fields: FieldMap) -> Normalized:
    roles = fields.column_roles()
    frame = batch.frame
    segments = fields.segments
    missing = [role for role in ("date", "page", "event_name", "events") if _column(roles, role) not in frame.columns]
    if frame.height and missing:
        return _empty(segments, [Issue(name, None, f"missing fields for roles {missing}; check the field mapping")])
    if not frame.height:
        return _empty(segments, list(batch.issues))
    for plain in roles:
        if plain not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(plain))
    col = {role: plain for plain, role in roles.items()}
    event = pl.col(col["event_name"]).replace_strict(
        {fields.dwell_event: "dwell", fields.dwell_more_event: "dwell", fields.click_event: "click"},
        default=None,
        return_dtype=pl.String,
    )
    more_seconds_only = pl.col(col["event_name"]) == fields.dwell_more_event
    dates = _parse_dates(frame[col["date"]])
    staged = frame.with_row_index("_row").with_columns(
        _date=pl.col(col["date"]).replace_strict(dates, default=None, return_dtype=pl.Date),
        _event=event,
        _band=_number(col["band"], pl.Int64()),
        _x=_number(col["x"], pl.Int64()),
        _y=_number(col["y"], pl.Int64()),
        _events=_number(col["events"], pl.Int64()),
        _seconds=_number(col["seconds"], pl.Float64()),
    )
    is_dwell = pl.col("_event") == "dwell"
    is_click = pl.col("_event") == "click"
    # Each check once, as a cheap boolean over every row; the reason text only for the few rows that fail.
    checks_bad = [
        (pl.col("_date").is_null(), "date is not YYYYMMDD"),
        (pl.col("_events").is_null() | (pl.col("_events") < 0), "event count is not a non-negative number"),
        (
            is_dwell & ~_placeholder(col["band"]) & (pl.col("_band").is_null() | (pl.col("_band") < 0)),
            "band is not a non-negative integer",
        ),
        (is_dwell & ~_placeholder(col["seconds"]) & pl.col("_seconds").is_null(), "seconds is not a number"),
        (
            is_click & ~_placeholder(col["x"]) & (pl.col("_x").is_null() | ~pl.col("_x").is_between(0, 100)),
            "click x is not a percentage",
        ),
        (
            is_click & ~_placeholder(col["y"]) & (pl.col("_y").is_null() | (pl.col("_y") < 0)),
            "click y is not a non-negative integer",
        ),
    ]
    checks_excluded = [
        (pl.col("_event").is_null(), "not a heatmap event"),
        (_placeholder(col["page"]), "page is (other) or (not set)"),
        (is_dwell & _placeholder(col["band"]), "band is (other) or (not set)"),
        (is_click & (_placeholder(col["x"]) | _placeholder(col["y"])), "click position is (other) or (not set)"),
    ]
    staged = staged.with_columns(
        _bad=pl.any_horizontal(check for check, _ in checks_bad),
        _excluded=pl.any_horizontal(check for check, _ in checks_excluded),
    )
    target = schema(segments)
    # Narrow typed columns first, so the filters below copy numbers and categories, not the raw strings.
    typed = staged.select(
        "_row",
        "_bad",
        "_excluded",
        pl.col("_date").alias("date"),
        pl.col(col["page"]).cast(pl.Categorical).alias("page"),
        pl.col("_event").cast(pl.Enum(list(EVENT_KINDS))).alias("event"),
        pl.when(is_dwell).then(pl.col("_band")).cast(pl.Int32).alias("band"),
        pl.when(is_click).then(pl.col("_x").clip(0, 99)).cast(pl.Int16).alias("x"),
        pl.when(is_click).then(pl.col("_y")).cast(pl.Int32).alias("y"),
        *[pl.col(col[s]).fill_null("(not set)").cast(pl.Categorical).alias(s) for s in segments],
        pl.when(more_seconds_only).then(0).otherwise(pl.col("_events")).cast(pl.Int64).alias("events"),
        pl.when(is_dwell).then(pl.col("_seconds").fill_null(0.0)).otherwise(0.0).alias("seconds"),
    )
    issues = list(batch.issues)
    if typed["_bad"].any():
        reasons = staged.filter(pl.col("_bad")).select("_row", _first_reason(checks_bad))
        issues.extend(Issue(name, batch.line_of(row), reason) for row, reason in reasons.iter_rows())
        typed = typed.filter(~pl.col("_bad"))
    day_rows = typed.group_by("date").agg(pl.len().cast(pl.Int64).alias("rows"))
    excluded = pl.DataFrame(schema={"date": pl.Date, "reason": pl.String, "rows": pl.Int64})
    if typed["_excluded"].any():
        excluded = (
            staged.filter(pl.col("_excluded") & ~pl.col("_bad"))
            .select(pl.col("_date").alias("date"), _first_reason(checks_excluded))
            .group_by("date", "reason")
            .agg(pl.len().cast(pl.Int64).alias("rows"))
        )
        typed = typed.filter(~pl.col("_excluded"))
    table = typed.select(list(target)).cast(target)  # type: ignore[arg-type]
    return Normalized(table=table, day_rows=day_rows, excluded=excluded, issues=issues)


def _first_reason(checks: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """The text of the first check a row fails, in the order the checks are listed."""
    chain: Any = pl.when(checks[0][0]).then(pl.lit(checks[0][1]))
    for check, reason in checks[1:]:
        chain = chain.when(check).then(pl.lit(reason))
    return chain.otherwise(pl.lit(None)).alias("reason")


def _column(roles: dict[str, str], role: str) -> str:
    return next(plain for plain, r in roles.items() if r == role)


def _empty(segments: tuple[str, ...], issues: list[Issue]) -> Normalized:
    return Normalized(
        table=pl.DataFrame(schema=schema(segments)),
        day_rows=pl.DataFrame(schema={"date": pl.Date, "rows": pl.Int64}),
        excluded=pl.DataFrame(schema={"date": pl.Date, "reason": pl.String, "rows": pl.Int64}),
        issues=issues,
    )
