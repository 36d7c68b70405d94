"""Parts: the on-disk columnar store of the canonical table, one immutable Parquet file per export object.

A part holds the object's canonical rows sorted by page and date, in small row groups with statistics, so a
one-page query reads that page's row groups and skips the rest (docs/engines.md). Its summary (rows and exclusions
per day, sample lines, issues, page views and segment values per day) rides in the Parquet footer, so a
part is one object: the same bytes serve the local disk and the shared copy under `<output>/store/`.

A part's name is a hash of what determines its content (export key, ETag, size, field mapping, bounds,
software version), so it is never rewritten: a new export adds a part, a changed one gets a new name.
An unreadable or partial file is a miss, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

import heatmap
from heatmap.contract import TEMPLATE_FIELD, Bounds
from heatmap.fields import FieldMap
from heatmap.ingest.normalize import Normalized
from heatmap.readers.base import Issue
from heatmap.stores.base import ObjectInfo
from heatmap.templates import UNDECLARED, Template

FORMAT = "parts-6"  # 6: page views per declared template and path
ROW_GROUP_ROWS = 4096  # small groups: a page's rows are a few groups of a daily file, the rest is skipped
SUMMARY_KEY = b"heatmap.summary"


def part_name(info: ObjectInfo, fields: FieldMap, bounds: Bounds) -> str:
    """What determines a part's content. The source URI is left out on purpose: the same export object
    (key + ETag) read through another endpoint is the same part."""
    text = "\x1f".join(
        (heatmap.__version__, FORMAT, info.key, info.etag, str(info.size), fields.fingerprint(), bounds.fingerprint())
    )
    return hashlib.sha256(text.encode()).hexdigest() + ".parquet"


@dataclass
class Summary:
    """Everything the catalog needs from one part, without reading its rows."""

    day_rows: dict[date, int] = field(default_factory=dict)
    excluded: list[tuple[date, str, int]] = field(default_factory=list)
    samples: list[tuple[date, Issue]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    page_views: dict[date, dict[str, int]] = field(default_factory=dict)
    segment_views: dict[date, dict[str, dict[str, int]]] = field(default_factory=dict)
    folded: dict[date, tuple[int, int]] = field(default_factory=dict)  # heatmap events in GA's "(other)", all
    declared_views: dict[date, dict[str, dict[str, int]]] = field(default_factory=dict)  # template -> path -> n

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "day_rows": {d.isoformat(): n for d, n in self.day_rows.items()},
                "excluded": [[d.isoformat(), reason, n] for d, reason, n in self.excluded],
                "samples": [[d.isoformat(), i.file, i.line, i.reason] for d, i in self.samples],
                "issues": [i.to_dict() for i in self.issues],
                "page_views": {d.isoformat(): v for d, v in self.page_views.items()},
                "segment_views": {d.isoformat(): v for d, v in self.segment_views.items()},
                "folded": {d.isoformat(): list(v) for d, v in self.folded.items()},
                "declared_views": {d.isoformat(): v for d, v in self.declared_views.items()},
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Summary:
        raw = json.loads(data)
        day = date.fromisoformat
        return cls(
            day_rows={day(d): int(n) for d, n in raw["day_rows"].items()},
            excluded=[(day(d), str(reason), int(n)) for d, reason, n in raw["excluded"]],
            samples=[(day(d), Issue(file, line, reason)) for d, file, line, reason in raw["samples"]],
            issues=[Issue(**item) for item in raw["issues"]],
            page_views={day(d): v for d, v in raw["page_views"].items()},
            segment_views={day(d): v for d, v in raw["segment_views"].items()},
            folded={day(d): (int(f), int(n)) for d, (f, n) in raw["folded"].items()},
            declared_views={day(d): v for d, v in raw["declared_views"].items()},
        )


def summarize(result: Normalized, segments: tuple[str, ...]) -> Summary:
    """The per-day facts of one normalized object (page views = band-0 dwell events, docs/statistics.md)."""
    views = (
        result.table.lazy()
        .filter((pl.col("event") == "dwell") & (pl.col("band") == 0))
        .select("date", "page", *segments, "events")
    )
    keys = ("page", *segments)
    queries = [views.group_by("date", key).agg(pl.col("events").sum()).drop_nulls(key) for key in keys]
    if TEMPLATE_FIELD in segments:  # page views per declared template and path, in the same pass
        declaring = views.filter(~pl.col(TEMPLATE_FIELD).cast(pl.String).is_in(UNDECLARED))
        queries.append(declaring.group_by("date", TEMPLATE_FIELD, "page").agg(pl.col("events").sum()))
    results = pl.collect_all(queries)
    per_key = results[: len(keys)]
    declaring_sums = results[len(keys)] if len(results) > len(keys) else None
    page_views: dict[date, dict[str, int]] = {}
    segment_views: dict[date, dict[str, dict[str, int]]] = {}
    for key, sums in zip(keys, per_key, strict=True):
        columns = sums["date"].to_list(), sums[key].cast(pl.String).to_list(), sums["events"].to_list()
        for day, value, n in zip(*columns, strict=True):
            if key == "page":
                page_views.setdefault(day, {})[value] = n
            else:
                segment_views.setdefault(day, {}).setdefault(key, {})[value] = n
    declared_views: dict[date, dict[str, dict[str, int]]] = {}
    if declaring_sums is not None:
        text = declaring_sums.cast({TEMPLATE_FIELD: pl.String, "page": pl.String})
        for day, name, path, n in text.iter_rows():
            declared_views.setdefault(day, {}).setdefault(name, {})[path] = n
    return Summary(
        day_rows=dict(result.day_rows.iter_rows()),
        excluded=list(result.excluded.iter_rows()),
        samples=[(d, Issue(file, line, reason)) for d, reason, file, line in result.samples.iter_rows()],
        issues=list(result.issues),
        page_views=page_views,
        segment_views=segment_views,
        folded={d: (f, n) for d, f, n in result.folded.iter_rows()},
        declared_views=declared_views,
    )


def encode(result: Normalized, segments: tuple[str, ...], summary: Summary) -> bytes:
    """One part file: rows sorted by page then date, the summary in the footer. The page is written as a plain
    (dictionary-encoded) string, so row-group statistics answer `page == P` (a scan does not prune on a
    categorical column); segment values stay categories, which are cheaper to write and come back as the
    categories a view wants. Sorted while the page is a category: by its text, and twice as fast."""
    rows = result.table.sort("page", "date").with_columns(pl.col("page").cast(pl.String))
    sink = io.BytesIO()
    rows.write_parquet(
        sink,
        compression="lz4",  # a third faster to write than zstd; parts stay ~3 % of the JSON's size
        statistics=True,
        row_group_size=ROW_GROUP_ROWS,
        metadata={SUMMARY_KEY.decode(): summary.to_json().decode()},
    )
    return sink.getvalue()


def read_summary(path: str | os.PathLike[str] | io.BytesIO) -> Summary | None:
    """The summary in a part's footer; None when the file is missing, partial or not a part."""
    import pyarrow.parquet as pq  # here, not at the top: a cold ingest never needs pyarrow (0.1 s of imports)

    try:
        metadata = pq.read_metadata(path).metadata or {}
        return Summary.from_json(metadata[SUMMARY_KEY])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_atomic(target: Path, data: bytes) -> bool:
    """Written under a temporary name and renamed. Best effort: a full or read-only disk costs speed, never
    correctness. True when stored."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, target)
        return True
    except OSError:
        return False
    finally:
        temporary.unlink(missing_ok=True)


class PartFolder:
    """The local parts on disk, written by rename so a crash never leaves a half file under a part's name."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        return self.folder / name[:2] / name

    def summary(self, name: str) -> Summary | None:
        path = self.path(name)
        return read_summary(path) if path.exists() else None

    def put(self, name: str, data: bytes) -> bool:
        return write_atomic(self.path(name), data)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.rglob("*.parquet")) if self.folder.exists() else 0


