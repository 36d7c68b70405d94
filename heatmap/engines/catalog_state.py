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

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import heatmap
from heatmap.contract import Bounds
from heatmap.fields import FieldMap
from heatmap.ingest.parts import write_atomic
from heatmap.stores.base import ObjectInfo

FORMAT = "sql-catalog-1"
MAX_CHANGED_PAIRS = 2_000  # (object, date) pairs a change query names; beyond that one full query is simpler

Pair = tuple[str, str]  # (object id, YYYYMMDD)
Counts = tuple[int, int]  # (page views, rows)


def object_id(info: ObjectInfo) -> str:
    return f"{info.key}\x1f{info.etag}\x1f{info.size}"


@dataclass
class CatalogState:
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)  # object id -> {YYYYMMDD: rows}
    counted: set[Pair] = field(default_factory=set)  # the pairs `views` counts
    views: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (dimension, value) -> page views, rows

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "coverage": self.coverage,
                "counted": sorted(self.counted),
                "views": sorted([d, v, n, rows] for (d, v), (n, rows) in self.views.items()),
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
        )


def state_path(folder: str, engine: str, source: str, fields: FieldMap, bounds: Bounds) -> Path:
    """One state per engine, source, field mapping and bounds: each of them changes what is counted."""
    text = "\x1f".join((heatmap.__version__, FORMAT, engine, source, fields.fingerprint(), bounds.fingerprint()))
    return Path(folder) / "sql-catalog" / f"{hashlib.sha256(text.encode()).hexdigest()}.json"


def load(path: Path | None) -> CatalogState | None:
    """The last state, or None when there is none or it cannot be read (then everything is read again)."""
    if path is None:
        return None
    try:
        return CatalogState.from_json(path.read_bytes())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(path: Path | None, state: CatalogState) -> None:
    if path is not None:
        write_atomic(path, state.to_json())


def changed_views(
    state: CatalogState, counted: set[Pair], listed: set[str]
) -> tuple[list[tuple[str, str, int]], set[str]] | None:
    """The pairs whose page views must be added (+1) or taken away (-1) to go from the state's count to
    `counted`, and the object ids they name; None when the change cannot be read from the exports (an object
    that counted is gone from the listing) or is too large to name in one query."""
    added, removed = counted - state.counted, state.counted - counted
    if len(added) + len(removed) > MAX_CHANGED_PAIRS or any(i not in listed for i, _day in removed):
        return None
    signed = [(i, day, 1) for i, day in sorted(added)] + [(i, day, -1) for i, day in sorted(removed)]
    return signed, {i for i, _day, _sign in signed}


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
