"""Engines answer the app and the CLI (DESIGN §13): one small interface (engines/base.py), one module each.

- `local` (default): the exports parsed once into Parquet parts on this machine, read a page at a time;
- `duckdb`: the Athena SQL transpiled and run here over the exports' files (the oracle for the SQL);
- `athena`: one query per view on Amazon Athena over the Glue tables of tracking/athena.yaml, reading only the
  run-date folders that hold the view's winning exports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from heatmap.errors import HeatmapError

if TYPE_CHECKING:
    from heatmap.config import Settings
    from heatmap.engines.base import Engine
    from heatmap.stores.base import ObjectInfo

ENGINES = ("local", "duckdb", "athena")


def open_engine(
    name: str,
    source: str,
    settings: Settings,
    cache_dir: str | None,
    progress: Callable[[int, int], None] | None = None,
    dry_run: bool = False,
    objects: Sequence[ObjectInfo] | None = None,
) -> Engine:
    """The engine `name` over `source`, ready to answer views (`objects`: its export listing, if just made). `dry_run` (Athena): run no query, use cached
    results only (heatmap.engines.athena.NotRun carries the first query that would have run)."""
    from heatmap.ingest.build import list_exports, load_dataset, shared_store_for
    from heatmap.locations import parse_location
    from heatmap.stores import open_store

    store = open_store(source, settings.s3)
    shared = shared_store_for(settings, source)
    if name == "local":
        return load_dataset(
            store, settings.fields, cache_dir, progress, bounds=settings.bounds, shared=shared, objects=objects
        )
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
