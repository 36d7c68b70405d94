"""Capturing a page in headless Chromium (Playwright driving Debian's `chromium`, never a downloaded browser):
at the layout's CSS width and a device pixel ratio, scrolled through so lazy content loads, fonts and network
quiet, chosen selectors hidden, fixed and sticky elements pinned where they sit at the top, and the full page
taken in slices up to the height limit. Every request goes through the guard proxy (heatmap.capture.proxy).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from heatmap.caching import picture_work
from heatmap.capture.allow import Allowlist, Refused, Resolver
from heatmap.capture.proxy import REFUSED_HEADER, Guard, running
from heatmap.errors import HeatmapError

SLICE_CSS_PX = 2000  # the full page is taken in slices this tall: a tall page is never one huge texture
VIEWPORT_HEIGHT = 900
CHROMIUM_FLAGS = (
    "--headless", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-domain-reliability",
    "--proxy-bypass-list=<-loopback>",  # loopback too goes through the guard
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp", "--hide-scrollbars",
)  # fmt: skip

_PIN = """() => {
  // Fixed and sticky elements where they sit at the top, once: not repeated or floating in a full-page picture.
  let pinned = 0;
  for (const el of document.querySelectorAll('body *')) {
    const style = getComputedStyle(el);
    if (style.display === 'none') continue;
    if (style.position === 'sticky') { el.style.setProperty('position', 'relative', 'important'); el.style.setProperty('top', '0', 'important'); pinned++; continue; }
    if (style.position !== 'fixed') continue;
    const was = el.getBoundingClientRect();
    const set = (k, v) => el.style.setProperty(k, v, 'important');
    set('position', 'absolute'); set('bottom', 'auto'); set('right', 'auto');
    set('width', was.width + 'px'); set('height', was.height + 'px');
    set('top', was.top + 'px'); set('left', was.left + 'px');
    const now = el.getBoundingClientRect();
    set('top', (was.top + (was.top - now.top)) + 'px'); set('left', (was.left + (was.left - now.left)) + 'px');
    pinned++;
  }
  return pinned;
}"""

_SCROLL_THROUGH = """async ([limit, step]) => {
  // Down the page a screen at a time (lazy images and infinite lists load as they come into view), then back.
  const pause = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let y = 0; y < Math.min(limit, document.documentElement.scrollHeight); y += step) {
    window.scrollTo(0, y);
    await pause(120);
  }
  window.scrollTo(0, 0);
  await pause(120);
  if (document.fonts && document.fonts.ready) await document.fonts.ready;
  const waiting = Array.from(document.images).filter((i) => !i.complete);
  await Promise.race([
    Promise.all(waiting.map((i) => new Promise((r) => { i.onload = i.onerror = r; }))),
    pause(5000),
  ]);
  return document.documentElement.scrollHeight;
}"""


@dataclass(frozen=True)
class Limits:
    """What one capture may cost (configurable, docs/capture.md)."""

    max_height_css: int = 20_000  # the picture is cut here (said so)
    max_pixels: int = 60_000_000  # width × height × dpr²: the picture's memory (3 bytes a pixel) stays bounded
    timeout_s: float = 60.0
    max_mb: float = 50.0  # bytes the page may download
    concurrent: int = 1  # captures at once in this process; more wait, then are refused


@dataclass(frozen=True)
class Request:
    url: str
    css_width: int
    dpr: int = 1
    hide: tuple[str, ...] = ()  # CSS selectors removed before the picture (cookie banners, chat widgets)
    headers: Mapping[str, str] = field(default_factory=dict)  # sent to the allowed hosts (pages behind a login)


@dataclass(frozen=True)
class Captured:
    png: bytes
    url: str  # where the browser ended (after redirects)
    css_width: int
    dpr: int
    css_height: int  # of the picture: the page's, or the limit
    page_height: int  # of the page, CSS px
    browser: str
    when: datetime
    pinned: int  # fixed and sticky elements pinned at the top
    refused: tuple[str, ...] = ()  # why the page's requests to other hosts were refused (images, trackers...)

    @property
    def cut(self) -> bool:
        return self.css_height < self.page_height

    def provenance(self) -> dict[str, Any]:
        """What a stored capture and a saved run record of it."""
        return {
            "url": self.url, "css_width": self.css_width, "dpr": self.dpr, "css_height": self.css_height,
            "page_height": self.page_height, "browser": self.browser, "captured_at": self.when.isoformat(),
            "pinned": self.pinned, "refused": list(self.refused),
        }  # fmt: skip


class CaptureError(HeatmapError):
    """A capture that did not happen, with one sentence (`str(exc)`)."""


_slots: dict[int, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def _slot(concurrent: int) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots.setdefault(concurrent, threading.BoundedSemaphore(concurrent))


def chromium_path() -> str:
    """Debian's chromium (HEATMAP_CHROMIUM to point elsewhere); CaptureError when there is none."""
    found = os.environ.get("HEATMAP_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found or not os.path.exists(found):
        raise CaptureError("no Chromium on this server: install Debian's chromium package (packages.txt does on Cloud)")
    return found


def capture(request: Request, allow: Allowlist, limits: Limits = Limits(), resolve: Resolver | None = None) -> Captured:
    """The page at `request.url` as a PNG. Raises Refused (the URL or where it led is not allowed) or CaptureError
    (no browser, too busy, too slow, too big), each one sentence."""
    if request.dpr not in (1, 2):
        raise CaptureError("the pixel ratio is 1 or 2")
    if not 200 <= request.css_width <= 4000:
        raise CaptureError("the CSS width is from 200 to 4,000 px")
    for selector in request.hide:
        if any(c in selector for c in "{}<") or len(selector) > 200:
            raise CaptureError(f"{selector[:60]!r} is not a CSS selector to hide")
    allow.check_url(request.url)  # refused before a browser starts
    slot = _slot(limits.concurrent)
    if not slot.acquire(timeout=min(30.0, limits.timeout_s)):
        raise CaptureError(f"{limits.concurrent} capture(s) already running on this server; try again in a minute")
    try:
        guard = Guard(allow, int(limits.max_mb * 1e6), resolve)
        with running(guard) as proxy:
            return _capture(request, limits, guard, proxy)
    finally:
        slot.release()


def _capture(request: Request, limits: Limits, guard: Guard, proxy: str) -> Captured:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    deadline = time.monotonic() + limits.timeout_s
    max_height = min(limits.max_height_css, limits.max_pixels // (request.css_width * request.dpr**2))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium_path(),
                args=[*CHROMIUM_FLAGS, *sandbox_flags(), f"--proxy-server={proxy}"],
                chromium_sandbox=not _as_root(),
            )
            try:
                context = browser.new_context(
                    viewport={"width": request.css_width, "height": VIEWPORT_HEIGHT},
                    device_scale_factor=request.dpr,
                    service_workers="block",
                    accept_downloads=False,
                    extra_http_headers=dict(request.headers),
                )
                page = context.new_page()
                asked: set[str] = set()  # hosts the page asked for (the browser's own requests are not reported)
                page.on("request", lambda r: asked.add(urlsplit(r.url).hostname or ""))
                page.set_default_timeout(max(1.0, deadline - time.monotonic()) * 1000)
                response = page.goto(request.url, wait_until="commit")
                refused = response.headers.get(REFUSED_HEADER.lower()) if response is not None else None
                if guard.over_limit:
                    raise CaptureError(_over(guard))
                if refused:
                    raise Refused(refused)
                if response is None or not response.ok:
                    status = response.status if response is not None else "no"
                    raise CaptureError(f"the page answered {status}, not a page to capture")
                _loaded(page, guard, deadline)
                with contextlib.suppress(PlaywrightError):
                    page.wait_for_load_state(
                        "networkidle", timeout=max(1.0, min(10.0, deadline - time.monotonic())) * 1000
                    )
                page_height = int(page.evaluate(_SCROLL_THROUGH, [max_height, VIEWPORT_HEIGHT * 4 // 5]))
                with contextlib.suppress(PlaywrightError):
                    page.wait_for_load_state(
                        "networkidle", timeout=max(1.0, min(5.0, deadline - time.monotonic())) * 1000
                    )
                if request.hide:
                    page.add_style_tag(content=",".join(request.hide) + "{display:none !important}")
                pinned = int(page.evaluate(_PIN))
                page_height = int(page.evaluate("() => document.documentElement.scrollHeight"))
                height = max(1, min(page_height, max_height))
                png = _slices(page, request, height, deadline)
                final_url = page.url
                version = browser.version
            finally:
                browser.close()
    except PlaywrightError as exc:
        if guard.over_limit:
            raise CaptureError(_over(guard)) from None
        first = str(exc).strip().splitlines()[0][:200]
        if "Timeout" in first or time.monotonic() > deadline:
            raise CaptureError(f"the page took longer than {limits.timeout_s:.0f} s to capture") from None
        raise CaptureError(f"the browser could not capture the page: {first}") from None
    if guard.over_limit:
        raise CaptureError(_over(guard))
    return Captured(
        png=png, url=final_url, css_width=request.css_width, dpr=request.dpr, css_height=height,
        page_height=page_height, browser=f"Chromium {version}", when=datetime.now(UTC), pinned=pinned,
        refused=tuple(reason for host, reason in guard.refusals.items() if host in asked),
    )  # fmt: skip


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def sandbox_flags() -> list[str]:
    """Chromium's sandbox stays on, except as root (containers), where Chromium cannot start with it."""
    return ["--no-sandbox"] if _as_root() else []


def _loaded(page: Any, guard: Guard, deadline: float) -> None:
    """Wait for the page's load event, watching the guard: a page cut off at the byte limit never loads."""
    while page.evaluate("() => document.readyState") != "complete":
        if guard.over_limit:
            raise CaptureError(_over(guard))
        if time.monotonic() > deadline:
            raise CaptureError("the page did not finish loading in time")
        page.wait_for_timeout(100)


def _over(guard: Guard) -> str:
    return f"the page downloaded more than the capture's limit of {guard.max_bytes / 1e6:,.3g} MB"


def _slices(page: Any, request: Request, height: int, deadline: float) -> bytes:
    """The page's first `height` CSS px, slice by slice into one picture, as PNG: a picture job like a decode or a
    render, admitted by its bytes under the process's one picture budget (heatmap.caching.picture_work)."""
    width_px, height_px = request.css_width * request.dpr, height * request.dpr
    with picture_work(width_px * height_px):
        return _stitched(page, request, height, deadline, (width_px, height_px))


def _stitched(page: Any, request: Request, height: int, deadline: float, size: tuple[int, int]) -> bytes:
    picture = Image.new("RGB", size, (255, 255, 255))
    for top in range(0, height, SLICE_CSS_PX):
        if time.monotonic() > deadline:
            raise CaptureError("the page took too long to capture")
        clip = {"x": 0, "y": top, "width": request.css_width, "height": min(SLICE_CSS_PX, height - top)}
        data = page.screenshot(clip=clip, full_page=True, type="png", animations="disabled", caret="hide")
        with Image.open(io.BytesIO(data)) as part:
            picture.paste(part.convert("RGB"), (0, top * request.dpr))
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=6)
    return out.getvalue()
