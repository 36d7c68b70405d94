"""App benchmark (docs/performance.md): server-side time of a segment change and of a first load on the demo data, with
the payload sizes sent to the browser.

    .venv/bin/python benchmarks/app.py            # 40 segment changes per case
    .venv/bin/python benchmarks/app.py --quick    # 10
    .venv/bin/python benchmarks/app.py --source DIR   # also on another source, e.g. the ingest benchmark's data

Two measurements of each:
- "functions": exactly what the Explore page calls (select + bands + clicks, engine render of the preview,
  figure JSON, per-band table, reach curve, CSV), timed directly;
- "AppTest": the whole page script through Streamlit's AppTest (widgets, caching, protobuf), no browser.
Baselines in the same run: a segment change without the app's caches (exports parsed again) and the map with the
full-resolution screenshot embedded in the figure (what the notes measured at 26 MB).
Goal: p50 <= 300 ms for a segment change; preview payload <= 2 MB.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("streamlit").setLevel(logging.ERROR)

SEGMENTS = [
    {},
    {"deviceCategory": ("mobile",)},
    {"deviceCategory": ("desktop",)},
    {"deviceCategory": ("desktop",), "newVsReturning": ("new",)},
    {"sessionDefaultChannelGroup": ("Organic Search", "Direct")},
    {"deviceCategory": ("tablet",), "newVsReturning": ("returning",)},
]


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(values) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   n={len(values)}"


def kb(size: int) -> str:
    return f"{size / 1000:,.0f} kB"


def realistic_tall(tile: Path, height: int = 20_000) -> Any:
    """A 1440x20000 page: the demo desktop screenshot repeated, with light noise so it compresses like a real
    screenshot with text and photos rather than like flat colour."""
    import numpy as np
    from PIL import Image

    base = np.asarray(Image.open(tile).convert("RGB"))
    reps = -(-height // base.shape[0])
    page = np.concatenate([base] * reps, axis=0)[:height]
    noise = np.random.default_rng(7).integers(-6, 7, size=page.shape, dtype=np.int16)
    return Image.fromarray(np.clip(page.astype(np.int16) + noise, 0, 255).astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--source", help="also measure first load and segment changes on this source (folder or s3://)")
    args = parser.parse_args()
    rounds = 10 if args.quick else 40
    home = Path(tempfile.mkdtemp(prefix="heatmap-bench-"))
    os.environ["HEATMAP_HOME"] = str(home)
    os.environ["HEATMAP_CACHE_DIR"] = str(home / "cache")
    os.environ["HEATMAP_OUTPUT"] = str(home / "output")
    for key in ("HEATMAP_SOURCE", "HEATMAP_S3_ENDPOINT_URL"):
        os.environ.pop(key, None)

    import plotly.express as px
    import pyarrow as pa

    from heatmap.demo import ensure_demo
    from heatmap.engines.local import load_dataset
    from heatmap.stores import open_store
    from heatmap.ui import figures, mapview
    from heatmap.ui.i18n import Translator
    from heatmap.ui.shots import Shot, decoded
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import MapSettings, View

    def load_screenshot(data: bytes) -> Shot:
        """A screenshot as the app's sessions hold it: a handle, its pixels in the process's cache."""
        sha = hashlib.sha256(data).hexdigest()
        return Shot.of(decoded(sha, lambda: data), lambda: data)

    print(f"HEATMAP_HOME={home}")
    print("\n== first load on the demo data ==")
    started = time.perf_counter()
    demo = ensure_demo(home / "demo")
    print(f"demo written (exports + screenshots, once per install): {time.perf_counter() - started:6.2f} s")
    store = open_store(str(demo))
    started = time.perf_counter()
    load_dataset(store, cache_dir=None)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    load_dataset(store, cache_dir=str(home / "cache"))
    first_cache = time.perf_counter() - started
    started = time.perf_counter()
    dataset = load_dataset(store, cache_dir=str(home / "cache"))
    warm = time.perf_counter() - started
    files = len(dataset.catalog.objects)
    print(f"load_dataset, no cache (parse every export):        {cold:6.2f} s  ({files} files)")
    print(f"load_dataset, first run writing the local parts:    {first_cache:6.2f} s")
    print(
        f"load_dataset, parts + catalog warm (server restart): {warm:6.3f} s  ({cold / max(warm, 1e-9):,.0f}x faster)"
    )

    from streamlit.testing.v1 import AppTest

    from heatmap.ui import data

    def app_first_run() -> tuple[float, AppTest]:
        data._registry.clear()
        data.export_listing.clear()
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
        started = time.perf_counter()
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        return time.perf_counter() - started, at

    import shutil

    shutil.rmtree(home / "cache", ignore_errors=True)
    first_cold, _ = app_first_run()
    print(f"Explore page, very first run (AppTest; parse all exports, write the cache): {first_cold:6.2f} s")
    first_app, at = app_first_run()
    print(f"Explore page, first run after a restart (AppTest; columnar cache warm):      {first_app:6.2f} s")
    curve_spec = at.get("plotly_chart")[0].proto.spec
    print(f"  browser payload: map viewer {kb(at.session_state['_x_payload'])}, reach curve {kb(len(curve_spec))}")

    print("\n== segment change, cached data ==")
    t = Translator("en")
    labels = figures.hover_labels(t)
    dataset.page_rows("/")  # read once per page, as the page does on its first run
    shots = {
        "demo desktop 1440x3000": (load_screenshot((demo / "screenshots" / "home__desktop.png").read_bytes()), 1.0),
        "demo mobile 780x11400 (dpr 2)": (
            load_screenshot((demo / "screenshots" / "home__mobile.png").read_bytes()),
            2.0,
        ),
    }
    tall = realistic_tall(demo / "screenshots" / "home__desktop.png")
    buffer = io.BytesIO()
    tall.save(buffer, format="PNG", compress_level=1)
    shots["tall 1440x20000"] = (load_screenshot(buffer.getvalue()), 1.0)
    start, end = date(2026, 10, 5), date(2026, 11, 1)
    for name, (shot, dpr) in shots.items():
        for kind in ("attention", "reach", "clicks"):
            times: dict[str, list[float]] = {"numbers": [], "render+viewer": [], "table+curve+csv": [], "total": []}
            payloads: list[int] = []
            for segment in itertools.islice(itertools.cycle(SEGMENTS), rounds):
                view = View(page="/", start=start, end=end, where=segment, kind=kind, display=MapSettings(dpr=dpr))
                t0 = time.perf_counter()
                nums = numbers(dataset, view)
                t1 = time.perf_counter()
                shown = mapview.live_preview(shot, view, nums, labels)
                t2 = time.perf_counter()
                frame = mapview.band_frame(t, nums.bands)
                table_bytes = pa.ipc.serialize_pandas(frame.to_pandas()).size if frame.height else 0
                curve = figures.reach_curve(nums.bands, {"x": "x", "y": "y", "interval": "i"})
                curve_bytes = figures.payload_bytes(curve)
                csv = nums.bands.to_csv()
                t3 = time.perf_counter()
                times["numbers"].append(t1 - t0)
                times["render+viewer"].append(t2 - t1)
                times["table+curve+csv"].append(t3 - t2)
                times["total"].append(t3 - t0)
                payloads.append(shown.payload + table_bytes + curve_bytes + len(csv))
            print(f"{name:31s} {kind:9s} total {ms(times['total'])}")
            print(
                f"{'':41s} numbers p50 {statistics.median(times['numbers']) * 1000:5.1f} ms, render+viewer p50 "
                f"{statistics.median(times['render+viewer']) * 1000:5.1f} ms, table+curve+csv p50 "
                f"{statistics.median(times['table+curve+csv']) * 1000:5.1f} ms; payload to browser "
                f"{kb(max(payloads))} (map viewer {kb(shown.payload)})"
            )

    print("\n== segment change through the whole page script (AppTest, demo screenshot) ==")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300).run()
    for kind in ("attention", "clicks"):
        at.radio(key="x_kind").set_value(kind).run()
        reruns = []
        for segment in itertools.islice(itertools.cycle(SEGMENTS), rounds):
            for dim in ("deviceCategory", "sessionDefaultChannelGroup", "newVsReturning"):
                at.multiselect(key=f"x_seg_{dim}").set_value(list(segment.get(dim, ())))
            started = time.perf_counter()
            at.run()
            reruns.append(time.perf_counter() - started)
            assert not at.exception
        print(f"{kind:9s} rerun {ms(reruns)}   map viewer payload {kb(at.session_state['_x_payload'])}")

    if args.source:
        measure_source(args.source, home, shots["demo desktop 1440x3000"][0], labels, rounds)

    print("\n== baselines ==")
    started = time.perf_counter()
    again = load_dataset(store, cache_dir=None)
    numbers(again, View(page="/", start=start, end=end, where=SEGMENTS[1]))
    print(f"segment change without the app's caches (exports parsed again): {time.perf_counter() - started:6.2f} s")
    shot, _ = shots["tall 1440x20000"]
    started = time.perf_counter()
    naive_bytes = len(px.imshow(shot.pixels().unpacked()).to_json())
    naive_time = time.perf_counter() - started
    plain = View(page="/", start=start, end=end)
    ours = mapview.live_preview(shot, plain, numbers(dataset, plain), labels).payload
    print(
        f"tall screenshot embedded at full resolution (px.imshow): {kb(naive_bytes)} in {naive_time:5.2f} s"
        f"   vs the app's map viewer {kb(ours)}"
    )
    raw_png = base64.b64encode(shot.data)
    print(f"(the PNG itself, base64: {kb(len(raw_png))})")


def measure_source(source: str, home: Path, shot: Any, labels: Any, rounds: int) -> None:
    """First load and segment changes on a bigger source, e.g. benchmarks/ingest.py's 90 days of exports."""
    from datetime import timedelta

    from heatmap.engines.local import load_dataset
    from heatmap.stores import open_store
    from heatmap.ui import mapview
    from heatmap.usecases.numbers import numbers
    from heatmap.usecases.view import View

    print(f"\n== {source} ==")
    store = open_store(source)
    cache = home / "cache-source"
    started = time.perf_counter()
    dataset = load_dataset(store, cache_dir=str(cache))
    cold = time.perf_counter() - started
    started = time.perf_counter()
    dataset = load_dataset(store, cache_dir=str(cache))
    warm = time.perf_counter() - started
    catalog = dataset.catalog
    page = catalog.pages()[0][0]
    started = time.perf_counter()
    dataset.page_rows(page)
    first_view = time.perf_counter() - started
    rows = sum(catalog.rows_per_day.values())
    print(
        f"{rows:,} rows; first load {cold:5.2f} s, after a restart {warm:5.3f} s, first read of the busiest page"
        f" {first_view:5.2f} s"
    )
    end = catalog.days[-1]
    start = max(catalog.days[0], end - timedelta(days=27))
    for kind in ("attention", "clicks"):
        times, payloads = [], []
        for segment in itertools.islice(itertools.cycle(SEGMENTS), rounds):
            view = View(page=page, start=start, end=end, where=segment, kind=kind)
            t0 = time.perf_counter()
            shown = mapview.live_preview(shot, view, numbers(dataset, view), labels)
            times.append(time.perf_counter() - t0)
            payloads.append(shown.payload)
        print(f"{page} {kind:9s} segment change {ms(times)}   map payload up to {kb(max(payloads))}")


if __name__ == "__main__":
    main()
