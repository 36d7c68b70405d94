"""Viewer benchmark (docs/performance.md): how long Chromium takes from opening the map viewer's frame to its live
map painted (heatmap/ui/viewer.js: the screenshot's JPEG decoded, drawn into tiles and the map blended onto it in
JavaScript), and how far Chromium's resident memory rises with it, for a tall upload at two heights.

    .venv/bin/python benchmarks/viewer.py            # 1440 x 5,000 and 1440 x 20,000, 8 loads each
    .venv/bin/python benchmarks/viewer.py --quick    # 3 loads each

Baseline in the same run: the same JPEG shown as a plain <img> (decoded, nothing painted), so the ratio is what the
live map costs on top of showing the picture. The frame is the one Explore sends (mapview.live_preview, the demo's
home page numbers, attention), opened from a file in a fresh tab each time; the figure is the page's own clock
from navigation start to `data-painted` (or the image decoded). The first load of each case is left out.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import statistics
import sys
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import CHROMIUM, tall_png  # noqa: E402

PAINTED = """() => new Promise((done) => {
  const ready = () => document.querySelector('#viewer[data-painted=true]');
  const check = () => (ready() ? done(performance.now()) : requestAnimationFrame(check));
  check();
})"""
DECODED = "() => document.querySelector('img').decode().then(() => performance.now())"


def frames(heights: Sequence[int], folder: Path) -> list[tuple[int, Path, Path, tuple[int, int]]]:
    """Per height: the viewer's HTML for a live attention map on a 1440 × height upload (the demo's home page, one
    view's numbers for all), the baseline page, and the map's size."""
    from heatmap.demo import ensure_demo
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore
    from heatmap.ui import figures, mapview, shots, viewer, widgets
    from heatmap.ui.i18n import Translator
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import View

    engine = load_dataset(LocalStore(ensure_demo(str(folder / "home"))))
    last = engine.catalog.days[-1]
    view = View(page="/", start=date(last.year, last.month, 1), end=last, kind="attention")
    nums = numbers(engine, view)
    t = Translator("en")
    made = []
    for height in heights:
        upload = tall_png(1, height=height)
        sha = hashlib.sha256(upload).hexdigest()
        shot = shots.Shot.of(shots.decoded(sha, lambda upload=upload: upload), lambda upload=upload: upload)
        layer = mapview.live_preview(shot, view, nums, figures.hover_labels(t, 100)).layer
        html = viewer.viewer_html(
            [layer], [], mapview.viewer_labels(t), name="x_map", link="", controls=widgets.instant_controls(t, "x_")
        )
        live, plain = folder / f"viewer-{height}.html", folder / f"plain-{height}.html"
        live.write_text(html, encoding="utf-8")
        src = "data:image/jpeg;base64," + base64.b64encode(layer.jpeg).decode()
        plain.write_text(f'<!doctype html><html><body style="margin:0"><img src="{src}" width="100%"></body></html>')
        assert layer.live is not None
        made.append((height, live, plain, (int(layer.live["width"]), int(layer.live["height"]))))
    return made


def chromium_mb() -> float:
    """Resident memory of every Chromium process on the machine (this benchmark runs alone), MB."""
    total = 0
    for process in psutil.process_iter(["name", "memory_info"]):
        if "chrom" in (process.info["name"] or "") and process.info["memory_info"] is not None:
            total += process.info["memory_info"].rss
    return total / 1e6


def load_times(browser: Any, page_file: Path, ready: str, loads: int) -> tuple[list[float], list[float]]:
    """Seconds from navigation start to `ready`, and how far Chromium's resident memory rose over the open tab
    (MB: the decoded picture, the tiles' canvases and pixels, the script), per load after the first."""
    seconds, risen = [], []
    for _ in range(loads + 1):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        before = chromium_mb()
        page.goto(page_file.as_uri(), wait_until="commit")
        seconds.append(page.evaluate(ready) / 1000)
        risen.append(chromium_mb() - before)
        page.close()
    return seconds[1:], risen[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 loads per case")
    args = parser.parse_args()
    loads = 3 if args.quick else 8
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="viewer-bench-") as work, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        print(f"Chromium {browser.version}; {loads} loads per case (the first left out)")
        for height, live, plain, size in frames((5_000, 20_000), Path(work)):
            painted, painted_mb = load_times(browser, live, PAINTED, loads)
            shown, shown_mb = load_times(browser, plain, DECODED, loads)
            p50, base = statistics.median(painted), statistics.median(shown)
            print(
                f"1440 x {height:,} upload (map {size[0]} x {size[1]}, frame {live.stat().st_size / 1e6:.1f} MB): "
                f"painted p50 {p50 * 1000:.0f} ms (max {max(painted) * 1000:.0f}), Chromium +{statistics.median(painted_mb):.0f} MB; "
                f"baseline <img> {base * 1000:.0f} ms, +{statistics.median(shown_mb):.0f} MB; ratio {p50 / base:.1f}x"
            )
        browser.close()


if __name__ == "__main__":
    main()
