"""CSV output of a flow configured for CSV: a header row, then records."""

from __future__ import annotations

import io

import polars as pl

from heatmap.readers.base import Issue, RawBatch, strings_only


def read(data: bytes, name: str, keep: set[str]) -> RawBatch:
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, truncate_ragged_lines=True, encoding="utf8-lossy")
    except Exception as exc:
        return RawBatch(pl.DataFrame(), [Issue(name, None, f"unreadable CSV: {str(exc).splitlines()[0]}")])
    # Row i is on line i + 2 (after the header) as long as no field spans lines.
    return RawBatch(strings_only(frame, keep), lines=list(range(2, frame.height + 2)))
