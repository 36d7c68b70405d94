"""The Compare page body: two segments or two periods side by side on one colour scale, the difference map
(bands whose reach differs significantly, Benjamini–Hochberg at 5 %) and the per-band table."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from heatmap.drawing import render
from heatmap.drawing.captions import legend_text
from heatmap.statistics import compare
from heatmap.ui import figures, mapview, page, shots, widgets
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PageContext
from heatmap.ui.view import MODES, CompareView, Options, Problem, compare_query, default_compare, parse_compare

P = "c_"
VIEW_KEY = "c_view"
COLUMN_WIDTH = 300  # px per map: a third of the main area at 1440 px; wider figures leave blank space below


def values_for(view: CompareView, options: Options) -> dict[str, Any]:
    """Widget key -> value for a comparison, valid for the current options."""
    a, b = view.sides()
    values = widgets.view_values(P, a, options)
    values.pop(f"{P}dates", None)
    for dim in options.segments:  # view_values wrote side A's segment under c_seg_*: replace per mode
        values.pop(f"{P}seg_{dim}", None)
    values[f"{P}mode"] = view.mode if view.mode in MODES else "segments"
    values[f"{P}dates"] = widgets.view_values(P, a, options)[f"{P}dates"]
    values[f"{P}dates_b"] = widgets.view_values(P, b, options)[f"{P}dates"]
    for dim, known in options.segments.items():
        values[f"{P}seg_{dim}"] = [v for v in view.where.get(dim, ()) if v in known]
        values[f"{P}a_seg_{dim}"] = [v for v in view.where_a.get(dim, ()) if v in known]
        values[f"{P}b_seg_{dim}"] = [v for v in view.where_b.get(dim, ()) if v in known]
    return values


def _restore(ctx: PageContext, options: Options) -> list[Problem]:
    problems: list[Problem] = []
    if page.first_visit("compare"):
        link, problems = parse_compare(page.raw_params(), options)
        widgets.seed(values_for(link, options), force=True)
        missing = shots.seed_source(ctx, P, link.shot, force=True)
        if missing:
            problems.append(Problem("shot", link.shot or "", missing))
        st.session_state["_c_last_shot"] = link.shot if not missing else None
    else:
        last = st.session_state.get(VIEW_KEY) or default_compare(options)
        widgets.seed(values_for(last, options), force=False)
        shots.seed_source(ctx, P, last.shot, force=False)
    return problems


def _filters(t: Translator, options: Options, views: dict[str, int]) -> CompareView:
    with st.sidebar:
        st.subheader(t("filters.header"))
        page_path = widgets.page_picker(t, P, options, views)
        mode = st.radio(
            t("compare.mode"),
            list(MODES),
            key=f"{P}mode",
            format_func=lambda m: t(f"compare.mode_{m}"),
            horizontal=True,
        )
        kind = widgets.kind_picker(t, P)
        if mode == "periods":
            start, end = widgets.date_range(t, P, options, label=t("compare.dates_a"))
            start_b, end_b = widgets.date_range(t, P, options, key="dates_b", label=t("compare.dates_b"))
            st.caption(t("filters.segment"))
            where = widgets.segment_filters(t, P, options)
            return CompareView(
                mode="periods", page=page_path, kind=kind, start=start, end=end, start_b=start_b, end_b=end_b,
                where=where,
            )  # fmt: skip
        start, end = widgets.date_range(t, P, options)
        st.caption(t("compare.segment_a"))
        where_a = widgets.segment_filters(t, P, options, label_prefix="A · ", key_prefix="a_seg_")
        st.caption(t("compare.segment_b"))
        where_b = widgets.segment_filters(t, P, options, label_prefix="B · ", key_prefix="b_seg_")
        return CompareView(
            mode="segments", page=page_path, kind=kind, start=start, end=end, where_a=where_a, where_b=where_b
        )


def _describe(t: Translator, view: CompareView, side: str) -> str:
    a, b = view.sides()
    chosen = a if side == "A" else b
    return f"{chosen.start} – {chosen.end} · {widgets.segment_label(t, chosen.where)}"


def main(ctx: PageContext) -> None:
    t = ctx.t
    found = widgets.options_or_note(t, ctx.engine, ctx.source)
    if found is None:
        return
    options, views = found
    problems = _restore(ctx, options)
    view = _filters(t, options, views)
    st.title(f"{t('compare.title')} · {view.page}")
    page.warn_problems(t, problems)
    side_a, side_b = view.sides()
    nums_a = mapview.numbers(ctx.engine, side_a)
    nums_b = mapview.numbers(ctx.engine, side_b)
    device = shots.device_of(side_a.where if view.mode == "periods" else view.where_a)

    with st.expander(t("shot.header"), expanded=False, icon=":material/image:"):
        chosen = shots.picker(ctx, P, view.page, device)
        if chosen.sha != st.session_state.get("_c_last_shot"):
            st.session_state["_c_last_shot"] = chosen.sha
            if chosen.source == "demo":
                st.session_state[f"{P}dpr"] = shots.demo_dpr(device)
    with st.expander(t("align.header"), expanded=False, icon=":material/tune:"):
        display = widgets.display_controls(t, P, view.kind, with_alignment=chosen.shot is not None)
    view = view.with_(shot=chosen.sha, display=display)
    st.session_state[VIEW_KEY] = view
    page.sync_url(compare_query(view))
    with st.popover(t("share.header"), icon=":material/link:"):
        st.caption(t("share.help"))
        st.code(page.share_link(compare_query(view), "Compare"), language=None, wrap_lines=True)
    side_a, side_b = view.sides()

    minimum = ctx.settings.min_page_views
    cols = st.columns(3, gap="medium")
    for col, side, nums in ((cols[0], "A", nums_a), (cols[1], "B", nums_b)):
        col.metric(f"{side} · {t('n.page_views')}", f"{nums.n:,}")
        col.caption(_describe(t, view, side))
    if side_a == side_b or (view.mode == "segments" and dict(view.where_a) == dict(view.where_b)):
        st.warning(t("compare.same"), icon=":material/content_copy:")
        return
    low = [(s, n.n) for s, n in (("A", nums_a), ("B", nums_b)) if n.n < minimum]
    for side, n in low:
        st.warning(t("compare.low", side=side, n=f"{n:,}", min=f"{minimum:,}"), icon=":material/hourglass_empty:")
    comparison = compare.compare_bands(nums_a.bands, nums_b.bands)
    overlap = view.overlapping(options)
    cols[2].metric(t("compare.significant"), f"{comparison.significant_count:,}")
    cols[2].caption(t("compare.significant_help"))
    if overlap:
        st.warning(t("compare.overlap"), icon=":material/join_inner:")
    if not low:
        _maps(ctx, view, nums_a, nums_b, comparison, chosen.shot, device, overlap)
    st.subheader(t("compare.table"))
    st.dataframe(table_frame(t, comparison), hide_index=True, key="c_table", height=360)
    st.download_button(
        t("download.csv"),
        data=comparison.table.write_csv(),
        file_name=f"compare-{(view.page or 'page').strip('/').replace('/', '_') or 'home'}.csv",
        mime="text/csv",
        icon=":material/table:",
        key="c_dl_csv",
        on_click="ignore",
    )


def _maps(
    ctx: PageContext,
    view: CompareView,
    nums_a: mapview.Numbers,
    nums_b: mapview.Numbers,
    comparison: compare.Comparison,
    shot: Any,
    device: str,
    overlap: bool,
) -> None:
    t = ctx.t
    side_a, side_b = view.sides()
    engine = mapview.engine_display(view.kind, view.display)
    if view.kind == "attention":
        engine = compare.shared_display(engine, [nums_a.bands.seconds_per_view, nums_b.bands.seconds_per_view])
    elif view.kind == "clicks":
        css_width = shot.width / view.display.dpr if shot is not None else mapview.CANVAS_WIDTHS.get(device, 1440)
        densities = [n.clicks.density(css_width, engine.sigma_px) for n in (nums_a, nums_b)]
        engine = compare.shared_display(engine, densities)
    labels = figures.plotly_labels(t)
    st.caption(t("compare.same_scale"))
    cols = st.columns(3, gap="medium")
    with st.spinner(t("map.rendering")):
        for col, side, chosen, nums in ((cols[0], "A", side_a, nums_a), (cols[1], "B", side_b, nums_b)):
            with col:
                st.markdown(f"**{side}**")
                shown = mapview.preview(shot, chosen, nums, labels, device, engine=engine, max_width=COLUMN_WIDTH, t=t)
                st.plotly_chart(shown.figure, theme=None, key=f"c_map_{side}", width="content", config=_CONFIG)
        with cols[2]:
            st.markdown(f"**B − A** · {t('compare.diff')}")
            if view.kind != "reach":
                st.caption(t("compare.diff_attention"))
            if overlap:
                st.caption(t("compare.overlap_short"))
            if comparison.significant_count == 0:
                st.info(t("compare.diff_none"), icon=":material/equal:")
            template = t(
                "compare.hover_diff",
                band="%{customdata[0]:.0f}",
                top="%{customdata[1]:,.0f}",
                bottom="%{customdata[2]:,.0f}",
                a="%{customdata[3]:.1f}",
                b="%{customdata[4]:.1f}",
                diff="%{customdata[5]:+.1f}",
                p="%{customdata[6]:.3g}",
            )
            shown_diff, _ = mapview.difference_preview(
                shot, side_a, comparison, template + "<extra></extra>", legend_text(t.lang, "title.difference"),
                difference_caption(view, nums_a.n + nums_b.n, t), device, max_width=COLUMN_WIDTH,
            )  # fmt: skip
            assert shown_diff is not None
            st.plotly_chart(shown_diff.figure, theme=None, key="c_map_diff", width="content", config=_CONFIG)


_CONFIG = {"scrollZoom": False, "displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def table_frame(t: Translator, comparison: compare.Comparison) -> pl.DataFrame:
    c = comparison.table
    return pl.DataFrame(
        {
            t("table.band"): c["band"],
            t("table.top"): c["top_px"],
            f"A · {t('table.reach')} %": (c["reach_a"] * 100).round(1),
            f"B · {t('table.reach')} %": (c["reach_b"] * 100).round(1),
            t("compare.col_diff"): (c["reach_diff"] * 100).round(1),
            t("compare.col_p"): c["p_adjusted"].round(4),
            t("compare.col_sig"): c["significant"],
            f"A · {t('table.seconds')}": c["seconds_per_view_a"].round(2),
            f"B · {t('table.seconds')}": c["seconds_per_view_b"].round(2),
            t("compare.col_attention_diff"): c["attention_diff"].round(2),
        }
    )


def difference_caption(view: CompareView, page_views: int, t: Translator = mapview.EN) -> render.Caption:
    """The legend facts of a difference map, in the page's language."""
    a, b = view.sides()
    everyone = legend_text(t.lang, "all_visitors")
    if view.mode == "periods":
        segment = widgets.segment_label(t, view.where) if view.where else everyone
        return render.Caption(
            page=view.page or "", start=f"A {a.start} – {a.end}", end=f"B {b.start} – {b.end}", segment=segment,
            page_views=page_views, language=t.lang,
        )  # fmt: skip
    seg_a = widgets.segment_label(t, view.where_a) if view.where_a else everyone
    seg_b = widgets.segment_label(t, view.where_b) if view.where_b else everyone
    return render.Caption(
        page=view.page or "", start=str(a.start), end=str(a.end), segment=f"A {seg_a} vs B {seg_b}",
        page_views=page_views, language=t.lang,
    )  # fmt: skip
