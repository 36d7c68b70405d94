"""Stores: where exports are read from and runs are written to. One module per backend."""

from __future__ import annotations

from heatmap.locations import Location, parse_location
from heatmap.stores.base import ObjectInfo, Store
from heatmap.stores.local import LocalStore
from heatmap.stores.memory import MemoryStore
from heatmap.stores.s3 import S3Options, S3Store

__all__ = ["LocalStore", "MemoryStore", "ObjectInfo", "S3Options", "S3Store", "Store", "open_store"]


def open_store(location: str | Location, s3: S3Options | None = None) -> Store:
    loc = parse_location(location) if isinstance(location, str) else location
    if loc.scheme == "s3":
        return S3Store(loc.bucket, loc.prefix, s3 or S3Options())
    return LocalStore(loc.prefix)
