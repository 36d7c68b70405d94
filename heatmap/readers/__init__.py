"""Readers, one module per export shape; `read_export` picks one by content, never by file name."""

from __future__ import annotations

import gzip
import zlib

import polars as pl

from heatmap.readers import csv, jsonlines, parquet, ua
from heatmap.readers.base import Issue, RawBatch

__all__ = ["Issue", "RawBatch", "read_export"]

MAX_UNCOMPRESSED = 4 * 1024**3


def _gunzip(data: bytes, name: str) -> bytes:
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = decompressor.decompress(data, MAX_UNCOMPRESSED)
        if decompressor.unconsumed_tail:
            raise ValueError(f"expands beyond {MAX_UNCOMPRESSED // 1024**3} GB")
        if not decompressor.eof:
            raise ValueError("the file is truncated")
        if data[len(data) - len(decompressor.unused_data) :][:2] == b"\x1f\x8b":
            out += gzip.decompress(decompressor.unused_data)  # concatenated gzip members
        return out
    except (zlib.error, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"corrupt gzip data: {exc}") from None


def read_export(data: bytes, name: str, keep: set[str]) -> RawBatch:
    """Any supported export shape, possibly gzip-compressed, as string columns named by plain field name."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip(data, name)
        except ValueError as exc:
            return RawBatch(pl.DataFrame(), [Issue(name, None, str(exc))])
    if data[:4] == b"PAR1":
        return parquet.read(data, name, keep)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return RawBatch(pl.DataFrame())
    if head[:1] == b"{":
        compact = head.replace(b" ", b"").replace(b"\n", b"")
        if compact.startswith(b'{"reports"'):
            return ua.read(data, name, keep)
        return jsonlines.read(data, name, keep)
    if head[:1] == b"[":
        return _json_array(data, name, keep)
    if b"\x00" in head:
        return RawBatch(pl.DataFrame(), [Issue(name, None, "not a JSON, CSV or Parquet export (binary content)")])
    return csv.read(data, name, keep)


def _json_array(data: bytes, name: str, keep: set[str]) -> RawBatch:
    import json

    try:
        records = json.loads(data)
    except ValueError as exc:
        return RawBatch(pl.DataFrame(), [Issue(name, None, f"malformed JSON array: {exc}")])
    if not all(isinstance(r, dict) for r in records):
        return RawBatch(pl.DataFrame(), [Issue(name, None, "a JSON array of records must hold objects only")])
    lines = "\n".join(json.dumps(r) for r in records).encode()
    return jsonlines.read(lines, name, keep)
