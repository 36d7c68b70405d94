"""Builders for export records and AppFlow-shaped folders, so each test states its numbers plainly."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

SEGMENT = {"deviceCategory": "mobile", "sessionDefaultChannelGroup": "Direct", "newVsReturning": "new"}


def dwell(day: str, page: str, band: int | str, views: int | str, seconds: float | str, **segment: str) -> dict:
    return {
        "date": day,
        "pagePath": page,
        "eventName": "hm_dwell",
        "customEvent:hm_band": band if isinstance(band, str) else f"{band:03d}",
        "customEvent:hm_x": "(not set)",
        "customEvent:hm_y": "(not set)",
        **{**SEGMENT, **segment},
        "eventCount": str(views),
        "customEvent:hm_seconds": str(seconds),
    }


def click(day: str, page: str, x: int | str, y: int | str, count: int, **segment: str) -> dict:
    return {
        "date": day,
        "pagePath": page,
        "eventName": "hm_click",
        "customEvent:hm_band": "(not set)",
        "customEvent:hm_x": str(x),
        "customEvent:hm_y": str(y),
        **{**SEGMENT, **segment},
        "eventCount": str(count),
        "customEvent:hm_seconds": "0",
    }


def jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def write(root: Path, key: str, data: bytes, modified: datetime | None = None, gzipped: bool = False) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gzipped else data)
    if modified:
        stamp = modified.replace(tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))
    return path


def canonical_frame(rows: list, segments: tuple[str, ...]):
    """Canonical rows from tuples without the `seconds_sq` measure (null: an export that did not send it)."""
    import polars as pl

    from heatmap.table import schema

    columns = {name: dtype for name, dtype in schema(segments).items() if name != "seconds_sq"}
    frame = pl.DataFrame(rows, schema=columns, orient="row")
    return frame.with_columns(pl.lit(None, pl.Float64).alias("seconds_sq")).select(list(schema(segments)))


def all_rows(engine):
    """Every counted row of a local engine's source in one table (memory grows with the source: tests only)."""
    return engine._read(None)


def select(table, page, start, end, where=None):
    """The rows of one view by a plain filter: the oracle the engines' views are checked against."""
    from heatmap.errors import DataError
    from heatmap.query import resolve_dimension
    from heatmap.table import segment_columns

    if start > end:
        raise DataError(f"the date range is reversed: {start} is after {end}")
    segments = segment_columns(table)
    conditions = [
        pl.col(resolve_dimension(segments, name)).cast(pl.String).is_in(list(values))
        for name, values in (where or {}).items()
        if values
    ]
    return table.filter((pl.col("page") == page) & pl.col("date").is_between(start, end), *conditions)
