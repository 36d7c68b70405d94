"""Which route fits a property: GA4's report (AppFlow pulls an aggregated report) or the event route (BigQuery).

GA4 answers the report from summary tables of 50,000 rows (2 M for its larger ones) and folds the rest into
"(other)", keeping the commonest rows; its standard BigQuery daily export carries about 1 M events a day (all
events, GA's own included). So the question is how many distinct report rows a day the site makes, and how many
events a day each tag mode sends. Both are estimates from stated traffic: page views spread over pages like a
Zipf law (the commonest page has the most), reach falling linearly down the page, segment combinations used evenly.
The expected number of distinct rows of a cell seen k times on average is 1 − e^(−k) (a Poisson occupancy).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from heatmap import contract

REPORT_ROW_LIMIT = 50_000
LARGE_REPORT_ROW_LIMIT = 2_000_000
BIGQUERY_DAILY_EVENTS = 1_000_000
PACK_SLOTS = 12  # hm_p1..hm_p12 per hm_view event
PACK_CHARACTERS = 95  # usable characters of a 100-character pack (kind letter and run headers aside)
CHARACTERS_PER_BAND = 4  # "123," tenths of a second of one band
CHARACTERS_PER_CLICK = 7  # "45.1234," x.y of one click


@dataclass(frozen=True)
class Traffic:
    """What a property sends in a day. `segments`: device × channel × visitor combinations in use (3 × 10 × 2);
    `returns`: share of page views that flush again after coming back to the tab (v1 sends hm_dwell_more then);
    `ga_events_per_view`: GA's own events per page view (page_view, user_engagement, scroll, ...)."""

    page_views_per_day: float
    pages: int
    depth_px: float = 5_000.0
    clicks_per_view: float = 1.0
    segments: int = 60
    returns: float = 0.3
    ga_events_per_view: float = 3.0
    bottom_reach: float = 0.2


def _reach(traffic: Traffic) -> np.ndarray:
    bands = max(1, math.ceil(traffic.depth_px / contract.BAND_HEIGHT_PX))
    return np.linspace(1.0, traffic.bottom_reach, bands) if bands > 1 else np.ones(1)


def _occupied(cells: float, hits: np.ndarray) -> float:
    """Expected distinct cells of `cells` equally likely ones after `hits` draws (summed over the array)."""
    return float((cells * -np.expm1(-hits / cells)).sum())


def report_rows_per_day(traffic: Traffic) -> float:
    """Distinct rows of the 9-dimension report in a day: dwell (hm_dwell and hm_dwell_more) per band and segment,
    clicks per cell and segment, on every page."""
    weights = 1.0 / np.arange(1, traffic.pages + 1)
    views = traffic.page_views_per_day * weights / weights.sum()
    reach = _reach(traffic)
    seen = np.outer(views, reach)  # page views per page and band
    segments = float(traffic.segments)
    dwell = _occupied(segments, seen) + _occupied(segments, seen * traffic.returns)
    cells = 100 * max(1.0, traffic.depth_px / contract.CLICK_Y_STEP_PX) * segments
    clicks = _occupied(cells, views * traffic.clicks_per_view)
    return dwell + clicks


def events_per_view(traffic: Traffic) -> dict[str, float]:
    """Heatmap events per page view: v1 one per band seen (+ returns) and per click; v2 one hm_view per flush,
    plus spill-overs when the packs of a flush pass 12 parameters."""
    bands_seen = float(_reach(traffic).sum())
    v1 = bands_seen * (1 + traffic.returns) + traffic.clicks_per_view
    characters = bands_seen * CHARACTERS_PER_BAND + traffic.clicks_per_view * CHARACTERS_PER_CLICK
    per_flush = max(1, math.ceil(characters / PACK_CHARACTERS / PACK_SLOTS))
    v2 = per_flush * (1 + traffic.returns)
    return {"v1": v1, "v2": v2}


def plan(traffic: Traffic) -> dict[str, object]:
    """The `python -m heatmap plan` object: rows and events a day against GA's limits, and which route fits."""
    rows = report_rows_per_day(traffic)
    per_view = events_per_view(traffic)
    own = traffic.ga_events_per_view * traffic.page_views_per_day
    events = {mode: n * traffic.page_views_per_day for mode, n in per_view.items()}
    report_fits = rows <= REPORT_ROW_LIMIT
    export_events = events["v2"] + own
    if report_fits:
        route = "report"
        why = (
            f"about {rows:,.0f} report rows a day, within GA4's {REPORT_ROW_LIMIT:,}-row summary tables: "
            "the report route loses nothing"
        )
    else:
        route = "event"
        why = (
            f"about {rows:,.0f} report rows a day, {rows / REPORT_ROW_LIMIT:,.1f}x GA4's {REPORT_ROW_LIMIT:,}-row summary "
            "tables: GA would fold the rest into (other), so use the event route (tag v2 + BigQuery)"
        )
        if export_events > BIGQUERY_DAILY_EVENTS:
            why += (
                f"; the daily BigQuery export would get about {export_events:,.0f} events a day (GA's own included), "
                f"over a standard property's {BIGQUERY_DAILY_EVENTS:,}: exclude GA's other events from the export "
                f"(about {events['v2']:,.0f} remain) or use the streaming export"
            )
    return {
        "traffic": asdict(traffic),
        "report_rows_per_day": round(rows),
        "report_row_limit": REPORT_ROW_LIMIT,
        "large_report_row_limit": LARGE_REPORT_ROW_LIMIT,
        "events_per_view": {mode: round(n, 2) for mode, n in per_view.items()},
        "heatmap_events_per_day": {mode: round(n) for mode, n in events.items()},
        "ga_own_events_per_day": round(own),
        "bigquery_daily_export_limit": BIGQUERY_DAILY_EVENTS,
        "route": route,
        "why": why,
    }
