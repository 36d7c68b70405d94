"""The Explore page body (streamlit_app.py): widgets → engine → map, numbers, save and share."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitAPIException

from heatmap.contract import LAYOUT_FIELD, layout_of, layout_range
from heatmap.drawing import render
from heatmap.drawing.captions import folded_percent
from heatmap.errors import CropError, HeatmapError
from heatmap.ui import busy, figures, mapview, page, saved, shots, widgets
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PAGES_BY_ID, PageContext
from heatmap.usecases import links
from heatmap.usecases.numbers import Numbers, numbers
from heatmap.usecases.view import (
    DPRS,
    Problem,
    View,
    bound_params,
    colourless,
    compare_from,
    compare_query,
    default_view,
    parse_view,
    view_query,
)

log = logging.getLogger("heatmap.ui")

P = "x_"  # widget keys of this page
VIEW_KEY = "x_view"


def _restore(ctx: PageContext, options: Any) -> list[Problem]:
    """Seed the widgets from a saved run (?run=), a link (first visit) or this session's last view."""
    params, capped = bound_params(page.raw_params())  # nothing longer than a few KB reaches session state
    params, capped = _expanded(ctx, params, capped)
    run_id: str | None = (params.get("run") or [""])[-1] or None
    link: View | None = None
    problems: list[Problem] = []
    moved = page.navigated("explore")  # Back/Forward: the address holds an earlier view
    if run_id and (run_id != st.session_state.get("_x_run") or moved):
        st.session_state["_x_run"] = run_id
        page.first_visit("explore")
        link, problems = saved.view_of_run(ctx, run_id, options)
        if link is not None:
            st.session_state["_x_restored"] = run_id
        else:  # no such run: the rest of the link still counts
            link, more = parse_view(params, options)
            problems += more
        problems = capped + problems
    elif page.first_visit("explore") or moved:
        link, problems = parse_view(params, options)
        problems = capped + problems
    if link is not None:
        st.session_state["_x_spot"] = link.spot  # where the map opens, once (popped when it is shown)
        st.session_state[LAYOUT_AUTO] = not (run_id or params.get("page"))  # a link names its widths fully
        st.session_state.pop(LAYOUT_FOR, None)
        widgets.seed(widgets.view_values(P, link, options), force=True)
        missing = shots.seed_source(ctx, P, link.shot, force=True)
        if missing:
            problems.append(Problem("shot", link.shot or "", missing))
        st.session_state["_x_last_shot"] = link.shot if not missing else None
    else:
        last = st.session_state.get(VIEW_KEY) or default_view(options)
        widgets.seed(widgets.view_values(P, last, options), force=False)
        shots.seed_source(ctx, P, last.shot, force=False)
    return problems


def _expanded(
    ctx: PageContext, params: dict[str, list[str]], problems: list[Problem]
) -> tuple[dict[str, list[str]], list[Problem]]:
    """A short link (?s=) opened: the parameters it names, as if the whole link had been opened."""
    ident = (params.get(links.KEY) or [""])[-1]
    if not ident:
        return params, problems
    rest = {k: v for k, v in params.items() if k != links.KEY}
    try:
        stored, capped = bound_params(links.read_link(saved.ctx_store(ctx), ident))
    except HeatmapError as exc:
        log.info("short link %.80s could not be opened: %s", ident, exc)
        return rest, [*problems, Problem(links.KEY, ident, "short_missing")]
    return {**stored, **{k: v for k, v in rest.items() if k == "lang"}}, [*problems, *capped]


def _guess_dpr(shot: shots.Shot, data_height: int) -> float:
    """The device-pixel ratio that makes the screenshot as tall as the data reaches (1 without data)."""
    if data_height <= 0:
        return 1.0
    return min(DPRS, key=lambda d: abs(shot.height / d - data_height))


