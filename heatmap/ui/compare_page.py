"""The Compare page body: two segments or two periods side by side on one colour scale, the difference map of the
type shown (only the bands or click regions whose difference is significant: two-proportion z-test for reach,
Welch's t-test for attention, the exact Poisson rate test for clicks; Benjamini–Hochberg over the map) and the
differences said plainly, largest first, with the per-band table (plus the click regions) behind them."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import polars as pl
import streamlit as st

from heatmap.drawing import live, render
from heatmap.drawing.captions import legend_text
from heatmap.statistics import compare
from heatmap.ui import busy, figures, mapview, page, shots, widgets
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PageContext
from heatmap.usecases.differences import MIN_EFFECT, Difference, differences, p_text
from heatmap.usecases.numbers import Numbers, numbers
from heatmap.usecases.view import (
    EFFECT_RANGE,
    MODES,
    CompareView,
    Options,
    Problem,
    colourless,
    compare_query,
    default_compare,
    parse_compare,
    previous_period,
)

P = "c_"
VIEW_KEY = "c_view"
MAX_HEADLINES = 8


def values_for(view: CompareView, options: Options) -> dict[str, Any]:
    """Widget key -> value for a comparison, valid for the current options."""
    a, b = view.sides()
    values = widgets.view_values(P, a, options)
    values.pop(f"{P}dates", None)
    for dim in options.segments:  # view_values wrote side A's segment under c_seg_*: replace per mode
        values.pop(f"{P}seg_{dim}", None)
    values[f"{P}mode"] = view.mode if view.mode in MODES else "segments"
    values[f"{P}diff"] = bool(view.diff)
    values[f"{P}effect_{view.kind}"] = MIN_EFFECT[view.kind] if view.min_effect is None else view.min_effect
    values[f"{P}dates"] = widgets.view_values(P, a, options)[f"{P}dates"]
    values[f"{P}dates_b"] = widgets.view_values(P, b, options)[f"{P}dates"]
    for dim, known in options.segments.items():
        values[f"{P}seg_{dim}"] = [v for v in view.where.get(dim, ()) if v in known]
        values[f"{P}a_seg_{dim}"] = [v for v in view.where_a.get(dim, ()) if v in known]
        values[f"{P}b_seg_{dim}"] = [v for v in view.where_b.get(dim, ()) if v in known]
    return values


def _restore(ctx: PageContext, options: Options) -> list[Problem]:
    problems: list[Problem] = []
    if page.first_visit("compare") or page.navigated("compare"):
        link, problems = parse_compare(page.raw_params(), options)
        st.session_state["_c_spot"] = link.spot  # where the maps open, once (popped when they are shown)
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
            on_change=_mode_changed,
            args=(options,),
        )
        kind = widgets.kind_picker(t, P)
        layer = widgets.layer_picker(t, P)
        effect = _effect_input(t, kind)
        if mode == "periods":
            start, end = widgets.date_range(t, P, options, label=t("compare.dates_a"))
            start_b, end_b = widgets.date_range(t, P, options, key="dates_b", label=t("compare.dates_b"))
            st.caption(t("filters.segment"))
            where = widgets.segment_filters(t, P, options)
            return CompareView(
                mode="periods", page=page_path, kind=kind, start=start, end=end, start_b=start_b, end_b=end_b,
                where=where, min_effect=effect, layer=layer,
            )  # fmt: skip
        start, end = widgets.date_range(t, P, options)
        st.caption(t("compare.segment_a"))
        where_a = widgets.segment_filters(t, P, options, label_prefix="A · ", key_prefix="a_seg_")
        st.caption(t("compare.segment_b"))
        where_b = widgets.segment_filters(t, P, options, label_prefix="B · ", key_prefix="b_seg_")
        return CompareView(
            mode="segments", page=page_path, kind=kind, start=start, end=end, where_a=where_a, where_b=where_b,
            min_effect=effect, layer=layer,
        )  # fmt: skip


def _effect_input(t: Translator, kind: str) -> float | None:
    """The smallest significant difference worth a headline, in the kind's unit; None when it is the default."""
    key = f"{P}effect_{kind}"
    default = MIN_EFFECT[kind]
    if st.session_state.get(key) is None:
        st.session_state[key] = default
    value = st.number_input(
        t(f"compare.effect_{kind}"), *EFFECT_RANGE, step=0.5 if kind == "reach" else 5.0, key=key,
        help=t("compare.effect_help"),
    )  # fmt: skip
    return None if value is None or float(value) == default else float(value)


