"""The tracking contract: the one place that names events, parameters and report fields.

The GTM tag, the GTM container export, the GA4 definitions, the AppFlow template and the readers'
defaults all come from (or are tested equal to) these values, so a rename cannot drift between them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

BAND_HEIGHT_PX = 100
CLICK_Y_STEP_PX = 20

DWELL_EVENT = "hm_dwell"
#: More seconds for a band this page view already reported (the visitor came back to the tab): it adds
#: seconds but is not another page view that saw the band, so its events do not count towards reach.
DWELL_MORE_EVENT = "hm_dwell_more"
CLICK_EVENT = "hm_click"
#: Frustration, per click: a rage click is one of several close in time and space, a dead click one on something
#: that did nothing (tracking/README.md "Rage and dead clicks"). Each is a click too: a flag adds a row of its
#: own event at the click's cell, it never moves or removes the click. Tag v2 writes a flag as a letter after the
#: click's "x.y" in a pack (FLAG_LETTERS); the report route's tag pushes the flag's event with hm_x / hm_y.
RAGE_EVENT = "hm_rage"
DEAD_EVENT = "hm_dead"
#: A click on a fixed or sticky element (its target or an ancestor is position: fixed or sticky) sits at the same
#: place on every screen, so its page position means nothing: it is sent with viewport coordinates (x % of the
#: viewport's width, y = floor(viewport y / CLICK_Y_STEP_PX)) as this event, instead of a click, never flagged.
FIXED_EVENT = "hm_fixed"
FLAG_LETTERS: dict[str, str] = {"r": RAGE_EVENT, "d": DEAD_EVENT, "f": FIXED_EVENT}

BAND_PARAM = "hm_band"
SECONDS_PARAM = "hm_seconds"
#: The square of a band's seconds in one page view, summed like seconds: with the count and the sum it gives
#: each band's variance across page views, so attention differences can be tested (Welch), not eyeballed.
SECONDS_SQ_PARAM = "hm_seconds_sq"
X_PARAM = "hm_x"
Y_PARAM = "hm_y"

#: Tag v2, the event route (tracking/README.md "The hm_view event"): one event per flush of a page view, its
#: dwell and clicks packed into parameters, read event-level from GA4's BigQuery export and summed there.
VIEW_EVENT = "hm_view"
VIEW_VERSION = 2
VERSION_PARAM = "hm_v"
PAGE_VIEW_PARAM = "hm_pv"
SEQUENCE_PARAM = "hm_seq"
LAYOUT_WIDTH_PARAM = "hm_w"
PAGE_HEIGHT_PARAM = "hm_h"
TEMPLATE_PARAM = "hm_tpl"
PACK_PARAM_PREFIX = "hm_p"
#: Packs per event: with the six parameters above and page_location, 19 of GA4's 25 (GA adds its own).
MAX_PACKS = 12
#: GA4 cuts longer parameter values; a pack never exceeds it (a page view spills into its next event instead).
MAX_PARAM_LENGTH = 100
PACK_PARAMS: tuple[str, ...] = tuple(f"{PACK_PARAM_PREFIX}{n}" for n in range(1, MAX_PACKS + 1))
VIEW_PARAMS: tuple[str, ...] = (
    VERSION_PARAM,
    PAGE_VIEW_PARAM,
    SEQUENCE_PARAM,
    LAYOUT_WIDTH_PARAM,
    PAGE_HEIGHT_PARAM,
    TEMPLATE_PARAM,
    *PACK_PARAMS,
)
#: The BigQuery query's row counting page views it left out whole (forged values, garbage packing).
VIEW_REJECTED_EVENT = "hm_view_rejected"
#: Export columns the event route adds: the layout-width bucket, the template the page declared (hm_tpl) and which
#: route a row came from.
LAYOUT_FIELD = "hm_layout"
TEMPLATE_FIELD = "hm_template"
ROUTE_FIELD = "hm_route"
#: Columns only the event route fills (null in the report's rows; every table of tracking/athena.yaml has them).
EVENT_ONLY_FIELDS: tuple[str, ...] = (LAYOUT_FIELD, TEMPLATE_FIELD)
EVENT_ROUTE = "event"
REPORT_ROUTE = "report"
#: Lower edges (CSS px) of the layout-width buckets after the first: 0-359, 360-767, ..., 1920+.
LAYOUT_BREAKPOINTS: tuple[int, ...] = (360, 768, 1024, 1280, 1440, 1920)


def layout_buckets(breakpoints: tuple[int, ...] = LAYOUT_BREAKPOINTS) -> list[tuple[int, int | None, str]]:
    """(low, high or None, label) per bucket: the labels the BigQuery query writes to `hm_layout`."""
    edges = [0, *breakpoints]
    out: list[tuple[int, int | None, str]] = []
    for low, high in zip(edges, [*breakpoints, None], strict=True):
        out.append((low, high, f"{low}-{high - 1}" if high is not None else f"{low}+"))
    return out


def layout_range(label: str) -> tuple[int, int | None] | None:
    """The CSS widths a layout bucket's label covers ("1440-1919" → (1440, 1919), "1920+" → (1920, None)), for
    whatever breakpoints the BigQuery query was built with; None for any other value."""
    found = re.fullmatch(r"(\d{1,6})(?:-(\d{1,6})|\+)", label)
    if found is None:
        return None
    low = int(found[1])
    if found[2] is None:
        return low, None
    high = int(found[2])
    return (low, high) if high >= low else None


def layout_of(css_width: int, labels: Iterable[str]) -> str | None:
    """The label among `labels` whose bucket holds `css_width` (a screenshot's width in CSS px), if any."""
    for label in labels:
        covered = layout_range(label)
        if covered is not None and covered[0] <= css_width and (covered[1] is None or css_width <= covered[1]):
            return label
    return None


#: GA4 API names of the report AppFlow exports daily (at most 9 dimensions and 10 metrics).
REPORT_DIMENSIONS: tuple[str, ...] = (
    "date",
    "pagePath",
    "eventName",
    f"customEvent:{BAND_PARAM}",
    f"customEvent:{X_PARAM}",
    f"customEvent:{Y_PARAM}",
    "deviceCategory",
    "sessionDefaultChannelGroup",
    "newVsReturning",
)
REPORT_METRICS: tuple[str, ...] = ("eventCount", f"customEvent:{SECONDS_PARAM}", f"customEvent:{SECONDS_SQ_PARAM}")

#: The two AppFlow flows of tracking/appflow.yaml are named <FlowNamePrefix><suffix>.
DAILY_FLOW_SUFFIX = "-daily"
BACKFILL_FLOW_SUFFIX = "-backfill"
#: The event route's two AppFlow flows (from the BigQuery table heatmap.heatmap_daily, optional in
#: tracking/appflow.yaml) are named <FlowNamePrefix><suffix>: a scheduled one and an on-demand backfill twin.
EVENT_DAILY_FLOW_SUFFIX = "-events-daily"
EVENT_BACKFILL_FLOW_SUFFIX = "-events-backfill"
#: Every AppFlow call the dashboard makes (Data health, `python -m heatmap flow-runs` / `backfill`), as IAM
#: actions. tracking/build.py writes the dashboard policy's AppFlow statements from these, so the policy and
#: the code cannot drift: reading runs on both flows, changing the date filter and starting a run only on the
#: on-demand backfill flow (the scheduled daily flow is never changed by the app).
FLOW_READ_ACTIONS: tuple[str, ...] = ("appflow:DescribeFlow", "appflow:DescribeFlowExecutionRecords")
FLOW_BACKFILL_ACTIONS: tuple[str, ...] = ("appflow:UpdateFlow", "appflow:StartFlow")

#: Segment dimensions in the default report, with friendly aliases accepted by `--where` and the URL. The layout
#: width and the declared template are the event route's (report-route rows have neither: "(not set)"). The
#: declared template is chosen with the page, not as a segment: a template's view takes the rows that declare it
#: and, of the rows that declare none, those its URL rule matches (heatmap/templates.py).
SEGMENT_DIMENSIONS: tuple[str, ...] = (
    "deviceCategory",
    "sessionDefaultChannelGroup",
    "newVsReturning",
    LAYOUT_FIELD,
    TEMPLATE_FIELD,
)
#: The maps a view can show, in the order the app offers them (the app, the CLI, the drawing and Compare).
MAP_KINDS: tuple[str, ...] = ("attention", "reach", "clicks")
SEGMENT_ALIASES: dict[str, str] = {
    "device": "deviceCategory",
    "channel": "sessionDefaultChannelGroup",
    "visitor": "newVsReturning",
    "layout": LAYOUT_FIELD,
}

#: The event route's export columns, in heatmap_daily.sql's order: the report's fields, the event route's own, the
#: route last (tracking/build.py names them plainly, the SQL engines read them lower case).
EVENT_FIELDS: tuple[str, ...] = (*REPORT_DIMENSIONS, *EVENT_ONLY_FIELDS, *REPORT_METRICS, ROUTE_FIELD)

#: GA4 custom definitions to register (event-scoped).
CUSTOM_DIMENSIONS: tuple[str, ...] = (BAND_PARAM, X_PARAM, Y_PARAM)
CUSTOM_METRICS: tuple[str, ...] = (SECONDS_PARAM, SECONDS_SQ_PARAM)

#: Values GA puts in place of a real value; rows carrying them where a value is needed are excluded.
PLACEHOLDER_VALUES: frozenset[str] = frozenset({"(other)", "(not set)", ""})


@dataclass(frozen=True)
class Bounds:
    """What a real page can send. GA4 stores whatever any browser posts (the measurement ID is public), so a
    row outside these bounds is excluded whole and counted: one forged value must not bloat or skew a map.

    Configurable (`[heatmap]` keys / HEATMAP_* variables of the same names) for sites with taller pages.
    """

    max_page_height_px: int = 100_000
    max_events_per_row: int = 1_000_000_000
    max_seconds_per_event: float = 86_400.0  # a band cannot be in view for more than a day per page view
    first_day: date = date(2005, 1, 1)  # Universal Analytics' first year
    future_days: int = 2  # GA's time zones run ahead of UTC; later dates are impossible
    max_page_length: int = 2_048
    max_segment_length: int = 256

    @property
    def max_band(self) -> int:
        return max(self.max_page_height_px // BAND_HEIGHT_PX - 1, 0)

    @property
    def max_click_y(self) -> int:
        return max(self.max_page_height_px // CLICK_Y_STEP_PX - 1, 0)

    def last_day(self, today: date | None = None) -> date:
        return (today or date.today()) + timedelta(days=self.future_days)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Bounds:
        """From configuration; unknown keys are left to the caller, bad numbers raise ValueError."""
        chosen: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name not in values or values[spec.name] in (None, ""):
                continue
            raw = values[spec.name]
            if spec.name == "first_day":
                chosen[spec.name] = date.fromisoformat(str(raw))
                continue
            number = float(raw)
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"{spec.name} must be a non-negative number, not {raw!r}")
            chosen[spec.name] = number if spec.name == "max_seconds_per_event" else int(number)
        return replace(cls(), **chosen)

    def fingerprint(self) -> str:
        return repr(self)
