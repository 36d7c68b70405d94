"""Streamlit glue for data: cached stores, the engine registry, screenshots by sha256.

Caching rules (docs/performance.md):
- stores (boto3 clients inside) are process-wide resources, one per (location, S3 options);
- the export listing is cached for LISTING_TTL seconds, so reruns (a segment change) never touch S3;
- the source's engine (its catalog, plus the last few pages' rows) is kept in a small process-wide registry
  keyed on (source, field mapping, bounds, [(key, etag), ...]): a new AppFlow export changes the listing and so
  the key; an unchanged listing is never re-read. The registry is not `st.cache_data` on purpose: ingest
  reports progress to the calling page, and an engine must not be pickled and copied on every rerun;
- screenshots are content-addressed, so bytes cached by sha256 can never go stale.
"""

from __future__ import annotations

import hashlib
import logging
import os
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import streamlit as st

from heatmap.caching import LoadOnce, memory
from heatmap.config import DEFAULT_HOME, Settings
from heatmap.errors import NotFound, StoreError
from heatmap.stores import S3Options, Store, open_store
from heatmap.stores.base import ObjectInfo

log = logging.getLogger("heatmap.ui")

LISTING_TTL = 600  # seconds
MAX_ENGINES = 2  # Community Cloud memory: at most the current and the previous version of a source
SHOT_EXTS = ("png", "jpg", "webp")


@st.cache_resource(show_spinner=False, max_entries=8)
def store_for(uri: str, s3: S3Options) -> Store:
    return open_store(uri, s3)


@st.cache_resource(show_spinner=False, max_entries=2)
def demo_folder(folder: str) -> str:
    """Write the bundled demo (exports + screenshots) once per process; returns its folder."""
    from heatmap.demo import ensure_demo

    return str(ensure_demo(folder))


def demo_dir(settings: Settings) -> str:
    """The demo folder, shared with the CLI: $HEATMAP_HOME/demo (read now, so tests can point it elsewhere)."""
    return str(Path(os.environ.get("HEATMAP_HOME") or DEFAULT_HOME) / "demo")


def source_uri(settings: Settings, progress_text: str = "") -> str:
    """The source location: the configured one, or the demo folder (generated on first use)."""
    if settings.source:
        return settings.source
    folder = demo_dir(settings)
    if not (Path(folder) / ".complete").exists():
        with st.spinner(progress_text or "…"):
            return demo_folder(folder)
    return demo_folder(folder)


@st.cache_data(ttl=LISTING_TTL, show_spinner=False, max_entries=8)
def export_listing(uri: str, s3: S3Options) -> tuple[ObjectInfo, ...]:
    """Every export object; cached for LISTING_TTL so reruns do not list S3 again, and handed to the engine so a
    fresh load lists the source once."""
    from heatmap.ingest.build import list_exports

    return tuple(list_exports(store_for(uri, s3)))


@st.cache_resource(show_spinner=False)
def _registry() -> LoadOnce[str, object]:
    """The loaded engines of this server, shared by its sessions (two opening the app at once load it once)."""
    return LoadOnce(MAX_ENGINES)


def engine_key(uri: str, settings: Settings, listing: tuple[ObjectInfo, ...]) -> str:
    fingerprints = (settings.engine, settings.fields.fingerprint(), settings.bounds.fingerprint())
    text = "\x1f".join((uri, *fingerprints, *(f"{o.key}\x1e{o.etag}" for o in listing)))
    return hashlib.sha256(text.encode()).hexdigest()


def cached_engine(key: str) -> object | None:
    return _registry().get(key)


def load(uri: str, settings: Settings, progress: Callable[[int, int], None] | None = None) -> object:
    """The engine of `uri`, from the registry when the export listing is unchanged, else loaded now."""
    from heatmap.usecases.sources import open_engine

    listing = export_listing(uri, settings.s3)
    return _registry().get_or_load(
        engine_key(uri, settings, listing),
        lambda: open_engine(
            settings.engine, uri, settings, settings.cache_dir, progress, objects=listing, memory=memory()
        ),
    )