def read_rows(
    paths: dict[Path, list[date]],
    page: str | Template | None,
    segments: tuple[str, ...],
    whole: Collection[Path] = (),
) -> pl.DataFrame:
    """One page's canonical rows (a template's paths', every page's with None) from the parts that count, each
    limited to the days
    it wins (de-duplication: only the newest execution's rows count for a GA date), sorted by date. A part in
    `whole` wins every day it holds, so it needs no date filter.

    The parts are read by one lazy scan: a rarely seen page costs the per-file overhead, and one scan opens
    the files concurrently. Row groups without the page are skipped by their statistics; the page column is
    not kept (it is the one value asked for) and strings become categories as they are read, so peak memory
    stays near the result.
    """
    from heatmap.table import schema

    target = schema(segments)
    if isinstance(page, Template):
        on_page = page.polars_condition(declared=TEMPLATE_FIELD if TEMPLATE_FIELD in segments else None)
    else:
        on_page = pl.lit(True) if page is None else pl.col("page") == page
    counted = sorted(((path, days) for path, days in paths.items() if days), key=lambda item: (min(item[1]), item[0]))
    whole = set(whole)
    scans: list[pl.LazyFrame] = []
    run: list[Path] = []  # consecutive whole parts, read by one scan
    for path, days in counted:
        if path in whole:
            run.append(path)
            continue
        if run:
            scans.append(pl.scan_parquet(run).filter(on_page))
            run = []
        scans.append(pl.scan_parquet(path).filter(on_page & pl.col("date").is_in(days)))
    if run:
        scans.append(pl.scan_parquet(run).filter(on_page))
    if not scans:
        return pl.DataFrame(schema=target)
    rows = pl.concat(scans)
    if isinstance(page, str):
        rows = rows.drop("page").with_columns(pl.lit(page).alias("page"))
    frame = rows.select(pl.col(name).cast(dtype) for name, dtype in target.items()).collect()
    return frame if frame["date"].is_sorted() else frame.sort("date", maintain_order=True)


def summary_of(data: bytes) -> Summary | None:
    """The summary of part bytes (e.g. fetched from the shared store), None if they are not a whole part."""
    return read_summary(io.BytesIO(data))