def main(ctx: PageContext) -> None:
    t = ctx.t
    found = widgets.options_or_note(t, ctx.engine, ctx.source, ctx.settings.templates)
    if found is None:
        return
    options, views = found
    problems = _restore(ctx, options)
    if LAYOUT_PENDING in st.session_state:  # chosen for the screenshot on the last run (_auto_layout)
        st.session_state[LAYOUT_KEY] = st.session_state.pop(LAYOUT_PENDING)
        problems = [*st.session_state.pop(LAYOUT_CARRY, []), *problems]  # what that run found in the link

    with st.sidebar:
        st.subheader(t("filters.header"))
        page_path = widgets.page_picker(t, P, options, views)
        start, end = widgets.date_range(t, P, options)
        kind = widgets.kind_picker(t, P, instant=True)
        layer = widgets.layer_picker(t, P)
        st.caption(t("filters.segment"))
        where = widgets.segment_filters(t, P, options)

    st.title(page_path or t("explore.title"))
    st.caption(f"{start} – {end} · {widgets.segment_label(t, where)}")  # the map's legend names its type
    page.warn_problems(t, problems)
    view = View(page=page_path, start=start, end=end, where=where, kind=kind, layer=layer)
    nums = numbers(ctx.engine, view, ctx.settings.templates)
    notes = _run_notes(t, nums)
    device = shots.device_of(where, fallback=shots.named_device(ctx, P))
    mapview.show_numbers(t, nums, kind)
    if nums.missing_days:
        days = ", ".join(d.isoformat() for d in nums.missing_days[:5])
        text = t("guard.missing_days", count=len(nums.missing_days), days=days)
        notes.append(page.Notice("info", text, ":material/event_busy:"))
    if nums.ga_folded:
        level = "warning" if nums.ga_folded >= 0.05 else "info"
        text = t("guard.ga_folded", share=folded_percent(nums.ga_folded))
        notes.append(page.Notice(level, text, ":material/call_merge:"))

    # Widgets stay out of popovers: a popover mounts its content only while open, and a radio mounted later
    # shows its default instead of the session's value (Streamlit 1.67).
    with st.sidebar.expander(t("shot.header"), expanded=True, icon=":material/image:"):
        paths = options.templates.get(page_path) if page_path else None
        chosen = shots.picker(ctx, P, page_path, device, paths, _layout_width(where))
        _auto_dpr(ctx, chosen, nums, device)
    with st.sidebar.expander(t("align.header"), icon=":material/tune:"):
        display = widgets.display_controls(t, P, kind, with_alignment=chosen.shot is not None, instant=True)
        if chosen.shot is not None:
            shot = chosen.shot
            st.caption(
                t(
                    "shot.info",
                    width=f"{shot.width:,}",
                    height=f"{shot.height:,}",
                    css_width=f"{shot.width / display.dpr:,.0f}",
                    dpr=f"{display.dpr:g}",
                    css_height=f"{shot.height / display.dpr:,.0f}",
                )
            )
    _auto_layout(options, chosen, display.dpr, problems)
    view = view.with_(shot=chosen.sha, display=display)
    st.session_state[VIEW_KEY] = view
    page.sync_url(view_query(view), "explore")
    notes += _shot_notes(ctx, view, nums, chosen.shot)
    notes += _layout_notes(ctx, view, nums, chosen.shot)
    if view.layer != "all" and not nums.clicks.total:
        notes.append(page.Notice("info", t("layer.none", layer=t(f"layer.{view.layer}")), ":material/ads_click:"))
    elif view.layer == "fixed":
        notes.append(page.Notice("info", t("layer.fixed_note"), ":material/push_pin:"))
    line = st.columns([3, 2], vertical_alignment="center")
    with line[0]:
        page.show_notices(t, notes)
    with line[1]:
        _compare_link(t, view, options)
    shown = _map(ctx, view, nums, chosen.shot, device)
    if shown and nums.clicks.total:  # the ranked areas right under a click map (the browser shows them then)
        st.html(
            "<style>body:not([data-heatmap-kind=clicks]) .st-key-x_areas_box{display:none}"
            "body:not([data-heatmap-kind]) .st-key-x_areas_box{display:" + ("block" if kind == "clicks" else "none")
            + "}</style>"
        )  # fmt: skip
        with st.container(key="x_areas_box"):
            mapview.show_click_areas(t, nums, key="x_areas")
            mapview.show_frustration(t, nums, key="x_frustration")
            mapview.show_fixed(t, nums, key="x_fixed")
    template_paths = options.templates.get(page_path) if page_path else None  # the page is a template
    extra = [t("template.paths")] if template_paths is not None else []
    save_tab, curve_tab, table_tab, *paths_tab = st.tabs(
        [t("save.header"), t("curve.header"), t("table.header"), *extra]
    )
    with save_tab:
        saved.save_and_share(ctx, view, nums, chosen.shot, device, shown)
    with curve_tab:
        if nums.n > 0:
            mapview.show_curve(t, nums.bands, key="x_curve")
    with table_tab:
        mapview.show_table(t, nums.bands, key="x_table")
    if template_paths is not None:
        with paths_tab[0]:
            _template_paths(t, view, template_paths)


TEMPLATE_PATHS_SHOWN = 100  # a template of the seed's job site holds tens of thousands of paths


