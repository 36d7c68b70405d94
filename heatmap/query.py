"""Selecting the rows of one view: page, date range and segment filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from heatmap.contract import SEGMENT_ALIASES
from heatmap.errors import DataError
from heatmap.table import segment_columns


def resolve_dimension(segments: Sequence[str], name: str) -> str:
    """Map a dimension as the user wrote it (export name, `customEvent:` name or alias) to a column."""
    plain = name.removeprefix("customEvent:").removeprefix("ga:")
    for candidate in (name, plain, SEGMENT_ALIASES.get(plain, "")):
        if candidate in segments:
            return candidate
    known = ", ".join(segments) or "none"
    raise DataError(f"unknown segment dimension {name!r}; the data has: {known}")


def parse_where(segments: Sequence[str], clauses: Sequence[str]) -> dict[str, list[str]]:
    """`DIM=VALUE` clauses; a repeated dimension means any of its values, different dimensions must all hold."""
    where: dict[str, list[str]] = {}
    for clause in clauses:
        name, sep, value = clause.partition("=")
        if not sep or not name.strip():
            raise DataError(f"--where {clause!r}: expected DIMENSION=VALUE, e.g. deviceCategory=mobile")
        where.setdefault(resolve_dimension(segments, name.strip()), []).append(value.strip())
    return where


def select(
    table: pl.DataFrame,
    page: str,
    start: date,
    end: date,
    where: Mapping[str, Sequence[str]] | None = None,
    sorted_by_date: bool = False,
) -> pl.DataFrame:
    """Rows of one page between two dates (inclusive) matching every segment condition.

    `sorted_by_date` says `table` holds one page sorted by date (an engine's cached page): the range is then
    two binary searches instead of a scan, so a date or segment change stays fast on a busy page.
    """
    if start > end:
        raise DataError(f"the date range is reversed: {start} is after {end}")
    segments = segment_columns(table)
    conditions = [
        pl.col(resolve_dimension(segments, name)).cast(pl.String).is_in(list(values))
        for name, values in (where or {}).items()
        if values
    ]
    if sorted_by_date:
        dates = table["date"]
        first = int(dates.search_sorted(start, side="left"))
        last = int(dates.search_sorted(end, side="right"))
        rows = table.slice(first, last - first)
        return rows.filter(*conditions) if conditions else rows
    condition = (pl.col("page") == page) & pl.col("date").is_between(start, end)
    return table.filter(condition, *conditions)
