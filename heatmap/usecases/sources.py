"""Opening a source: the engine the settings name, over the source's listing, with the shared parts store."""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from heatmap.caching import LoadOnce
from heatmap.config import Settings
from heatmap.engines import ENGINES
from heatmap.engines.base import Engine
from heatmap.engines.local import load_dataset
from heatmap.errors import HeatmapError, LocationError
from heatmap.ingest.build import list_exports
from heatmap.locations import check_separate, parse_location
from heatmap.stores import open_store
from heatmap.stores.base import ObjectInfo, Store

log = logging.getLogger("heatmap.ingest")


def open_engine(
    name: str,
    source: str,
    settings: Settings,
    cache_dir: str | None,
    progress: Callable[[int, int], None] | None = None,
    dry_run: bool = False,
    objects: Sequence[ObjectInfo] | None = None,
    memory: LoadOnce[Hashable, Any] | None = None,
) -> Engine:
    """The engine `name` over `source`, ready to answer views (`objects`: its export listing, if just made). `dry_run` (Athena): run no query, use cached
    results only (heatmap.engines.athena.NotRun carries the first query that would have run)."""
    store = open_store(source, settings.s3)
    shared = shared_store_for(settings, source)
    if name == "local":
        return load_dataset(
            store, settings.fields, cache_dir, progress, bounds=settings.bounds, shared=shared, objects=objects,
            memory=memory,
        )  # fmt: skip
    objects = list(objects) if objects is not None else list_exports(store)
    if progress:
        progress(len(objects), len(objects))
    if name == "duckdb":
        from heatmap.engines.duckdb_engine import DuckDBEngine

        return _ready(DuckDBEngine(store, objects, settings.fields, settings.bounds, cache_dir, shared))
    if name == "athena":
        from heatmap.engines.athena import AthenaEngine

        location = parse_location(source)
        if location.scheme != "s3":
            raise HeatmapError(f"the athena engine reads exports in S3; {source} is a local folder (use local)")
        return _ready(AthenaEngine(
            location.bucket, location.prefix, objects, settings.fields, settings.bounds, settings.athena, cache_dir,
            dry_run=dry_run, shared=shared, store=store,
        ))  # fmt: skip
    raise HeatmapError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


def _ready(engine: Engine) -> Engine:
    """An engine whose catalog is built: opening a source is where its errors are met and shown."""
    engine.catalog  # noqa: B018 (built on first use)
    return engine


def shared_store_for(settings: Settings, source: str) -> Store | None:
    """The output store that holds shared parts, or None: `shared_store` = on, off or auto (on for S3 outputs).
    Never when the output overlaps the source (the app never writes under the source)."""
    mode = settings.shared_store
    output = parse_location(settings.output)
    if mode == "off" or (mode == "auto" and output.scheme != "s3"):
        return None
    try:
        check_separate(parse_location(source), output)
    except LocationError as exc:
        log.warning("no shared store: %s", exc)
        return None
    return open_store(output, settings.s3)
