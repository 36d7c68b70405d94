"""Ingest: list a source's export objects and make sure each has its part, streaming.

Objects are handled one by one, concurrently: a part already on the local disk is reused; else one from the
shared store under `<output>/store/` is copied down (a fresh server does not re-parse months of JSON); else
the object is read, parsed and written as a new part (and shared, create-only). Only the parts' small
summaries stay in memory, so ingest memory follows the largest object, not the source. The catalog is then
assembled and kept as one JSON file per listing, so an unchanged source opens by reading that file alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import polars as pl

import heatmap
from heatmap.contract import Bounds
from heatmap.errors import AlreadyExists, NotFound, StoreError
from heatmap.fields import FieldMap
from heatmap.ingest.catalog import Catalog, assemble
from heatmap.ingest.normalize import normalize
from heatmap.ingest.parts import (
    FORMAT,
    PartFolder,
    Summary,
    encode,
    part_name,
    summarize,
    summary_of,
    write_atomic,
)
from heatmap.readers import Issue, RawBatch, read_export
from heatmap.stores.base import ObjectInfo, Store

log = logging.getLogger("heatmap.ingest")

Progress = Callable[[int, int], None]
NOT_EXPORTS = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".md", ".txt")
SHARED_PREFIX = f"store/{FORMAT}/"


def list_exports(store: Store) -> list[ObjectInfo]:
    return [o for o in store.list() if not o.key.lower().endswith(NOT_EXPORTS) and "/." not in f"/{o.key}"]


def build_catalog(
    store: Store,
    objects: Sequence[ObjectInfo],
    folder: Path,
    fields: FieldMap,
    bounds: Bounds,
    progress: Progress | None = None,
    workers: int | None = None,
    shared: Store | None = None,
) -> tuple[Catalog, PartFolder]:
    """The catalog of `objects` and the folder of their parts under `folder`: read from disk when the listing is
    unchanged, else every object without a part is parsed (or its part copied from `shared`)."""
    objects = list(objects)
    parts = PartFolder(folder / "parts")
    listing = "\n".join(f"{o.key}\x1f{o.etag}\x1f{o.size}" for o in objects)
    key = "\x1f".join((heatmap.__version__, FORMAT, store.uri, fields.fingerprint(), bounds.fingerprint(), listing))
    catalog_path = folder / "catalogs" / f"{hashlib.sha256(key.encode()).hexdigest()}.json"
    catalog = _cached_catalog(catalog_path, objects, parts)
    if catalog is not None:
        if progress:
            progress(len(objects), len(objects))
        return catalog, parts
    summaries = _ingest(store, objects, fields, bounds, parts, shared, progress, workers)
    catalog = assemble(store.uri, objects, summaries, fields.segments)
    write_atomic(catalog_path, catalog.to_json())
    return catalog, parts


def _cached_catalog(path: Path, objects: list[ObjectInfo], parts: PartFolder) -> Catalog | None:
    """The catalog of an unchanged listing, if it and every part it names are still on disk."""
    try:
        catalog = Catalog.from_json(path.read_bytes(), objects)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not all(parts.path(name).exists() for name in catalog.parts):
        return None
    return catalog


def _ingest(
    store: Store,
    objects: list[ObjectInfo],
    fields: FieldMap,
    bounds: Bounds,
    parts: PartFolder,
    shared: Store | None,
    progress: Progress | None,
    workers: int | None,
) -> dict[str, tuple[str, Summary]]:
    keep = set(fields.column_roles())
    shared_names = _shared_names(shared)

    def one(info: ObjectInfo) -> tuple[str, Summary]:
        name = part_name(info, fields, bounds)
        found = parts.summary(name)
        if found is not None:
            return name, found
        if shared is not None and name in shared_names:
            fetched = _fetch_shared(shared, name, parts)
            if fetched is not None:
                return name, fetched
        try:
            data = store.read(info.key)
        except NotFound:
            return name, _failed(info.key, "listed but gone when read", fields, bounds)
        try:
            result = normalize(read_export(data, info.key, keep), info.key, fields, bounds)
            del data
            summary = summarize(result, fields.segments)
            encoded = encode(result, fields.segments, summary)
        except Exception as exc:  # isolation: whatever one object does, the rest of the source still loads
            return name, _failed(
                info.key, f"could not be read ({type(exc).__name__}: {str(exc)[:200]})", fields, bounds
            )
        parts.put(name, encoded)
        if shared is not None and name not in shared_names:
            _share(shared, name, encoded)
        return name, summary

    done: dict[str, tuple[str, Summary]] = {}
    if progress:
        progress(0, len(objects))
    with ThreadPoolExecutor(max_workers=workers or min(4, (os.cpu_count() or 2) * 2)) as pool:
        futures = {pool.submit(one, info): info.key for info in objects}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if progress:
                progress(len(done), len(objects))
    return done


def _failed(key: str, reason: str, fields: FieldMap, bounds: Bounds) -> Summary:
    """A part-less object: its issue is reported, it contributes no rows (and no part is written)."""
    result = normalize(RawBatch(pl.DataFrame(), [Issue(key, None, reason)]), key, fields, bounds)
    return summarize(result, fields.segments)


def _shared_names(shared: Store | None) -> set[str]:
    if shared is None:
        return set()
    try:
        return {info.key.rsplit("/", 1)[-1] for info in shared.list(SHARED_PREFIX)}
    except StoreError as exc:
        log.warning("the shared store could not be listed, parsing exports instead: %s", exc)
        return set()


def _fetch_shared(shared: Store, name: str, parts: PartFolder) -> Summary | None:
    """A part from the shared store, if it is whole; a damaged copy is a miss (the export is parsed)."""
    try:
        data = shared.read(SHARED_PREFIX + name)
    except StoreError as exc:
        log.warning("shared part %s could not be read: %s", name, exc)
        return None
    summary = summary_of(data)
    if summary is not None:
        parts.put(name, data)
    return summary


def _share(shared: Store, name: str, data: bytes) -> None:
    """Create-only, best effort: another server may have shared it first, or the output may be read-only."""
    try:
        shared.create(SHARED_PREFIX + name, data, "application/vnd.apache.parquet")
    except AlreadyExists:
        pass
    except StoreError as exc:
        log.warning("part %s could not be shared: %s", name, exc)
