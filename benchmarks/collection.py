"""Collection benchmark (issue "Exact at any traffic"): what one page view costs in GA4 with the tag's two modes,
and what a busy site's day costs on each route.

    .venv/bin/python benchmarks/collection.py            # both page heights, both traffic sizes
    .venv/bin/python benchmarks/collection.py --quick    # the smaller traffic size only

1. The tag in real Chromium (Debian's chromium, Playwright's fake clock, the test pages of tests/fixtures/tag_page.py):
   a visitor reads a 5,000-px and a 20,000-px page top to bottom (2 s a screen) and clicks 10 times. Per page view:
   GA4 events, parameter bytes, the bytes BigQuery bills for the columns heatmap_daily.sql reads of those events
   (its data-size rules: STRING 2 + UTF-8 length, INT64 and FLOAT64 8) and the bytes the page holds in its
   dataLayer. (A flush's main-thread time cannot be read here: the fake clock fakes performance.now too.) Baseline: the v1 "band" mode, one event per band, in the same run.
2. A day of a busy site, simulated (Zipf-popular pages, reading depth, three devices, five channels, new and
   returning, clicks on hot cells): the report route's rows against GA4's 50,000-row summary table (Help 13331684),
   and the share of the heatmap's events GA4 would fold into "(other)" when it keeps its commonest rows; the event
   route's BigQuery output has the same rows and folds nothing. Two sizes: 300 pages / 100 k page views and
   3,000 pages / 1 M.
3. GA4 events a day and BigQuery on-demand cost ($6.25 per TiB scanned) per 1 M page views on each route.
   The scan reads the same columns of the site's other events too (a table holds the day's every event): that part
   is an assumption (--other-events-per-view, --other-event-bytes), printed apart.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heatmap import contract  # noqa: E402

HEIGHTS = (5000, 20000)
CLICKS = 10
HOLD_SECONDS = 2.0
SUMMARY_ROWS = 50_000
TIB = 2**40
DOLLARS_PER_TIB = 6.25
EXPORT_LIMIT = 1_000_000
# columns heatmap_daily.sql reads besides event_params, with a typical value each
BASE_COLUMNS = {"event_date": "20261101", "event_name": None, "user_pseudo_id": "1234567890.1700000000",
                "device.category": "desktop", "default_channel_group": "Organic Search"}  # fmt: skip


def bigquery_bytes(push: dict[str, Any]) -> int:
    """BigQuery's billed size of one exported event's columns that the query reads (event_timestamp: INT64)."""
    size = 8
    for value in BASE_COLUMNS.values():
        size += 2 + len((value if value is not None else push["event"]).encode())
    for key, value in push.items():
        if key == "event":
            continue
        name = "page_location" if key == "hm_page_location" else key
        size += 2 + len(name.encode())
        size += 2 + len(value.encode()) if isinstance(value, str) else 8
    return size


def tag_costs(browser: Any, base: str) -> list[dict[str, Any]]:
    from tests.fixtures.tag_page import CLICK, DWELL, MORE, TagPage

    names = {"band": (DWELL, MORE, CLICK), "view": (contract.VIEW_EVENT,)}
    out = []
    for height in HEIGHTS:
        for mode, events in names.items():
            tp = TagPage(browser, base, mode).open(f"/page-{height}/read")
            tp.read_top_to_bottom(HOLD_SECONDS, CLICKS)
            tp.set_visibility("hidden")
            pushes = tp.events(*events)
            held = tp.page.evaluate("JSON.stringify(window.dataLayer || []).length")
            assert not tp.errors, tp.errors
            tp.close()
            out.append(
                {
                    "height": height,
                    "mode": mode,
                    "events": len(pushes),
                    "param_bytes": sum(len(json.dumps({k: v for k, v in p.items() if k != "event"})) for p in pushes),
                    "bigquery_bytes": sum(bigquery_bytes(p) for p in pushes),
                    "held_bytes": held,
                }
            )
    return out


def simulate_day(pages: int, views: int, seed: int = 7) -> dict[str, Any]:
    """The report route's rows for one simulated day, and what a 50,000-row summary table keeps of them."""
    rng = np.random.default_rng(seed)
    popularity = 1.0 / np.arange(1, pages + 1) ** 1.1
    page = rng.choice(pages, size=views, p=popularity / popularity.sum())
    bands_of_page = rng.integers(20, 101, size=pages)
    segment = (
        rng.choice(3, size=views, p=[0.6, 0.35, 0.05]) * 10
        + rng.choice(5, size=views, p=[0.45, 0.25, 0.15, 0.1, 0.05]) * 2
        + rng.choice(2, size=views, p=[0.6, 0.4])
    )
    depth = np.minimum(bands_of_page[page], 8 + rng.geometric(0.08, size=views))
    view_of_band = np.repeat(np.arange(views), depth)
    band = np.arange(depth.sum()) - np.repeat(np.cumsum(depth) - depth, depth)
    dwell_keys = (page[view_of_band].astype(np.int64) * 1000 + band) * 100 + segment[view_of_band]
    clicks = rng.poisson(1.5, size=views)
    view_of_click = np.repeat(np.arange(views), clicks)
    hot = rng.zipf(1.3, size=view_of_click.size) % 2000  # a page's 2,000 commonest cells, the first ones most
    click_keys = -((page[view_of_click].astype(np.int64) * 10_000 + hot) * 100 + segment[view_of_click]) - 1
    _keys, counts = np.unique(np.concatenate([dwell_keys, click_keys]), return_counts=True)
    ranked = np.sort(counts)[::-1]
    kept = ranked[:SUMMARY_ROWS].sum()
    return {
        "pages": pages,
        "views": views,
        "rows": int(counts.size),
        "events": int(counts.sum()),
        "folded_share": float(1 - kept / counts.sum()),
        "rows_over_limit": float(counts.size / SUMMARY_ROWS),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smaller traffic size only")
    parser.add_argument("--other-events-per-view", type=float, default=5.0, help="the site's own events a view")
    parser.add_argument("--other-event-bytes", type=int, default=600, help="their size in the columns read")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from tests.fixtures.browser import CHROMIUM, CHROMIUM_ARGS
    from tests.fixtures.tag_page import serve

    print("1. One page view read top to bottom with 10 clicks, real Chromium")
    with serve() as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        costs = tag_costs(browser, base)
        browser.close()
    print(f"{'height':>8} {'mode':>5} {'events':>7} {'param B':>8} {'BigQuery B':>10} {'held B':>8}")
    for c in costs:
        print(f"{c['height']:>8,} {c['mode']:>5} {c['events']:>7} {c['param_bytes']:>8,} {c['bigquery_bytes']:>10,} "
              f"{c['held_bytes']:>8,}")  # fmt: skip
    by = {(c["height"], c["mode"]): c for c in costs}
    for height in HEIGHTS:
        v1, v2 = by[(height, "band")], by[(height, "view")]
        print(f"  {height:,} px: v2/v1 events {v2['events'] / v1['events']:.3f}, "
              f"BigQuery bytes {v2['bigquery_bytes'] / v1['bigquery_bytes']:.3f}, "
              f"held bytes {v2['held_bytes'] / v1['held_bytes']:.3f}")  # fmt: skip

    print("\n2. A day of a busy site on the report route (GA4 summary table: 50,000 rows)")
    sizes = [(300, 100_000)] if args.quick else [(300, 100_000), (3000, 1_000_000)]
    print(f"{'pages':>6} {'views':>10} {'rows':>10} {'x limit':>8} {'folded':>7} {'sim s':>6} {'peak MB':>8}")
    for pages, views in sizes:
        tracemalloc.start()
        started = time.perf_counter()
        day = simulate_day(pages, views)
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(f"{pages:>6,} {views:>10,} {day['rows']:>10,} {day['rows_over_limit']:>8.1f} "
              f"{day['folded_share']:>6.1%} {took:>6.1f} {peak:>8.0f}")  # fmt: skip
    print("  the event route: the same rows from BigQuery, none folded (0 %)")

    print("\n3. Per 1 M page views a day (20,000-px page)")
    other = args.other_events_per_view * args.other_event_bytes * 1e6
    print(f"  GA4's daily BigQuery export of a standard property holds {EXPORT_LIMIT:,} events (Help 9358801)")
    for mode, label in (("band", "tag v1 through BigQuery"), ("view", "tag v2 (event route)")):
        c = by[(20000, mode)]
        heat = c["bigquery_bytes"] * 1e6
        print(f"  {label:<24} GA4 events {c['events'] * 1e6:>13,.0f} (x{c['events'] * 1e6 / EXPORT_LIMIT:,.0f})   BigQuery scan {heat / 2**30:>7.2f} GiB "
              f"(${heat / TIB * DOLLARS_PER_TIB:.3f}) + the site's other events {other / 2**30:.2f} GiB "
              f"(${other / TIB * DOLLARS_PER_TIB:.3f}, assumed)")  # fmt: skip


if __name__ == "__main__":
    main()