def _mode_changed(options: Options) -> None:
    """Switching to two periods compares the chosen dates (B) with the period just before (A), for side A's
    segment, as a link with only `from`/`to` does; not two identical selections."""
    if st.session_state.get(f"{P}mode") != "periods":
        return
    chosen = st.session_state.get(f"{P}dates")
    if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
        before = previous_period(chosen[0], chosen[1], options.first_day)
        if before is not None:
            st.session_state[f"{P}dates"] = before
            st.session_state[f"{P}dates_b"] = (chosen[0], chosen[1])
    for dim in options.segments:
        st.session_state[f"{P}seg_{dim}"] = list(st.session_state.get(f"{P}a_seg_{dim}") or [])


def _describe(t: Translator, view: CompareView, side: str) -> str:
    a, b = view.sides()
    chosen = a if side == "A" else b
    return f"{chosen.start} – {chosen.end} · {widgets.segment_label(t, chosen.where)}"


def main(ctx: PageContext) -> None:
    t = ctx.t
    found = widgets.options_or_note(t, ctx.engine, ctx.source, ctx.settings.templates)
    if found is None:
        return
    options, views = found
    problems = _restore(ctx, options)
    view = _filters(t, options, views)
    st.title(f"{t('compare.title')} · {view.page}")
    page.warn_problems(t, problems)
    side_a, side_b = view.sides()
    nums_a = numbers(ctx.engine, side_a, ctx.settings.templates)
    nums_b = numbers(ctx.engine, side_b, ctx.settings.templates)
    device = shots.device_of(side_a.where if view.mode == "periods" else view.where_a, shots.named_device(ctx, P))

    with st.sidebar.expander(t("shot.header"), icon=":material/image:"):  # widgets stay out of popovers (explore.py)
        chosen = shots.picker(ctx, P, view.page, device, options.templates.get(view.page) if view.page else None)
        if chosen.sha != st.session_state.get("_c_last_shot"):
            st.session_state["_c_last_shot"] = chosen.sha
            known = shots.known_dpr(ctx, chosen, device)
            if known is not None:
                st.session_state[f"{P}dpr"] = known
    with st.sidebar.expander(t("align.header"), icon=":material/tune:"):
        display = widgets.display_controls(t, P, view.kind, with_alignment=chosen.shot is not None, instant=True)
    bar = st.columns([1, 3], gap="small", vertical_alignment="center")
    diff = bar[1].toggle(t("compare.show_diff"), key=f"{P}diff", help=t("compare.show_diff_help"))
    view = view.with_(shot=chosen.sha, display=display, diff=diff)
    st.session_state[VIEW_KEY] = view
    page.sync_url(compare_query(view), "compare")
    with bar[0].popover(t("share.header"), icon=":material/link:", width="stretch"):
        # The colours change in the browser: the link waits until the server has the ones shown.
        widgets.as_shown_style(view.kind, view.display, "c_as_shown", "c_update", "c_maps")
        with st.container(key="c_update"):
            st.caption(t("share.stale"))
            st.button(t("share.update"), icon=":material/sync:", key="c_update_button")
        with st.container(key="c_as_shown"):
            st.caption(t("share.help"))
            st.code(page.share_link(compare_query(view), "Compare"), language=None, wrap_lines=True)
    side_a, side_b = view.sides()

    minimum = ctx.settings.min_page_views
    cols = st.columns(3, gap="medium")
    for col, side, nums in ((cols[0], "A", nums_a), (cols[1], "B", nums_b)):
        col.metric(f"{side} · {t('n.page_views')}", f"{nums.n:,}")
        col.caption(_describe(t, view, side))
    if view.same():
        st.warning(t("compare.same"), icon=":material/content_copy:")
        return
    low = [(s, n.n) for s, n in (("A", nums_a), ("B", nums_b)) if n.n < minimum]
    for side, n in low:
        st.warning(t("compare.low", side=side, n=f"{n:,}", min=f"{minimum:,}"), icon=":material/hourglass_empty:")
    settings = ctx.settings
    comparison = compare.compare_bands(
        nums_a.bands, nums_b.bands, settings.fdr, clicks_a=nums_a.clicks, clicks_b=nums_b.clicks,
        min_views=settings.min_band_views,
    )  # fmt: skip
    family = comparison.family(view.kind)
    overlap = view.overlapping()
    label = "compare.significant_regions" if family.unit == "region" else "compare.significant"
    cols[2].metric(t(label), f"{family.significant_count:,}")
    cols[2].caption(
        t("compare.significant_help", what=t(f"compare.what_{view.kind}"), test=t(f"compare.test_{view.kind}"),
          tested=f"{family.tested_count:,}", units=t(f"compare.units_{family.unit}"), fdr=f"{comparison.alpha:.0%}")
    )  # fmt: skip
    if overlap:
        st.warning(t("compare.overlap"), icon=":material/join_inner:")
    if not low:
        _maps(ctx, view, nums_a, nums_b, comparison, chosen.shot, device, overlap)
        listed, smaller = differences(comparison, view.kind, view.min_effect)
        _headlines(t, view, listed, smaller)
    if view.kind == "attention":
        shown_on_map = not low and not comparison.attention_tested  # the map column already says why
        for reason, note in untested_notes(t, comparison):
            if not (shown_on_map and reason == comparison.attention_note):
                st.caption(note)
    with st.expander(t("compare.technical"), icon=":material/table:"):
        st.caption(t("compare.table"))
        st.dataframe(table_frame(t, comparison, view.kind), hide_index=True, key="c_table", height=360)
        if view.kind == "clicks" and comparison.regions is not None and comparison.regions.height:
            st.caption(t("compare.regions"))
            regions = regions_frame(t, comparison)
            st.dataframe(regions, hide_index=True, key="c_regions", height=mapview.table_height(regions.height, 240))
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
    nums_a: Numbers,
    nums_b: Numbers,
    comparison: compare.Comparison,
    shot: shots.Shot | None,
    device: str,
    overlap: bool,
) -> None:
    t = ctx.t
    side_a, side_b = view.sides()
    family = comparison.family(view.kind)
    test, fdr = t(f"compare.test_{view.kind}"), f"{comparison.alpha:.0%}"
    with busy.working(t, "map.rendering"):
        # A's picture carries B and B − A too: the browser paints all three on it, on one colour scale, and
        # changes their colours without asking the server.
        shown_a = mapview.live_preview(
            shot, side_a, nums_a, figures.hover_labels(t, nums_a.n), device, t=t, title="A", also=(nums_b,)
        )
        shown_b = mapview.live_on(shown_a, side_b, nums_b, figures.hover_labels(t, nums_b.n), t, "B")
        attention = [nums_a.bands.seconds_per_view, nums_b.bands.seconds_per_view]
        specs = live.shared_scale([shown_a.layer.live or {}, shown_b.layer.live or {}], attention)
        layers = [replace(shown.layer, live=spec) for shown, spec in zip((shown_a, shown_b), specs, strict=True)]
        if view.diff:
            diff_title = f"B − A · {t('compare.diff', units=t(f'compare.units_{family.unit}'), test=test, fdr=fdr)}"
            shown_diff = mapview.live_difference(
                shown_a, side_a, comparison, hover_template(t, view.kind, nums_a.n, nums_b.n) + "<extra></extra>",
                difference_caption(view, nums_a.n + nums_b.n, t, comparison), title=diff_title,
            )  # fmt: skip
            layers.append(shown_diff.layer)
    st.caption(t("compare.same_scale") + " " + t("compare.scroll_together"))
    if view.diff:
        if overlap:
            st.caption(t("compare.overlap_short"))
        if view.kind == "attention" and not comparison.attention_tested and comparison.attention_note:
            reason = comparison.attention_note
            st.info(t(f"compare.untested_{reason}", min=f"{comparison.min_views:,}"), icon=":material/info:")
        elif family.significant_count == 0:
            unit = t(f"compare.unit_{family.unit}")
            st.info(t("compare.diff_none", unit=unit, test=test, fdr=fdr), icon=":material/equal:")
    marks = mapview.depth_marks(t, nums_a.bands if nums_a.n >= nums_b.n else nums_b.bands)
    link = page.share_link(colourless(compare_query(view)), "Compare")
    spot = st.session_state.pop("_c_spot", None)
    mapview.show_viewer(
        t, layers, marks, "c_maps", link, view.page, spot, minimap=len(layers) - 1 if view.diff else 0,
        controls=widgets.instant_controls(t, P, view.kind),
    )  # fmt: skip


