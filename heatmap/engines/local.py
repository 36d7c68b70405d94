"""The local engine: the source's parts on this machine's disk, read one page at a time (docs/engines.md).

Memory follows the view: a view reads only its page's row groups from the parts that count, and the last few
pages' rows stay in a bounded LRU (by size), so switching back or changing the segment or the dates costs a
filter over one page, not a read.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from collections.abc import Hashable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from heatmap.caching import LoadOnce
from heatmap.contract import Bounds
from heatmap.engines.base import Page, Where
from heatmap.errors import DataError, StoreError
from heatmap.fields import FieldMap
from heatmap.ingest.build import Progress, build_catalog, list_exports
from heatmap.ingest.catalog import Catalog
from heatmap.ingest.parts import PartFolder, read_rows
from heatmap.query import resolve_dimension
from heatmap.stores.base import ObjectInfo, Store
from heatmap.table import ViewSums, view_sums

PAGE_CACHE_BYTES = 384 * 1024**2


class LocalEngine:
    name = "local"

    def __init__(
        self,
        catalog: Catalog,
        parts: PartFolder,
        page_cache_bytes: int = PAGE_CACHE_BYTES,
        memory: LoadOnce[Hashable, Any] | None = None,
    ) -> None:
        """`memory`: a cache shared with the rest of the process (the app's one budget) instead of its own."""
        self.catalog = catalog
        self.parts = parts
        self.pages: LoadOnce[Any, pl.DataFrame] = (
            memory if memory is not None else LoadOnce(page_cache_bytes, pl.DataFrame.estimated_size)
        )
        self._shared = memory is not None
        self._token = object()  # this engine's pages in a shared cache: a reloaded source never sees another's

    def view(self, page: Page, start: date, end: date, where: Where | None = None) -> ViewSums:
        return view_sums(self._selection(page, start, end, where))

    def rows(self, page: Page, start: date, end: date, where: Where | None = None) -> pl.DataFrame:
        """The canonical rows of one view (the page's cached rows, filtered by dates and segment)."""
        return self._selection(page, start, end, where).collect()

    def _selection(self, page: Page, start: date, end: date, where: Where | None) -> pl.LazyFrame:
        """A view's rows, lazily: the date range is a slice of the cached page (sorted by date, two binary
        searches) and the segment a filter on the categories themselves, fused with the sums that follow, so
        a segment change on a busy page reads only the columns it sums (no strings are made)."""
        if start > end:
            raise DataError(f"the date range is reversed: {start} is after {end}")
        conditions = [
            pl.col(resolve_dimension(self.catalog.segments, name)).is_in(list(values))
            for name, values in (where or {}).items()
            if values
        ]
        rows = self.page_rows(page)
        first = int(rows["date"].search_sorted(start, side="left"))
        last = int(rows["date"].search_sorted(end, side="right"))
        selected = rows.slice(first, last - first).lazy()
        return selected.filter(*conditions) if conditions else selected

    def page_rows(self, page: Page) -> pl.DataFrame:
        """Every counted row of `page` (a template: of its paths), sorted by date; read once (two sessions
        opening it read it once), then kept while it is among the recent."""
        key: Hashable = ("page", self._token, page) if self._shared else page
        return self.pages.get_or_load(key, lambda: self._read(page))

    def _read(self, page: Page | None) -> pl.DataFrame:
        paths: dict[Path, list[date]] = {self.parts.path(name): days for name, days in self.catalog.parts.items()}
        whole = [self.parts.path(name) for name in self.catalog.parts if name not in self.catalog.partial]
        try:
            return read_rows(paths, page, self.catalog.segments, whole)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise StoreError(
                f"the local store under {self.parts.folder} is damaged or was removed ({str(exc).splitlines()[0]}); "
                "press 'Reload data' (or run the command again) to rebuild it"
            ) from None


def load_dataset(
    store: Store,
    fields: FieldMap | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    bounds: Bounds | None = None,
    shared: Store | None = None,
    objects: Sequence[ObjectInfo] | None = None,
    memory: LoadOnce[Hashable, Any] | None = None,
) -> LocalEngine:
    """The source behind `store`, ready to answer views. Without `cache_dir` the parts live in a temporary
    folder for the life of the returned engine (tests, one-off commands). `objects`: the export listing when the
    caller has just made it (a source is listed once per load)."""
    objects = list(objects) if objects is not None else list_exports(store)
    folder, owned = (Path(cache_dir), False) if cache_dir else (Path(tempfile.mkdtemp(prefix="heatmap-parts-")), True)
    catalog, parts = build_catalog(
        store, objects, folder, fields or FieldMap(), bounds or Bounds(), progress, workers, shared
    )
    engine = LocalEngine(catalog, parts, memory=memory)
    if owned:
        weakref.finalize(engine, shutil.rmtree, folder, True)
    return engine
