"""Explore's *Capture from the site*: the page captured at the layout's CSS width (heatmap.capture), stored beside
uploads and then shown as *Stored before*. On the demo, its pages are served locally (heatmap.demo_site)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from heatmap.capture import CaptureSettings, capture_and_store, provenance
from heatmap.capture.page import chromium_path
from heatmap.demo import DEVICES
from heatmap.errors import HeatmapError
from heatmap.stores import open_store
from heatmap.ui import data
from heatmap.ui.page import PageContext

PENDING = "_capture_pending"  # prefix + this: the sha256 to show after the rerun
SAID = "_capture_said"


def settings_of(ctx: PageContext) -> CaptureSettings | None:
    """The capture settings, the demo's own site when nothing is configured on the demo; None: not offered."""
    configured = ctx.settings.capture
    if configured.enabled:
        return configured
    if ctx.settings.uses_demo and _has_browser():  # the demo offers it only where it can work
        from heatmap.demo_site import demo_capture

        return demo_capture(configured.limits)
    return None


def _has_browser() -> bool:
    try:
        chromium_path()
    except HeatmapError:
        return False
    return True


def recorded_dpr(ctx: PageContext, sha: str) -> float | None:
    """The pixel ratio a stored capture was taken at (its record in the output store); None for an upload."""
    known: dict[str, float | None] = st.session_state.setdefault("_capture_dpr", {})
    if sha not in known:
        try:
            found = provenance(open_store(ctx.output, ctx.settings.s3), sha)
        except HeatmapError:
            found = None
        ratio = found.get("dpr") if found else None
        known[sha] = float(ratio) if isinstance(ratio, int | float) and ratio in (1, 2) else None
    return known[sha]


def take_pending(prefix: str) -> None:
    """Before the picker's widgets: a capture made on the last run is now the stored screenshot shown."""
    sha = st.session_state.pop(f"{prefix}{PENDING}", None)
    if sha:
        st.session_state[f"{prefix}src"] = "stored"
        st.session_state[f"{prefix}stored"] = sha


def said(prefix: str) -> None:
    """What the last capture said (shown once, under the picker)."""
    for level, text in st.session_state.pop(f"{prefix}{SAID}", []):
        (st.success if level == "success" else st.info if level == "info" else st.warning)(text)


def panel(
    ctx: PageContext,
    capture: CaptureSettings,
    prefix: str,
    page: str | None,
    device: str,
    paths: Sequence[tuple[str, int]] | None,
    width: int | None,
) -> None:
    """The capture controls for `capture` (settings_of). `paths`: the template's paths (busiest first) when the
    page is a template; `width`: the CSS width the layout asks for, else the device's."""
    t = ctx.t
    st.caption(t("capture.help"))
    path = paths[0][0] if paths else page
    if paths and page:
        st.caption(t("capture.template", path=path, template=page))
    try:
        default_url = capture.url_of(path or "/")
    except HeatmapError as exc:
        st.info(str(exc), icon=":material/link_off:")
        default_url = ""
    url_key = f"{prefix}capture_url"
    if st.session_state.get(f"_{url_key}_for") != default_url:  # a new page: its URL, not the last one typed
        st.session_state[url_key] = default_url
        st.session_state[f"_{url_key}_for"] = default_url
    url = st.text_input(t("capture.url"), key=url_key)
    css_width = st.number_input(
        t("capture.width"), 200, 4000, value=width or DEVICES.get(device, DEVICES["desktop"])[0], step=10,
        key=f"{prefix}capture_width_{width or device}",
    )  # fmt: skip
    dpr = st.radio(
        t("capture.dpr"), (1, 2), index=1 if device == "mobile" else 0, horizontal=True, key=f"{prefix}capture_dpr"
    )
    if not st.button(t("capture.button"), key=f"{prefix}capture_go", icon=":material/photo_camera:", type="primary"):
        return
    try:
        data.check_output(ctx.source, ctx.output)
        with st.spinner(t("capture.running", url=url, width=f"{int(css_width):,}")):
            stored = capture_and_store(
                capture, url, int(css_width), int(dpr or 1), open_store(ctx.output, ctx.settings.s3)
            )
    except HeatmapError as exc:
        st.error(t("capture.failed", error=exc), icon=":material/block:")
        return
    got = stored.captured
    said_now = [("success", t("capture.done", url=got.url, width=f"{got.css_width:,}", dpr=got.dpr,
                                browser=got.browser, height=f"{got.css_height:,}"))]  # fmt: skip
    if got.cut:
        said_now.append(("warning", t("capture.cut", height=f"{got.css_height:,}", page_height=f"{got.page_height:,}")))
    if got.refused:
        said_now.append(("info", t("capture.refused", count=len(got.refused), first=got.refused[0])))
    data.stored_shots.clear()
    st.session_state[f"{prefix}{PENDING}"] = stored.sha256
    st.session_state[f"{prefix}{SAID}"] = said_now
    st.rerun()