def hover_template(t: Translator, kind: str, n_a: int, n_b: int) -> str:
    """The difference map's hover text for `kind` (customdata columns as in figures.difference_hover), ending
    with the page views of each side."""
    return _difference_lines(t, kind) + "<br>" + t("compare.hover_n", a=f"{n_a:,}", b=f"{n_b:,}")


def _difference_lines(t: Translator, kind: str) -> str:
    cd = "%{{customdata[{}]:{}}}".format
    common = {"band": cd(0, ".0f"), "top": cd(1, ",.0f"), "bottom": cd(2, ",.0f"), "p": cd(6, "p")}
    if kind == "attention":
        return t(
            "compare.hover_diff_attention", **common, a=cd(3, ".2f"), b=cd(4, ".2f"), diff=cd(5, "+.2f"),
            ratio=cd(8, ".2f"), low=cd(9, ".2f"), high=cd(10, ".2f"),
        )  # fmt: skip
    if kind == "clicks":
        return t(
            "compare.hover_diff_clicks", **common, a=cd(3, ".1f"), b=cd(4, ".1f"), diff=cd(5, "+.1f"),
            ratio=cd(8, ".2f"), x0=cd(11, ".0f"), x1=cd(12, ".0f"),
        )  # fmt: skip
    return t("compare.hover_diff", **common, a=cd(3, ".1f"), b=cd(4, ".1f"), diff=cd(5, "+.1f"))