def _template_paths(t: Translator, view: View, paths: Sequence[tuple[str, int]]) -> None:
    """A template's busiest paths (page views over all dates), each a link to the same view of that path alone."""
    shown = paths[:TEMPLATE_PATHS_SHOWN]
    st.caption(t("template.paths_caption", shown=f"{len(shown):,}", paths=f"{len(paths):,}"))
    path_col, views_col, open_col = t("template.path"), t("template.views"), t("template.open")
    links = [page.share_link(view_query(view.with_(page=path))) for path, _views in shown]
    frame = pl.DataFrame(
        {path_col: [p for p, _v in shown], views_col: [v for _p, v in shown], open_col: links},
        schema={path_col: pl.String, views_col: pl.Int64, open_col: pl.String},
    )
    st.dataframe(
        frame,
        hide_index=True,
        key="x_template_paths",
        height=mapview.table_height(len(shown)),
        column_config={open_col: st.column_config.LinkColumn(display_text=t("template.open_text"))},
    )


def _layout_width(where: Mapping[str, Sequence[str]]) -> int | None:
    """The CSS width one chosen layout width asks a capture for (its bucket's lower edge); None otherwise."""
    chosen = where.get(LAYOUT_FIELD, ())
    covered = layout_range(chosen[0]) if len(chosen) == 1 else None
    return max(covered[0], 320) if covered else None


def _auto_dpr(ctx: PageContext, chosen: shots.Chosen, nums: Numbers, device: str) -> None:
    """When a different screenshot is picked (not from a link), preset its device-pixel ratio."""
    sha = chosen.sha
    if sha == st.session_state.get("_x_last_shot"):
        return
    st.session_state["_x_last_shot"] = sha
    if chosen.shot is None:
        return
    known = shots.known_dpr(ctx, chosen, device)
    st.session_state[f"{P}dpr"] = known if known is not None else _guess_dpr(chosen.shot, nums.bands.data_height_px)
    for key in ("shift", "crop_top", "crop_bottom"):
        st.session_state[f"{P}{key}"] = 0


LAYOUT_KEY = f"{P}seg_{LAYOUT_FIELD}"
LAYOUT_AUTO, LAYOUT_PENDING, LAYOUT_FOR = "_x_layout_auto", "_x_layout_pending", "_x_layout_for"
LAYOUT_CARRY, LAYOUT_TOTAL = "_x_layout_carry", "_x_layout_total"


def _auto_layout(options: Any, chosen: shots.Chosen, dpr: float, problems: list[Problem]) -> None:
    """A screenshot shows one layout: until the designer picks layout widths (or a link names them), the view
    keeps the page views of the bucket that holds the screenshot's CSS width. Chosen once per screenshot and
    ratio, then applied on a rerun (a widget's value cannot change after it is drawn), which shows `problems` of
    the link again."""
    if chosen.shot is None or not st.session_state.get(LAYOUT_AUTO, True):
        return
    mark, last = (chosen.shot.sha256, dpr), st.session_state.get(LAYOUT_FOR)  # last: (mark, widths chosen)
    if last is not None and st.session_state.get(LAYOUT_KEY, []) != last[1]:
        st.session_state[LAYOUT_AUTO] = False  # the designer chose widths
        return
    if last is not None and last[0] == mark:
        return
    label = layout_of(round(chosen.shot.width / dpr), options.segments.get(LAYOUT_FIELD, ()))
    wanted = [label] if label else []
    st.session_state[LAYOUT_FOR] = (mark, wanted)
    if st.session_state.get(LAYOUT_KEY, []) != wanted:
        st.session_state[LAYOUT_PENDING] = wanted
        st.session_state[LAYOUT_CARRY] = problems
        st.rerun()


def _layout_notes(ctx: PageContext, view: View, nums: Numbers, shot: shots.Shot | None) -> list[page.Notice]:
    """How many of the page's page views the layout filter leaves out, or that the data knows no widths."""
    t = ctx.t
    chosen = view.where.get(LAYOUT_FIELD, ())
    if shot is None:
        return []
    if not chosen:
        known = [v for v in ctx.engine.catalog.segment_values.get(LAYOUT_FIELD, ()) if layout_range(v) is not None]
        return [] if known else [page.Notice("info", t("layout.none"), ":material/devices:")]
    total = _page_views_at_every_width(ctx, view)
    others = total - nums.n
    if others <= 0:
        return []
    text = t("layout.others", others=f"{others:,}", total=f"{total:,}", share=f"{others / total:.0%}")
    return [page.Notice("info", text, ":material/devices:")]


def _page_views_at_every_width(ctx: PageContext, view: View) -> int:
    """The view's page views without its layout filter: a second engine query, so asked again only when the
    page, dates or the rest of the segment change (not on a rerun for the screenshot, display, widths or layer)."""
    every = view.with_(where={k: v for k, v in view.where.items() if k != LAYOUT_FIELD})
    key = (id(ctx.engine), every.page, every.start, every.end, tuple(sorted(every.where.items())))
    known = st.session_state.get(LAYOUT_TOTAL)
    if known is None or known[0] != key:
        known = st.session_state[LAYOUT_TOTAL] = (key, numbers(ctx.engine, every, ctx.settings.templates).n)
    total: int = known[1]
    return total


