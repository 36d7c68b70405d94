"""Query benchmark (docs/performance.md): page + dates + segment change -> bands, on a 10-million-row canonical table.

    .venv/bin/python benchmarks/query.py            # 10 million rows
    .venv/bin/python benchmarks/query.py --quick    # 1 million rows (CI)

Baseline in the same run: the same filter and per-band sums with pandas on the same rows.
Budget: <= 50 ms per change.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from heatmap.engines.local import LocalEngine
from heatmap.statistics.metrics import band_table
from heatmap.table import schema

SEGMENTS = ("deviceCategory", "sessionDefaultChannelGroup", "newVsReturning")


class CachedPages(LocalEngine):
    """The local engine's own selection over pages already in its cache (the parts are not what is measured)."""

    def __init__(self, pages: dict[str, pl.DataFrame]) -> None:
        self.pages = pages
        self.catalog = SimpleNamespace(segments=SEGMENTS)  # type: ignore[assignment]

    def page_rows(self, page: str) -> pl.DataFrame:
        return self.pages[page]


def build(rows: int, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    pages = np.array([f"/jobs/{i}" for i in range(200)] + ["/", "/pricing"])
    weights = 1 / np.arange(1, len(pages) + 1)
    dwell = rng.random(rows) < 0.7
    frame = pl.DataFrame(
        {
            "date": rng.integers(0, 90, rows).astype("timedelta64[D]") + np.datetime64("2026-01-01"),
            "page": rng.choice(pages, rows, p=weights / weights.sum()),
            "event": np.where(dwell, "dwell", "click"),
            "band": rng.integers(0, 120, rows),
            "x": rng.integers(0, 100, rows),
            "y": rng.integers(0, 600, rows),
            "deviceCategory": rng.choice(["desktop", "mobile", "tablet"], rows),
            "sessionDefaultChannelGroup": rng.choice(["Organic Search", "Direct", "Paid Search", "Email"], rows),
            "newVsReturning": rng.choice(["new", "returning"], rows),
            "events": rng.integers(1, 50, rows),
            "seconds": rng.gamma(2, 20, rows),
            "seconds_sq": rng.gamma(2, 800, rows),
        },
        strict=False,
    )
    is_dwell = pl.col("event") == "dwell"
    frame = frame.with_columns(
        pl.when(is_dwell).then(pl.col("band")).alias("band"),
        pl.when(~is_dwell).then(pl.col("x")).alias("x"),
        pl.when(~is_dwell).then(pl.col("y")).alias("y"),
    )
    return frame.cast(schema(SEGMENTS)).select(list(schema(SEGMENTS)))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows
    table = build(rows)
    print(f"table: {table.height:,} rows, {table.estimated_size() / 1e6:.0f} MB")
    started = time.perf_counter()
    # The local engine keeps each viewed page's rows sorted by date (read once from the parts, then cached).
    page_rows = {page: table.filter(pl.col("page") == page).sort("date") for page in ("/jobs/0", "/jobs/3", "/")}
    print(f"page rows cached as the engine does: {(time.perf_counter() - started) * 1000:.0f} ms for 3 pages")
    pandas_table = table.to_pandas()
    changes = [
        ("/jobs/0", date(2026, 1, 1), date(2026, 3, 31), {}),
        ("/jobs/0", date(2026, 2, 1), date(2026, 2, 28), {"deviceCategory": ["mobile"]}),
        (
            "/jobs/0",
            date(2026, 2, 1),
            date(2026, 2, 28),
            {"deviceCategory": ["mobile", "tablet"], "newVsReturning": ["new"]},
        ),
        ("/jobs/3", date(2026, 1, 15), date(2026, 3, 15), {"sessionDefaultChannelGroup": ["Direct"]}),
        ("/", date(2026, 3, 1), date(2026, 3, 28), {}),
    ]
    cached = CachedPages(page_rows)
    engine, baseline = [], []
    for _ in range(5):
        for page, start, end, where in changes:
            t = time.perf_counter()
            result = band_table(cached.rows(page, start, end, where))
            engine.append(time.perf_counter() - t)
            t = time.perf_counter()
            frame = pandas_table
            mask = (frame["page"] == page) & (frame["date"] >= str(start)) & (frame["date"] <= str(end + timedelta(0)))
            for name, values in where.items():
                mask &= frame[name].isin(values)
            frame[mask & (frame["event"] == "dwell")].groupby("band", observed=True)[["events", "seconds"]].sum()
            baseline.append(time.perf_counter() - t)
    p50, p95 = statistics.median(engine) * 1000, sorted(engine)[int(len(engine) * 0.95) - 1] * 1000
    base50 = statistics.median(baseline) * 1000
    print(f"segment change -> bands: p50 {p50:.1f} ms, p95 {p95:.1f} ms   (budget <= 50 ms)")
    print(f"pandas filter + groupby baseline: p50 {base50:.1f} ms; ratio {base50 / p50:.1f}x")
    print(f"last result: {result.page_views:,} page views, {result.band_count} bands")


if __name__ == "__main__":
    main()