def untested_notes(t: Translator, comparison: compare.Comparison) -> list[tuple[str, str]]:
    """Why some attention bands were not tested: (reason, sentence) per reason present."""
    reasons = set(comparison.table["attention_untested"].to_list()) - {""}
    minimum = f"{comparison.min_views:,}"
    return [(r, t(f"compare.untested_{r}", min=minimum)) for r in compare.UNTESTED_REASONS if r in reasons]


def _p_texts(values: pl.Series) -> list[str]:
    return [p_text(float(v)) if v is not None else "–" for v in values.to_list()]


def _headlines(t: Translator, view: CompareView, found: list[Difference], smaller: int) -> None:
    """The differences a designer acts on, said plainly and largest first (differences.py): significant and at
    least the smallest difference set in the sidebar."""
    st.subheader(t("compare.headlines"))
    threshold = MIN_EFFECT[view.kind] if view.min_effect is None else view.min_effect
    effect = t("compare.effect_points" if view.kind == "reach" else "compare.effect_percent", value=f"{threshold:g}")
    if found:
        st.markdown("\n".join(f"- {headline(t, view.kind, d)}" for d in found[:MAX_HEADLINES]))
        if len(found) > MAX_HEADLINES:
            st.caption(t("compare.headlines_more", count=f"{len(found) - MAX_HEADLINES:,}"))
    else:
        st.info(t("compare.headlines_none", effect=effect), icon=":material/equal:")
    if smaller:
        st.caption(t("compare.headlines_smaller", count=f"{smaller:,}", effect=effect))


def headline(t: Translator, kind: str, d: Difference) -> str:
    """One difference as a sentence: where, by how much in the kind's unit, A and B, and p."""
    where = f"{d.top_px:,}–{d.bottom_px:,} px"
    if d.x_from is not None:
        where += f", x {d.x_from}–{d.x_to} %"
    direction = "new" if math.isinf(d.effect) else "more" if d.effect > 0 else "less"
    digits = {"reach": 1, "attention": 2, "clicks": 1}[kind]
    return t(
        f"compare.headline_{kind}_{direction}", where=where, effect=f"{abs(d.effect):,.{0 if kind != 'reach' else 1}f}",
        a=f"{d.a:,.{digits}f}", b=f"{d.b:,.{digits}f}", p=p_text(d.p),
    )  # fmt: skip