_DERIVED: LoadOnce[tuple[int, Hashable], tuple[weakref.ref[object], Any]] = LoadOnce(8 * MAX_ENGINES)


def derived(engine: object, name: Hashable, build: Callable[[], Any]) -> Any:
    """Something computed once per loaded engine (widget options). It holds the engine weakly: an engine the
    registry let go is freed, and a new one that gets its id is not answered with the old one's values."""
    key = (id(engine), name)
    found = _DERIVED.get(key)
    if found is not None and found[0]() is not engine:
        _DERIVED.clear()
    return _DERIVED.get_or_load(key, lambda: (weakref.ref(engine), build()))[1]


def forget_listing() -> None:
    """'Reload data': list the source again, with a new store and a new engine, on the next run: a source that
    failed and was fixed (a folder restored, credentials rotated) is not answered by the same failing objects.
    What was parsed or counted stays on disk, so this costs a listing, not a re-read."""
    export_listing.clear()
    store_for.clear()
    _registry().clear()
    _DERIVED.clear()


# --- screenshots --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredShot:
    sha: str
    key: str
    size: int
    when: datetime | None
    captured: bool = False  # taken by Capture from the site (its record is captures/<sha256>.json)


@st.cache_data(ttl=60, show_spinner=False, max_entries=16)
def stored_shots(output_uri: str, s3: S3Options) -> list[StoredShot]:
    """Screenshots in the output store (`screenshots/<sha256>.<ext>`), newest first. Empty when none."""
    store = store_for(output_uri, s3)
    try:
        objects = list(store.list("screenshots/"))
        captures = {info.key.rsplit("/", 1)[-1].removesuffix(".json") for info in store.list("captures/")}
    except StoreError as exc:
        log.info("listing screenshots in %s failed: %s", output_uri, exc)
        return []
    found = []
    for info in objects:
        name = info.key.rsplit("/", 1)[-1]
        sha, _, ext = name.partition(".")
        if len(sha) == 64 and ext in SHOT_EXTS:
            found.append(StoredShot(sha, info.key, info.size, info.last_modified, sha in captures))
    found.sort(key=lambda s: (s.when or datetime.min).timestamp() if s.when else 0.0, reverse=True)
    return found


@st.cache_data(show_spinner=False, max_entries=2)
def demo_shots(folder: str) -> dict[str, str]:
    """sha256 -> file name of each bundled demo screenshot (page + device)."""
    shots = {}
    root = Path(folder) / "screenshots"
    if root.is_dir():
        for path in sorted(root.glob("*.png")):
            shots[hashlib.sha256(path.read_bytes()).hexdigest()] = path.name
    return shots


def shot_bytes(sha: str, output_uri: str, s3: S3Options, demo: str | None) -> bytes | None:
    """The bytes of screenshot `sha` from the output store, else from the demo folder; None if nowhere.
    (Not cached itself: callers cache the decoded picture by sha, which is what reruns need.)"""
    try:
        for info in store_for(output_uri, s3).list(f"screenshots/{sha}."):
            data = store_for(output_uri, s3).read(info.key)
            if hashlib.sha256(data).hexdigest() == sha:
                return data
    except NotFound:
        pass
    except StoreError as exc:
        log.info("reading screenshot %s from %s failed: %s", sha, output_uri, exc)
    if demo:
        name = demo_shots(demo).get(sha)
        if name:
            return (Path(demo) / "screenshots" / name).read_bytes()
    return None


def store_shot(output_uri: str, s3: S3Options, key: str, data: bytes, content_type: str) -> bool:
    """Create `key` in the output store unless it is already there. True if it is there now."""
    import contextlib

    from heatmap.errors import AlreadyExists

    store = store_for(output_uri, s3)
    with contextlib.suppress(AlreadyExists):  # content-addressed: already there means the same picture
        store.create(key, data, content_type)
    stored_shots.clear()
    return True


def check_output(source: str, output: str) -> None:
    """Refuse to write when the output is the source, inside it, or contains it (docs/architecture.md, docs/storage.md)."""
    from heatmap.locations import check_separate, parse_location

    check_separate(parse_location(source), parse_location(output))
