"""Selecting the rows of one view: page, date range and segment filter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import polars as pl

from heatmap.contract import SEGMENT_ALIASES
from heatmap.errors import DataError
from heatmap.table import segment_columns


def resolve_dimension(table: pl.DataFrame, name: str) -> str:
    """Map a dimension as the user wrote it (export name, `customEvent:` name or alias) to a column."""
    columns = segment_columns(table)
    plain = name.removeprefix("customEvent:").removeprefix("ga:")
    for candidate in (name, plain, SEGMENT_ALIASES.get(plain, "")):
        if candidate in columns:
            return candidate
    known = ", ".join(columns) or "none"
    raise DataError(f"unknown segment dimension {name!r}; the data has: {known}")


def parse_where(table: pl.DataFrame, clauses: Sequence[str]) -> dict[str, list[str]]:
    """`DIM=VALUE` clauses; a repeated dimension means any of its values, different dimensions must all hold."""
    where: dict[str, list[str]] = {}
    for clause in clauses:
        name, sep, value = clause.partition("=")
        if not sep or not name.strip():
            raise DataError(f"--where {clause!r}: expected DIMENSION=VALUE, e.g. deviceCategory=mobile")
        where.setdefault(resolve_dimension(table, name.strip()), []).append(value.strip())
    return where


def select(
    table: pl.DataFrame,
    page: str,
    start: date,
    end: date,
    where: Mapping[str, Sequence[str]] | None = None,
) -> pl.DataFrame:
    """Rows of one page between two dates (inclusive) matching every segment condition."""
    if start > end:
        raise DataError(f"the date range is reversed: {start} is after {end}")
    condition = (pl.col("page") == page) & pl.col("date").is_between(start, end)
    for name, values in (where or {}).items():
        column = resolve_dimension(table, name)
        if values:
            condition &= pl.col(column).cast(pl.String).is_in(list(values))
    return table.filter(condition)


class PageIndex:
    """The table split by page and sorted by date, built once per load, so a view change touches one page.

    A segment or date change on a 10-million-row table then costs a binary search and a small filter
    instead of a scan (DESIGN §11: ≤ 50 ms).
    """

    def __init__(self, table: pl.DataFrame) -> None:
        ordered = table.sort(["page", "date"])
        self.table = ordered
        runs = ordered.select(pl.col("page").rle()).unnest("page")
        self._pages: dict[str, pl.DataFrame] = {}
        offset = 0
        for length, page in runs.iter_rows():
            self._pages[str(page)] = ordered.slice(offset, length)
            offset += length

    def pages(self) -> list[str]:
        return list(self._pages)

    def select(
        self, page: str, start: date, end: date, where: Mapping[str, Sequence[str]] | None = None
    ) -> pl.DataFrame:
        if start > end:
            raise DataError(f"the date range is reversed: {start} is after {end}")
        part = self._pages.get(page)
        if part is None:
            return self.table.clear()
        dates = part["date"]
        first = int(dates.search_sorted(start, side="left"))
        last = int(dates.search_sorted(end, side="right"))
        rows = part.slice(first, last - first)
        conditions = [
            pl.col(resolve_dimension(self.table, name)).cast(pl.String).is_in(list(values))
            for name, values in (where or {}).items()
            if values
        ]
        return rows.filter(*conditions) if conditions else rows
