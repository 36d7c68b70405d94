"""Capture benchmark (issue "Capture the page from its URL"): a page captured and ready as a backdrop, against a
plain Playwright full-page screenshot of the same page in the same run, at two page heights.

    .venv/bin/python benchmarks/capture.py              # 5,000 and 10,000 CSS px, 1,440 px wide
    .venv/bin/python benchmarks/capture.py --dpr 2
    .venv/bin/python benchmarks/capture.py --quick      # 1,000 and 2,000 px (the tests run this)

"Ready as a backdrop" = heatmap.capture.capture_and_store into a folder store, then the stored PNG decoded by
heatmap.images.load_screenshot, as the app reads it. Baseline: Playwright's page.screenshot(full_page=True) of the
same page in the same browser binary, no guard proxy, no scrolling, no pinning, nothing stored.

Memory: this process's resident memory (the dashboard's server would hold the same: the stitched picture and its
PNG) sampled every 20 ms above its idle level before the capture, and the browser's process tree apart (it is a
separate process tree that ends with the capture: its processes' unique memory added up). Then two captures at once with HEATMAP_CAPTURE_CONCURRENT=1: the
most captures running at once (never more than the limit), and how long the second waited.

Budgets: a 10,000-px page ready in <= 10 s; the server's memory <= 500 MB above idle. "capture MB" is the server
process's peak above idle while capturing and storing; "+decode MB" includes decoding the stored PNG afterwards,
which the app does for any screenshot (under its picture budget); "browser MB" is the browser's, apart.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heatmap import allocator  # noqa: E402
from heatmap.capture import CaptureSettings, capture_and_store  # noqa: E402
from heatmap.capture import page as capture_page  # noqa: E402
from heatmap.capture.allow import parse_allowlist  # noqa: E402
from heatmap.capture.page import Limits, chromium_path, sandbox_flags  # noqa: E402
from heatmap.images import load_screenshot  # noqa: E402
from heatmap.stores import LocalStore  # noqa: E402
from tests.fixtures import site as site_fixture  # noqa: E402

HEIGHTS = (5_000, 10_000)
WIDTH = 1440


class Sampler:
    """Peak resident memory of this process (RSS) and of its child processes (the browser: their unique memory, USS,
    added), every 20 ms."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.peak_self = self.peak_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_self = max(self.peak_self, self.me.memory_info().rss)
            children = 0
            for child in self.me.children(recursive=True):
                with contextlib.suppress(psutil.Error):  # USS: shared pages are not counted once per process
                    children += child.memory_full_info().uss
            self.peak_children = max(self.peak_children, children)
            time.sleep(0.02)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def baseline(url: str, dpr: int) -> tuple[float, int]:
    """A plain full-page screenshot: seconds and PNG bytes."""
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), args=["--headless", "--disable-gpu", *sandbox_flags()]
        )
        page = browser.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=dpr)
        page.goto(url, wait_until="load")
        png = page.screenshot(full_page=True, type="png")
        browser.close()
    return time.perf_counter() - started, len(png)


def ready(
    settings: CaptureSettings, url: str, dpr: int, folder: Path, sampler: Sampler | None = None
) -> tuple[float, Any, int]:
    """Capture, store, read back and decode as the app does: seconds, the capture, the capture's own peak memory
    above idle (the decode after it is an upload's, under the app's picture budget)."""
    started = time.perf_counter()
    stored = capture_and_store(settings, url, WIDTH, dpr, LocalStore(folder))
    capture_peak = sampler.peak_self if sampler else 0
    load_screenshot((folder / stored.key).read_bytes())
    return time.perf_counter() - started, stored.captured, capture_peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dpr", type=int, choices=(1, 2), default=1)
    parser.add_argument("--quick", action="store_true", help="smaller pages (1,000 and 2,000 px): for the tests")
    args = parser.parse_args()
    allocator.pin_mmap_threshold()  # as the app and the CLI do: big buffers go back to the system when freed
    print(f"Capture at {WIDTH} CSS px, pixel ratio {args.dpr}; {psutil.cpu_count()} cores")
    with site_fixture.serve() as site, tempfile.TemporaryDirectory() as tmp:
        settings = CaptureSettings(hosts=parse_allowlist(site.allow), limits=Limits(max_height_css=20_000))
        ready(settings, f"{site.base}/lazy", 1, Path(tmp) / "warm")  # the browser binary and fonts in the page cache
        print(
            f"{'page px':>8} {'baseline s':>11} {'ready s':>10} {'ratio':>6} {'capture MB':>10} {'+decode MB':>9} "
            f"{'browser MB':>11} {'PNG MB':>7}"
        )
        for height in (1_000, 2_000) if args.quick else HEIGHTS:
            url = f"{site.base}/height-{height}"
            plain_s, _png = baseline(url, args.dpr)
            idle = psutil.Process().memory_info().rss
            with Sampler() as sampler:
                seconds, captured, capture_peak = ready(settings, url, args.dpr, Path(tmp) / str(height), sampler)
            print(
                f"{height:>8,} {plain_s:>11.2f} {seconds:>10.2f} {seconds / plain_s:>6.2f} "
                f"{(capture_peak - idle) / 1e6:>10.0f} {(sampler.peak_self - idle) / 1e6:>9.0f} "
                f"{sampler.peak_children / 1e6:>11.0f} {len(captured.png) / 1e6:>7.2f}"
            )
            assert captured.css_height == height, captured.css_height
        print("Budgets: 10,000 px ready <= 10 s; the server's memory <= 500 MB above idle.")

        running, most, waits = [0], [0], []
        lock = threading.Lock()
        inner = capture_page._capture

        def counted(*a: Any, **k: Any) -> Any:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            try:
                return inner(*a, **k)
            finally:
                with lock:
                    running[0] -= 1

        capture_page._capture = counted  # type: ignore[assignment]
        one = CaptureSettings(hosts=settings.hosts, limits=Limits(concurrent=1))

        def go(n: int) -> None:
            started = time.perf_counter()
            ready(one, f"{site.base}/height-5000", args.dpr, Path(tmp) / f"two-{n}")
            waits.append(time.perf_counter() - started)

        threads = [threading.Thread(target=go, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        capture_page._capture = inner  # type: ignore[assignment]
        print(f"Two at once, limit 1: at most {most[0]} running; done after {sorted(round(w, 2) for w in waits)} s")


if __name__ == "__main__":
    main()
