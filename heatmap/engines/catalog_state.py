"""What a SQL engine's last catalog counted, kept on disk so that the next one reads only what changed.

A SQL engine learns its catalog from the exports themselves: the GA dates each object holds (coverage), and page
views per page and segment value over the rows that count. Read whole, that is two scans of every export each
time the listing changes, i.e. every morning when the daily run lands (on Athena, billed per byte). The state
keeps each object's coverage, by key, ETag and size (an object never changes under the same ETag), and the page
views together with the (object, GA date) pairs they were counted over. The next catalog then scans the new
objects' folders for their coverage, and the objects whose pairs came or went for the change in page views.
Page views are whole numbers, so adding the new pairs' and subtracting the old ones' is exact.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import heatmap
from heatmap.contract import Bounds
from heatmap.errors import AlreadyExists, StoreError
from heatmap.fields import FieldMap
from heatmap.ingest.parts import write_atomic
from heatmap.readers import gunzip
from heatmap.stores.base import ObjectInfo, Store

log = logging.getLogger("heatmap.engines")

FORMAT = "sql-catalog-3"  # 2: each object's family (its export format's tables); 3: declared templates' page views
SHARED_PREFIX = f"store/{FORMAT}/"
MAX_STATE_BYTES = 256 * 1024**2  # far above any real state: an entry per object, object-day, page and value
MAX_CHANGED_PAIRS = 2_000  # (object, date) pairs a change names; beyond that, counting from scratch is as cheap

Pair = tuple[str, str]  # (object id, YYYYMMDD)
Counts = tuple[int, int]  # (page views, rows)


def object_id(info: ObjectInfo) -> str:
    return f"{info.key}\x1f{info.etag}\x1f{info.size}"


@dataclass
class CatalogState:
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)  # object id -> {YYYYMMDD: rows}
    counted: set[Pair] = field(default_factory=set)  # the pairs `views` counts
    views: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (dimension, value) -> page views, rows
    families: dict[str, str] = field(default_factory=dict)  # object id -> the tables that read it (sql.Family)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "coverage": self.coverage,
                "counted": sorted(self.counted),
                "views": sorted([d, v, n, rows] for (d, v), (n, rows) in self.views.items()),
                "families": self.families,
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> CatalogState:
        raw = json.loads(data)
        if raw.get("format") != FORMAT:
            raise ValueError("another format")
        return cls(
            coverage={str(i): {str(d): int(n) for d, n in days.items()} for i, days in raw["coverage"].items()},
            counted={(str(i), str(d)) for i, d in raw["counted"]},
            views={(str(d), str(v)): (int(n), int(rows)) for d, v, n, rows in raw["views"]},
            families={str(i): str(name) for i, name in raw["families"].items()},
        )


class StateHome:
    """Where a SQL engine's catalog state is kept: a file in the cache folder and, with a shared store, create-only
    copies under `store/sql-catalog-2/<fingerprint>/`, one per listing, so that a server with an empty disk (a
    Community Cloud restart) starts from the newest one instead of reading every export again. A copy that cannot
    be read is a miss, never an answer: the engine then counts from scratch."""

    def __init__(
        self, folder: str | None, shared: Store | None, engine: str, source: str, fields: FieldMap, bounds: Bounds
    ) -> None:
        text = "\x1f".join((heatmap.__version__, FORMAT, engine, source, fields.fingerprint(), bounds.fingerprint()))
        self.fingerprint = hashlib.sha256(text.encode()).hexdigest()
        self.path = Path(folder) / "sql-catalog" / f"{self.fingerprint}.json" if folder else None
        self.shared = shared
        self.loaded: CatalogState | None = None

    @property
    def shared_prefix(self) -> str:
        return f"{SHARED_PREFIX}{self.fingerprint}/"

    def load(self) -> CatalogState | None:
        """The last state, or None when there is none that can be read (then everything is read again)."""
        self.loaded = _parsed(self.path.read_bytes) if self.path is not None else None
        if self.loaded is None and self.shared is not None:
            self.loaded = self._newest_shared()
        return self.loaded

    def save(self, state: CatalogState, listing: Iterable[str]) -> None:
        """Kept locally, and shared once per listing when it differs from what was loaded."""
        data = state.to_json()
        if self.path is not None:
            write_atomic(self.path, data)
        if self.shared is None or state == self.loaded:
            return
        name = hashlib.sha256("\n".join(sorted(listing)).encode()).hexdigest()
        try:
            self.shared.create(f"{self.shared_prefix}{name}.json.gz", gzip.compress(data, mtime=0), "application/gzip")
        except AlreadyExists:
            pass  # another server counted the same listing first
        except StoreError as exc:
            log.warning("the catalog state could not be shared: %s", exc)

    def _newest_shared(self) -> CatalogState | None:
        shared = self.shared
        assert shared is not None
        try:
            found = sorted(shared.list(self.shared_prefix), key=lambda o: (o.last_modified, o.key), reverse=True)
        except StoreError as exc:
            log.warning("shared catalog states could not be listed: %s", exc)
            return None
        for info in found[:3]:  # the newest that can be read

            def read(key: str = info.key) -> bytes:
                return gunzip(shared.read(key), MAX_STATE_BYTES)

            state = _parsed(read)
            if state is not None:
                return state
        return None


def _parsed(read: Callable[[], bytes]) -> CatalogState | None:
    try:
        return CatalogState.from_json(read())
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StoreError, zlib.error):
        return None


def changed_views(state: CatalogState, counted: set[Pair], listed: set[str]) -> list[tuple[str, str, int]] | None:
    """The pairs whose page views must be added (+1) or taken away (-1) to go from the state's count to
    `counted`; None when the change cannot be read from the exports (an object that counted is gone from the
    listing) or is large enough that counting from scratch costs about the same."""
    added, removed = counted - state.counted, state.counted - counted
    if len(added) + len(removed) > MAX_CHANGED_PAIRS or any(i not in listed for i, _day in removed):
        return None
    return [(i, day, 1) for i, day in sorted(added)] + [(i, day, -1) for i, day in sorted(removed)]


def apply(
    views: dict[tuple[str, str], Counts], change: list[tuple[str, str, int, int]]
) -> dict[tuple[str, str], Counts] | None:
    """The counts after a change query's (dimension, value, page views, rows) rows: a value without rows left is
    no longer listed. None when the result cannot be right (below zero, page views without rows): the state no
    longer matches the exports, so they are counted again."""
    result = dict(views)
    for dimension, value, more_views, more_rows in change:
        before = result.get((dimension, value), (0, 0))
        total, rows = before[0] + more_views, before[1] + more_rows
        if total < 0 or rows < 0 or (rows == 0 and total != 0):
            return None
        if rows:
            result[(dimension, value)] = (total, rows)
        else:
            result.pop((dimension, value), None)
    return result
