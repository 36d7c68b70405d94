"""Saved runs: every save is a set of NEW objects in the output store; nothing is ever overwritten (docs/storage.md).

Layout (keys relative to the output store):

    runs/YYYY/MM/DD/<run id>/heatmap.png   the exported map, legend burned in
    runs/YYYY/MM/DD/<run id>/bands.csv     per-band statistics
    runs/YYYY/MM/DD/<run id>/clicks.csv    raw click counts (click maps only)
    runs/YYYY/MM/DD/<run id>/run.json      every parameter, inputs, version, statistics — written LAST
    screenshots/<sha256>.<ext>             the screenshot, content-addressed: stored once, shared by runs
    captures/<sha256>.json                 a captured screenshot's URL, width, pixel ratio, time and browser

A run id is `YYYYMMDDTHHMMSS.mmmZ-<8 hex>` (UTC creation time + random suffix), so ids sort by time and
the day folder is derivable from the id. A run is listed only once its run.json exists, so a save that failed
half-way never shows up (its other objects stay, unreferenced: nothing here deletes).
The output is checked against the source before the first write: an output inside the source (or
containing it) is refused and nothing is written.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

from PIL import Image

import heatmap
from heatmap.capture import provenance as capture_provenance
from heatmap.drawing.encode import thumbnail_jpeg
from heatmap.drawing.render import Alignment, Display
from heatmap.errors import AlreadyExists, HeatmapError, NotFound, StoreError
from heatmap.images import PictureFile
from heatmap.locations import Location, check_separate, parse_location
from heatmap.statistics.metrics import BandTable, ClickGrid
from heatmap.stores.base import Store

RUNS_PREFIX = "runs/"
RUN_FILE = "run.json"
THUMBNAIL_FILE = "thumbnail.jpg"
RUN_ID = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{6})\.(\d{3})Z-([0-9a-f]{8})$")
_ATTEMPTS = 3


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z-{secrets.token_hex(4)}"


def is_run_id(text: str) -> bool:
    return bool(RUN_ID.match(text or ""))


def run_prefix(run_id: str) -> str:
    """`runs/YYYY/MM/DD/<run id>/` for a valid id; NotFound for anything else (ids come from links)."""
    match = RUN_ID.match(run_id or "")
    if not match:
        raise NotFound(f"{run_id!r} is not a saved-run id (expected e.g. 20250131T120000.000Z-0a1b2c3d)")
    year, month, day = match.group(1), match.group(2), match.group(3)
    return f"{RUNS_PREFIX}{year}/{month}/{day}/{run_id}/"


@dataclass(frozen=True)
class RunParams:
    """What defines the view that was saved."""

    page: str
    start: date | str
    end: date | str
    where: Mapping[str, Sequence[str]] = field(default_factory=dict)
    display: Display = field(default_factory=Display)
    alignment: Alignment = field(default_factory=Alignment)
    view: Mapping[str, Any] = field(default_factory=dict)  # the link parameters that reopen this view (UI)
    name: str = ""  # what the designer calls it ("Pricing, mobile, after the redesign"); cut to MAX_NAME_CHARS
    note: str = ""  # why it was saved, what to look at; cut to MAX_NOTE_CHARS


MAX_NAME_CHARS = 120
MAX_NOTE_CHARS = 2_000


@dataclass(frozen=True)
class RunRecord:
    """The content of run.json. Loading it back gives a record equal to the one `save_run` returned."""

    run_id: str
    created: str  # ISO 8601, UTC
    version: str  # heatmap.__version__ that made the run
    source: str
    output: str
    page: str
    start: str
    end: str
    where: dict[str, list[str]]
    heatmap_type: str
    display: dict[str, Any]
    alignment: dict[str, Any]
    view: dict[str, Any]
    exports: list[dict[str, Any]]  # export objects that went in: key, etag, size, ... as the caller gave them
    screenshot: dict[str, Any] | None  # sha256, key, format, width, height; capture (heatmap.capture) if captured
    statistics: dict[str, Any]  # page_views, bands (CLI `bands` shape), reach depths, fold, clicks
    warnings: list[str]
    objects: list[str]  # every key of this run, run.json last
    name: str = ""  # runs saved before names existed have none
    note: str = ""

    @property
    def prefix(self) -> str:
        return run_prefix(self.run_id)

    @property
    def png_key(self) -> str:
        return self.prefix + "heatmap.png"

    @property
    def thumbnail_key(self) -> str:
        """Runs saved before thumbnails existed have none: readers treat a missing one as no picture."""
        return self.prefix + THUMBNAIL_FILE

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> RunRecord:
        try:
            raw = json.loads(data)
            known = {f.name for f in fields(cls)}
            return cls(**{k: v for k, v in raw.items() if k in known})
        except (ValueError, TypeError) as exc:
            raise StoreError(f"run.json is not a valid run record: {exc}") from None


def _plain(value: Any) -> Any:
    """JSON-safe copy: dates as ISO strings, tuples as lists, so a loaded record equals the saved one."""
    return json.loads(json.dumps(value, default=_default, allow_nan=False))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _location(value: str | Location) -> Location:
    return parse_location(value) if isinstance(value, str) else value


def _statistics(bands: BandTable, clicks: ClickGrid | None) -> dict[str, Any]:
    stats = bands.to_json_dict()
    stats["reach_depths_px"] = [{"level": level, "px": px} for level, px in bands.reach_depths().items()]
    stats["fold_px"] = bands.fold_px
    stats["data_height_px"] = bands.data_height_px
    stats["band_height_px"] = bands.band_height_px
    if clicks is not None:
        stats["clicks"] = clicks.total
    return stats


def _thumbnail(png: bytes) -> bytes | None:
    """Best effort: a run is complete without its thumbnail, so a picture Pillow cannot read gets none."""
    try:
        return thumbnail_jpeg(png)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def save_run(
    store: Store,
    source: str | Location,
    params: RunParams,
    png: bytes,
    bands: BandTable,
    *,
    screenshot: PictureFile | None = None,
    clicks: ClickGrid | None = None,
    exports: Sequence[Mapping[str, Any]] = (),
    warnings: Sequence[str] = (),
    output: str | Location | None = None,
    now: datetime | None = None,
    thumbnail: bytes | None = None,
) -> RunRecord:
    """Write a run as new objects and return its record. The output location is `output` or the store's URI.
    `thumbnail`: the run list's JPEG when the caller made it from the rendered image; else it is made from `png`.

    Raises LocationError (before any write) when the output is the source, inside it or contains it.
    """
    output_location = _location(output if output is not None else store.uri)
    source_location = _location(source)
    check_separate(source_location, output_location)

    shot_info: dict[str, Any] | None = None
    if screenshot is not None:
        shot_info = {
            "sha256": screenshot.sha256,
            "key": screenshot.key,
            "format": screenshot.format,
            "width": screenshot.width,
            "height": screenshot.height,
        }
        captured = capture_provenance(store, screenshot.sha256)  # a capture records where and how it was taken
        if captured is not None:
            shot_info["capture"] = captured
        with contextlib.suppress(AlreadyExists):  # content-addressed: already stored = the same picture
            if not _holds(store, screenshot.key):  # then its bytes need not be read (the app reads them when asked)
                store.create(screenshot.key, screenshot.data, screenshot.content_type)

    files: list[tuple[str, bytes, str]] = [("heatmap.png", png, "image/png"), ("bands.csv", bands.to_csv(), "text/csv")]
    if thumbnail := thumbnail or _thumbnail(png):
        files.append((THUMBNAIL_FILE, thumbnail, "image/jpeg"))
    if clicks is not None:
        files.append(("clicks.csv", clicks.to_csv(), "text/csv"))

    moment = (now or datetime.now(UTC)).astimezone(UTC)
    for attempt in range(_ATTEMPTS):
        run_id = new_run_id(moment)
        prefix = run_prefix(run_id)
        try:
            store.create(prefix + files[0][0], files[0][1], files[0][2])  # a taken id fails here, before the rest
            break
        except AlreadyExists:
            if attempt == _ATTEMPTS - 1:
                raise
    for name, data, content_type in files[1:]:
        store.create(prefix + name, data, content_type)

    objects = [prefix + name for name, _, _ in files]
    if shot_info is not None:
        objects.append(shot_info["key"])
    objects.append(prefix + RUN_FILE)
    record = RunRecord(
        run_id=run_id,
        created=moment.isoformat(),
        version=heatmap.__version__,
        source=source_location.uri,
        output=output_location.uri,
        page=params.page,
        start=_plain(params.start),
        end=_plain(params.end),
        where={str(k): [str(v) for v in values] for k, values in params.where.items()},
        heatmap_type=params.display.kind,
        display=_plain(asdict(params.display)),
        alignment=_plain(asdict(params.alignment)),
        view=_plain(dict(params.view)),
        exports=_plain([dict(e) for e in exports]),
        screenshot=shot_info,
        statistics=_plain(_statistics(bands, clicks)),
        warnings=[str(w) for w in warnings],
        objects=objects,
        name=" ".join(str(params.name).split())[:MAX_NAME_CHARS],
        note=str(params.note).strip()[:MAX_NOTE_CHARS],
    )
    record = RunRecord.from_json(record.to_json())  # exactly what a later load returns
    store.create(prefix + RUN_FILE, record.to_json(), "application/json")
    return record


def load_run(store: Store, run_id: str) -> RunRecord:
    """The record of a saved run; NotFound if there is no such (complete) run."""
    key = run_prefix(run_id) + RUN_FILE
    try:
        data = store.read(key)
    except NotFound:
        raise NotFound(f"no saved run {run_id} in {store.uri}") from None
    return RunRecord.from_json(data)


def run_ids(store: Store) -> list[str]:
    """Ids of complete runs (those with a run.json), newest first."""
    ids = []
    for info in store.list(RUNS_PREFIX):
        parts = info.key.split("/")
        # runs/YYYY/MM/DD/<id>/run.json
        if (
            len(parts) == 6
            and parts[5] == RUN_FILE
            and is_run_id(parts[4])
            and run_prefix(parts[4]) == "/".join(parts[:5]) + "/"
        ):
            ids.append(parts[4])
    return sorted(ids, reverse=True)


@dataclass(frozen=True)
class RunList:
    runs: list[RunRecord]
    next_before: str | None  # pass as `before` for the next page; None when there is no more


def list_runs(store: Store, page: str | None = None, limit: int = 20, before: str | None = None) -> RunList:
    """Complete runs newest first, optionally only for one page; `before` = a run id to continue after."""
    limit = max(1, limit)
    found: list[RunRecord] = []
    candidates = [rid for rid in run_ids(store) if before is None or rid < before]
    for index, rid in enumerate(candidates):
        try:
            record = load_run(store, rid)
        except (NotFound, StoreError):
            continue
        if page is not None and record.page != page:
            continue
        found.append(record)
        if len(found) == limit:
            more = index + 1 < len(candidates)
            return RunList(found, rid if more else None)
    return RunList(found, None)


def _holds(store: Store, key: str) -> bool:
    try:
        return any(info.key == key for info in store.list(key))
    except HeatmapError:  # an output folder not made yet holds nothing; a real failure shows on the write
        return False
