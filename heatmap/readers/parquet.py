"""Parquet output (with or without preserveSourceDataTyping): every value is read back as a string."""

from __future__ import annotations

import io

import polars as pl

from heatmap.readers.base import Issue, RawBatch, strings_only


def read(data: bytes, name: str, keep: set[str]) -> RawBatch:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:
        return RawBatch(pl.DataFrame(), [Issue(name, None, f"unreadable Parquet file: {str(exc).splitlines()[0]}")])
    return RawBatch(strings_only(frame, keep))
