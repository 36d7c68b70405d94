"""The tracking contract: the one place that names events, parameters and report fields.

The GTM tag, the GTM container export, the GA4 definitions, the AppFlow template and the readers'
defaults all come from (or are tested equal to) these values, so a rename cannot drift between them.
"""

from __future__ import annotations

BAND_HEIGHT_PX = 100
CLICK_Y_STEP_PX = 20

DWELL_EVENT = "hm_dwell"
#: More seconds for a band this page view already reported (the visitor came back to the tab): it adds
#: seconds but is not another page view that saw the band, so its events do not count towards reach.
DWELL_MORE_EVENT = "hm_dwell_more"
CLICK_EVENT = "hm_click"

BAND_PARAM = "hm_band"
SECONDS_PARAM = "hm_seconds"
X_PARAM = "hm_x"
Y_PARAM = "hm_y"

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
REPORT_METRICS: tuple[str, ...] = ("eventCount", f"customEvent:{SECONDS_PARAM}")

#: Segment dimensions in the default report, with friendly aliases accepted by `--where` and the URL.
SEGMENT_DIMENSIONS: tuple[str, ...] = ("deviceCategory", "sessionDefaultChannelGroup", "newVsReturning")
SEGMENT_ALIASES: dict[str, str] = {
    "device": "deviceCategory",
    "channel": "sessionDefaultChannelGroup",
    "visitor": "newVsReturning",
}

#: GA4 custom definitions to register (event-scoped).
CUSTOM_DIMENSIONS: tuple[str, ...] = (BAND_PARAM, X_PARAM, Y_PARAM)
CUSTOM_METRICS: tuple[str, ...] = (SECONDS_PARAM,)

#: Values GA puts in place of a real value; rows carrying them where a value is needed are excluded.
PLACEHOLDER_VALUES: frozenset[str] = frozenset({"(other)", "(not set)", ""})
