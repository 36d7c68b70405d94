"""Capture the page from its URL (docs/capture.md): the backdrop at the layout's CSS width, aligned by
construction, stored content-addressed beside uploads with where and how it was taken.

`allow` checks every address a capture may reach, `proxy` is the guard every request of its browser goes
through, `page` drives the browser. This module ties them to the settings and the output store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from heatmap.capture.allow import Allowlist, Refused, parse_allowlist
from heatmap.capture.page import Captured, CaptureError, Limits, Request, capture
from heatmap.errors import AlreadyExists, ConfigError, StoreError
from heatmap.images import screenshot_key
from heatmap.stores.base import Store

__all__ = ["CaptureError", "CaptureSettings", "Captured", "Refused", "Stored", "capture_and_store", "provenance"]

CAPTURES_PREFIX = "captures/"


@dataclass(frozen=True)
class CaptureSettings:
    """The capture settings of docs/capture.md (environment or `[heatmap]`), and `[capture_headers]` of secrets."""

    hosts: Allowlist = field(default_factory=Allowlist)
    site_url: str | None = None  # where page paths live: https://www.example.com
    hide: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)

    @property
    def enabled(self) -> bool:
        return bool(self.hosts)

    def url_of(self, page: str) -> str:
        """The URL of a page path on the site; a full URL stays itself."""
        if urlsplit(page).scheme:
            return page
        if not self.site_url:
            raise ConfigError("set HEATMAP_SITE_URL (e.g. https://www.example.com) to capture pages by their path")
        return urljoin(self.site_url.rstrip("/") + "/", page.lstrip("/"))

    @classmethod
    def parse(cls, pick: Any, headers: Mapping[str, Any] | None) -> CaptureSettings:
        """From the settings' `pick(name, default)` (environment first, then `[heatmap]`)."""
        hide = pick("capture_hide")
        limits = Limits(
            max_height_css=int(pick("capture_max_height", Limits.max_height_css)),
            timeout_s=float(pick("capture_timeout_seconds", Limits.timeout_s)),
            max_mb=float(pick("capture_max_mb", Limits.max_mb)),
            concurrent=max(1, int(pick("capture_concurrent", Limits.concurrent))),
        )
        return cls(
            hosts=parse_allowlist(pick("capture_hosts")),
            site_url=pick("site_url"),
            hide=tuple(s.strip() for s in str(hide).split(",") if s.strip()) if hide else (),
            headers={str(k): str(v) for k, v in (headers or {}).items()},
            limits=limits,
        )


@dataclass(frozen=True)
class Stored:
    key: str  # screenshots/<sha256>.png
    sha256: str
    captured: Captured


def capture_and_store(settings: CaptureSettings, url: str, css_width: int, dpr: int, store: Store) -> Stored:
    """Capture `url` and store it create-only: `screenshots/<sha256>.png` (as uploads are) and
    `captures/<sha256>.json` (its URL, width, pixel ratio, time, browser). Raises Refused or CaptureError."""
    captured = capture(Request(url, css_width, dpr, settings.hide, settings.headers), settings.hosts, settings.limits)
    sha = hashlib.sha256(captured.png).hexdigest()
    key = screenshot_key(sha, "png")
    for name, data, kind in (
        (key, captured.png, "image/png"),
        (f"{CAPTURES_PREFIX}{sha}.json", json.dumps(captured.provenance(), indent=2).encode(), "application/json"),
    ):
        with contextlib.suppress(AlreadyExists):  # content-addressed: the same picture was captured before
            store.create(name, data, kind)
    return Stored(key, sha, captured)


def provenance(store: Store, sha: str) -> dict[str, Any] | None:
    """What a stored capture recorded, or None for a screenshot that was uploaded (or unreadable)."""
    try:
        data = store.read(f"{CAPTURES_PREFIX}{sha}.json")
    except StoreError:  # not found or unreadable: the screenshot simply has no capture record
        return None
    try:
        found = json.loads(data)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
