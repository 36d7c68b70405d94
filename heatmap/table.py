"""The canonical table: the one shape everything downstream of the readers sees (docs/contract.md).

One row per (date, page, event, band | x,y, segment values) with summed `events`, `seconds` and `seconds_sq`
(the sum of each page view's seconds squared; null where an older export did not send it).
Strings are categorical so ten million rows stay small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import polars as pl

EVENT_KINDS = ("dwell", "click", "rage", "dead", "fixed")
#: Flagged click rows: frustration (contract.RAGE_EVENT, DEAD_EVENT: the same clicks again, at their cells) and
#: clicks on fixed or sticky elements (contract.FIXED_EVENT: viewport cells, not clicks of the page).
FLAG_KINDS = ("rage", "dead", "fixed")
FRUSTRATION_KINDS = ("rage", "dead")

BASE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "page": pl.Categorical(),
    "event": pl.Enum(list(EVENT_KINDS)),
    "band": pl.Int32(),
    "x": pl.Int16(),
    "y": pl.Int32(),
}
MEASURE_SCHEMA: dict[str, pl.DataType] = {"events": pl.Int64(), "seconds": pl.Float64(), "seconds_sq": pl.Float64()}

#: The seconds² rule, in one place for the local ingest, the SQL engines and the statistics: k events with s seconds
#: in all have Σs² ≥ s²/k (Cauchy–Schwarz). Less, beyond float error (SQ_RELATIVE) and GA's rounding of each
#: event's seconds to 0.01 (SQ_ROUNDING per event), cannot come from the tag: some events did not send seconds² (a
#: GA4 report counts a missing parameter as 0, e.g. for pages still on an older tag), so it is unknown, not a number.
SQ_RELATIVE = 1e-9
SQ_ROUNDING = 0.01

M = TypeVar("M")


def seconds_sq_floor(seconds: M, events: M, events_at_least_one: M) -> M:
    """The least seconds² that `events` events with `seconds` seconds in all can send (arrays, polars expressions
    or numbers; `events_at_least_one` is `events` clipped below at 1, each library spells that its own way)."""
    return seconds**2 / events_at_least_one * (1 - SQ_RELATIVE) - SQ_ROUNDING * events  # type: ignore[operator,no-any-return]


def schema(segments: tuple[str, ...]) -> dict[str, pl.DataType]:
    """Canonical column order: keys, segment dimensions (named as the export names them), measures."""
    return {**BASE_SCHEMA, **{name: pl.Categorical() for name in segments}, **MEASURE_SCHEMA}


def empty(segments: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema(segments))


def segment_columns(table: pl.DataFrame) -> list[str]:
    """The segment dimensions a table carries, in order."""
    fixed = set(BASE_SCHEMA) | set(MEASURE_SCHEMA)
    return [name for name in table.columns if name not in fixed]


FLAGGED_SCHEMA: dict[str, pl.DataType] = {"event": pl.String(), "y": pl.Int32(), "x": pl.Int16(), "events": pl.Int64()}


@dataclass(frozen=True)
class ViewSums:
    """What a view needs from the data (docs/engines.md, engines return only this): `dwell` has band, events,
    seconds, seconds_sq summed per band and `sq_missing`, the rows without seconds_sq (older exports: their
    variance is unknown); `clicks` has y, x, events summed per cell; `flagged` the same per flag (`event`: one of
    FLAG_KINDS) for the clicks flagged rage, dead or fixed. Hundreds of rows, whatever the source."""

    dwell: pl.DataFrame
    clicks: pl.DataFrame
    flagged: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FLAGGED_SCHEMA))

    @property
    def is_empty(self) -> bool:
        return self.dwell.is_empty() and self.clicks.is_empty() and self.flagged.is_empty()

    def flag(self, kind: str) -> pl.DataFrame:
        """The cells of the clicks flagged `kind` (y, x, events), like `clicks`."""
        return self.flagged.filter(pl.col("event") == kind).drop("event")


def view_sums(rows: pl.DataFrame | pl.LazyFrame) -> ViewSums:
    """Sum selected canonical rows per band (dwell) and per cell (clicks). Lazy, so only the measured columns
    are read: an eager filter would copy every column of a busy page's millions of rows first (a lazy
    selection's own filters fuse with these)."""
    lazy = rows.lazy()
    dwell = (
        lazy.filter((pl.col("event") == "dwell") & pl.col("band").is_not_null())
        .group_by("band")
        .agg(
            pl.col("events").sum(),
            pl.col("seconds").sum(),
            pl.col("seconds_sq").sum(),
            pl.col("seconds_sq").null_count().cast(pl.Int64).alias("sq_missing"),
        )
        .sort("band")
    )
    cell = pl.col("y").cast(pl.Int64) * 65536 + pl.col("x").cast(pl.Int64) + 32768  # one key: a third faster
    clicks = (
        lazy.filter((pl.col("event") == "click") & pl.col("x").is_not_null() & pl.col("y").is_not_null())
        .group_by(cell.alias("cell"))
        .agg(pl.col("events").sum())
        .sort("cell")
        .select(
            (pl.col("cell") // 65536).cast(pl.Int32).alias("y"),
            (pl.col("cell") % 65536 - 32768).cast(pl.Int16).alias("x"),
            "events",
        )
    )
    flagged = (
        lazy.filter(pl.col("event").is_in(FLAG_KINDS) & pl.col("x").is_not_null() & pl.col("y").is_not_null())
        .group_by(pl.col("event").cast(pl.String), "y", "x")
        .agg(pl.col("events").sum())
        .sort("event", "y", "x")
    )
    dwell_sums, click_sums, flagged_sums = pl.collect_all([dwell, clicks, flagged])
    return ViewSums(dwell=dwell_sums, clicks=click_sums, flagged=flagged_sums.cast(pl.Schema(FLAGGED_SCHEMA)))