def table_frame(t: Translator, comparison: compare.Comparison, kind: str = "reach") -> pl.DataFrame:
    """Per band: A, B, B − A and the test of `kind` (reach, attention or clicks per band)."""
    c = comparison.table
    head = {t("table.band"): c["band"], t("table.top"): c["top_px"]}
    tail = {t("compare.col_p"): _p_texts(c["p_adjusted"]), t("compare.col_sig"): c["significant"]}
    if kind == "attention":
        body = {
            f"A · {t('table.seconds')}": c["seconds_per_view_a"].round(2),
            f"B · {t('table.seconds')}": c["seconds_per_view_b"].round(2),
            t("compare.col_attention_diff"): c["attention_diff"].round(2),
            t("compare.col_ratio"): c["attention_ratio"].round(3),
            t("compare.col_ratio_low"): c["attention_ratio_low"].round(3),
            t("compare.col_ratio_high"): c["attention_ratio_high"].round(3),
        }
        tail = {
            t("compare.col_p"): _p_texts(c["attention_q"]),
            t("compare.col_sig"): c["attention_significant"],
            t("compare.col_untested"): c["attention_untested"],
        }
    elif kind == "clicks":
        body = {
            f"A · {t('compare.col_clicks')}": (c["clicks_per_view_a"] * 1000).round(2),
            f"B · {t('compare.col_clicks')}": (c["clicks_per_view_b"] * 1000).round(2),
            t("compare.col_clicks_diff"): (c["clicks_diff"] * 1000).round(2),
            t("compare.col_ratio"): c["clicks_ratio"].round(3),
        }
        tail = {t("compare.col_p"): _p_texts(c["clicks_q"]), t("compare.col_sig"): c["clicks_significant"]}
    else:
        body = {
            f"A · {t('table.reach')} %": (c["reach_a"] * 100).round(1),
            f"B · {t('table.reach')} %": (c["reach_b"] * 100).round(1),
            t("compare.col_diff"): (c["reach_diff"] * 100).round(1),
        }
    return pl.DataFrame({**head, **body, **tail}, nan_to_null=True)


def regions_frame(t: Translator, comparison: compare.Comparison) -> pl.DataFrame:
    """The click regions with clicks on either side: clicks per 1,000 page views, ratio, adjusted p."""
    r = comparison.regions
    assert r is not None
    return pl.DataFrame(
        {
            t("table.band"): r["band"],
            t("table.top"): r["top_px"],
            t("compare.col_x"): [f"{a}–{b}" for a, b in zip(r["x_from"].to_list(), r["x_to"].to_list(), strict=True)],
            f"A · {t('compare.col_clicks')}": (r["a"] * 1000).round(2),
            f"B · {t('compare.col_clicks')}": (r["b"] * 1000).round(2),
            t("compare.col_ratio"): r["ratio"].round(3),
            t("compare.col_p"): _p_texts(r["q"]),
            t("compare.col_sig"): r["significant"],
        },
        nan_to_null=True,
    )


def difference_caption(
    view: CompareView, page_views: int, t: Translator = mapview.EN, comparison: compare.Comparison | None = None
) -> render.Caption:
    """The legend facts of a difference map, in the page's language: with `comparison`, also the test, how many
    bands or regions it ran on, and the page views of each side."""
    a, b = view.sides()
    everyone = legend_text(t.lang, "all_visitors")
    note = legend_test_line(t.lang, view.kind, comparison) if comparison is not None else None
    if view.mode == "periods":
        segment = widgets.segment_label(t, view.where) if view.where else everyone
        return render.Caption(
            page=view.page or "", start=f"A {a.start} – {a.end}", end=f"B {b.start} – {b.end}", segment=segment,
            page_views=page_views, language=t.lang, note=note,
        )  # fmt: skip
    seg_a = widgets.segment_label(t, view.where_a) if view.where_a else everyone
    seg_b = widgets.segment_label(t, view.where_b) if view.where_b else everyone
    return render.Caption(
        page=view.page or "", start=str(a.start), end=str(a.end), segment=f"A {seg_a} vs B {seg_b}",
        page_views=page_views, language=t.lang, note=note,
    )  # fmt: skip


def legend_test_line(language: str, kind: str, comparison: compare.Comparison) -> str:
    """The legend line that names the test: "Welch's t-test per band, Benjamini–Hochberg over 31 tested bands;
    n = A 1,590 · B 1,048 page views" (or why attention was not tested)."""
    family = comparison.family(kind)
    if kind == "attention" and not comparison.attention_tested and comparison.attention_note:
        return legend_text(language, f"untested.{comparison.attention_note}", min=comparison.min_views)
    return legend_text(
        language, "test.line", test=legend_text(language, f"test.{kind}"), m=family.tested_count,
        units=legend_text(language, f"units.{family.unit}"), a=family.page_views_a, b=family.page_views_b,
    )  # fmt: skip
