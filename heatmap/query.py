"""Selecting the rows of one view: page, date range and segment filter."""

from __future__ import annotations

from collections.abc import Sequence

from heatmap.contract import SEGMENT_ALIASES
from heatmap.errors import DataError


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
