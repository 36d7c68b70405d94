"""Readers, one module per export shape; `read_export` picks one by content, never by file name."""

from __future__ import annotations

import zlib

import polars as pl

from heatmap.readers import csv, jsonlines, parquet, ua
from heatmap.readers.base import Issue, RawBatch

__all__ = ["KINDS", "Issue", "RawBatch", "TooLarge", "export_kind", "gunzip", "head_of", "read_export"]

#: Real GA exports compress 10-30x; a gzip bomb compresses 1000x. Memory per object follows its size.
MAX_EXPANSION = 100
MIN_UNCOMPRESSED_LIMIT = 64 * 1024**2
MAX_UNCOMPRESSED = 2 * 1024**3


def uncompressed_limit(compressed_size: int) -> int:
    return min(MAX_UNCOMPRESSED, max(MIN_UNCOMPRESSED_LIMIT, compressed_size * MAX_EXPANSION))


class TooLarge(ValueError):
    """Inflating would pass the limit given."""


def gunzip(data: bytes, limit: int) -> bytes:
    """Every gzip member (AppFlow may concatenate them), never more than `limit` bytes: a damaged or planted object
    costs at most that. Raises ValueError (TooLarge past the limit) saying what is wrong."""
    parts: list[bytes] = []
    size, rest = 0, data
    try:
        while rest[:2] == b"\x1f\x8b":
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = decompressor.decompress(rest, limit - size + 1)
            size += len(out)
            if size > limit or decompressor.unconsumed_tail:
                raise TooLarge(f"it expands beyond {limit // 1024**2:,} MB")
            if not decompressor.eof:
                raise ValueError("the file is truncated")
            parts.append(out)
            rest = decompressor.unused_data
    except (zlib.error, EOFError, OSError) as exc:
        raise ValueError(str(exc)) from None
    return b"".join(parts)


def _gunzip_export(data: bytes) -> bytes:
    try:
        return gunzip(data, uncompressed_limit(len(data)))
    except TooLarge as exc:
        raise ValueError(f"corrupt gzip data: {exc} ({MAX_EXPANSION}x its size): a gzip bomb?") from None
    except ValueError as exc:
        raise ValueError(f"corrupt gzip data: {exc}") from None


def read_export(data: bytes, name: str, keep: set[str]) -> RawBatch:
    """Any supported export shape, possibly gzip-compressed, as string columns named by plain field name.
    Records that cannot become rows are always reported: nothing is dropped in silence."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = _gunzip_export(data)
        except ValueError as exc:
            return RawBatch(pl.DataFrame(), [Issue(name, None, str(exc))])
    batch = _read(data, name, keep)
    if batch.frame.is_empty() and not batch.issues and data.strip(b"\xef\xbb\xbf \t\r\n"):
        batch.issues.append(Issue(name, None, "no records with heatmap fields found; is this an AppFlow export?"))
    return batch


KINDS = ("parquet", "ua", "jsonl", "json-array", "csv", "binary", "empty")


def export_kind(data: bytes) -> str:
    """Which export shape `data` (uncompressed; its first 4 KB are enough) is, one of KINDS: the same test
    `read_export` reads by, so the SQL engines pick the same reader for a file as the local engine."""
    if data[:4] == b"PAR1":
        return "parquet"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "empty"
    if head[:1] == b"{":
        return "ua" if head.replace(b" ", b"").replace(b"\n", b"").startswith(b'{"reports"') else "jsonl"
    if head[:1] == b"[":
        return "json-array"
    if b"\n{" in head:  # JSON Lines whose first line is damaged: that line costs itself only
        return "jsonl"
    if b"\x00" in head:
        return "binary"
    return "csv"


def head_of(data: bytes, size: int = 65536) -> tuple[bytes, bool]:
    """The first `size` uncompressed bytes of an export's first bytes, and whether it is gzip-compressed: enough
    to tell its kind (and a CSV's header) without reading the whole object."""
    if data[:2] != b"\x1f\x8b":
        return data[:size], False
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, size), True
    except zlib.error:
        return b"", True


def _read(data: bytes, name: str, keep: set[str]) -> RawBatch:
    kind = export_kind(data)
    if kind == "parquet":
        return parquet.read(data, name, keep)
    if kind == "empty":
        return RawBatch(pl.DataFrame())
    if kind == "ua":
        return ua.read(data, name, keep)
    if kind == "jsonl":
        return jsonlines.read(data, name, keep)
    if kind == "json-array":
        return _json_array(data, name, keep)
    if kind == "binary":
        return RawBatch(pl.DataFrame(), [Issue(name, None, "not a JSON, CSV or Parquet export (binary content)")])
    return csv.read(data, name, keep)


def _json_array(data: bytes, name: str, keep: set[str]) -> RawBatch:
    import json

    try:
        records = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        if b"\n{" in data[:65536]:  # JSON Lines whose first line happens to start with '['
            return jsonlines.read(data, name, keep)
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        return RawBatch(pl.DataFrame(), [Issue(name, None, f"malformed JSON array: {reason}")])
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return RawBatch(pl.DataFrame(), [Issue(name, None, "a JSON array of records must hold objects only")])
    flat = [{k: v for k, v in r.items() if not isinstance(v, (dict, list))} for r in records]
    lines = "\n".join(json.dumps(r) for r in flat).encode()
    return jsonlines.read(lines, name, keep)