def _map(ctx: PageContext, view: View, nums: Numbers, shot: shots.Shot | None, device: str) -> bool:
    """The overlay, or the low-data guard instead of it. True when a map is shown."""
    t = ctx.t
    minimum = ctx.settings.min_page_views
    if nums.n == 0:
        days = (view.end - view.start).days + 1 if view.start and view.end else 0
        none_exported = days > 0 and len(nums.missing_days) >= days
        st.warning(t("guard.no_export" if none_exported else "guard.none"), icon=":material/search_off:")
        return False
    if nums.n < minimum:
        st.warning(t("guard.low", n=f"{nums.n:,}", min=f"{minimum:,}"), icon=":material/hourglass_empty:")
        return False
    try:
        with busy.working(t, "map.rendering"):
            shown = mapview.live_preview(shot, view, nums, figures.hover_labels(t, nums.n), device, t=t)
    except CropError as exc:  # a crop that leaves nothing of the screenshot
        st.warning(str(exc), icon=":material/crop:")
        return False
    except Exception:  # a bug: logged with its traceback, one sentence on the page, the rest of it still works
        log.exception("the map of %s could not be drawn", view.page)
        st.error(t("map.failed"), icon=":material/error:")
        return False
    # The frame is the same whatever the map type and colours (the browser applies them), so changing them
    # never reloads it: its link leaves them out (viewer.js adds the ones shown), and a click map opens at the
    # clicks only when the page opens on one.
    opening = mapview.clicks_opening(nums) if view.kind == "clicks" and st.session_state.get("_x_spot") else None
    st.session_state["_x_payload"] = mapview.show_viewer(
        t, [shown.layer], mapview.depth_marks(t, nums.bands), "x_map", page.share_link(colourless(view_query(view))),
        view.page, st.session_state.pop("_x_spot", None), opening=opening,
        controls=widgets.instant_controls(t, P),
    )  # fmt: skip
    return True


def _compare_link(t: Any, view: View, options: Any) -> None:
    """ "Compare this view": Compare opens on this page, segment, type and screenshot, B = these dates, A = before."""
    if view.start is None or view.end is None:
        return
    query = {**compare_query(compare_from(view, options.first_day)), **page.language_params()}
    with contextlib.suppress(StreamlitAPIException):  # the page file run on its own (tests): no app navigation
        st.page_link(
            PAGES_BY_ID["compare"], label=t("explore.compare_this"), icon=":material/compare:", query_params=query
        )


def _run_notes(t: Any, nums: Numbers) -> list[page.Notice]:
    """A saved run just reopened: which, from when, and whether its data has changed since."""
    restored = st.session_state.pop("_x_restored", None)
    record = st.session_state.pop("_x_run_record", None)
    if not restored or record is None:
        return []
    when = str(record.created)[:16].replace("T", " ")
    notes = [page.Notice("success", t("run.restored", run_id=restored, when=when), ":material/history:")]
    then = int(record.statistics.get("page_views", nums.n))
    if then != nums.n:
        text = t("run.data_changed", then=f"{then:,}", now=f"{nums.n:,}")
        notes.append(page.Notice("info", text, ":material/update:"))
    return notes


def _shot_notes(ctx: PageContext, view: View, nums: Numbers, shot: shots.Shot | None) -> list[page.Notice]:
    """No screenshot, or one whose height does not match how far the data reaches (only over a map)."""
    t = ctx.t
    if nums.n < ctx.settings.min_page_views:
        return []
    if shot is None:
        return [page.Notice("info", t("map.no_shot"), ":material/image_not_supported:")]
    data_px = nums.bands.data_height_px  # how far visitors scrolled: clicks need not reach the bottom
    align = view.display.alignment(shot.width, shot.height)
    try:
        problem = render.alignment_warning(data_px, shot.width, shot.height, align)
    except CropError:  # the map says so
        return []
    if not problem:
        return []
    covered = render.covered_css(shot.width, shot.height, align)
    text = t("align.height_mismatch", data_px=f"{data_px:,}", shot_px=f"{covered:,.0f}")
    devices = widgets.options_for(ctx.engine, ctx.settings.templates)[0].segments.get("deviceCategory", ())
    if len(view.where.get("deviceCategory", ())) != 1 and len(devices) > 1:
        text += " " + t("align.mixed_devices")
    return [page.Notice("warning", text, ":material/straighten:")]
