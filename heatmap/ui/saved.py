"""Saved runs in the UI: save a view, reopen one by id (?run=), share links, downloads."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import streamlit as st

from heatmap import runs
from heatmap.errors import HeatmapError
from heatmap.ui import busy, data, mapview, page, shots, widgets
from heatmap.ui.page import PageContext
from heatmap.usecases import links
from heatmap.usecases.numbers import Numbers
from heatmap.usecases.saving import params_for
from heatmap.usecases.view import RUN_ID, Options, Problem, View, parse_view, view_query, where_query

log = logging.getLogger("heatmap.ui")


def view_of_run(ctx: PageContext, run_id: str, options: Options) -> tuple[View | None, list[Problem]]:
    """The view a saved run recorded, validated like a link; (None, [problem]) if it cannot be read."""
    if not RUN_ID.match(run_id):  # e.g. ../../x: never handed to a store
        return None, [Problem("run", run_id, "bad_run_id")]
    try:
        record = runs.load_run(ctx_store(ctx), run_id)
    except HeatmapError as exc:
        log.info("run %s could not be opened: %s", run_id, exc)
        return None, [Problem("run", run_id, "run_missing")]
    params = run_params(record)
    view, problems = parse_view(params, options)
    st.session_state["_x_run_record"] = record
    return view, problems


def run_params(record: Any) -> dict[str, list[str]]:
    """The link parameters a run recorded: its `view` mapping (saved by the app), else built from its fields
    (a run saved by the CLI)."""
    raw = dict(getattr(record, "view", None) or {})
    if not raw:
        raw = {"page": record.page, "from": record.start, "to": record.end, "type": record.heatmap_type}
        raw.update(where_query({k: tuple(v) for k, v in record.where.items()}))
        if record.screenshot:
            raw["shot"] = record.screenshot.get("sha256")
    return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in raw.items() if v is not None}


def save(
    ctx: PageContext, view: View, nums: Numbers, shot: shots.Shot | None, device: str, name: str = "", note: str = ""
) -> Any:
    """Write the view as a new run (PNG, CSV, run.json, the screenshot) and return its record."""
    assert view.page and view.start and view.end
    png, thumbnail = mapview.full_picture(shot, view, nums, device, t=ctx.t)
    return runs.save_run(
        ctx_store(ctx),
        ctx.source,
        params_for(view, shot, name, note),
        png,
        nums.bands,
        screenshot=shot,
        clicks=nums.clicks if view.kind == "clicks" else None,
        exports=ctx.engine.catalog.inputs(view.start, view.end),
        output=ctx.output,
        thumbnail=thumbnail,
    )


def _png_when_clicked(
    ctx: PageContext, view: View, nums: Numbers, shot: shots.Shot | None, device: str
) -> Callable[[], bytes]:
    """The full PNG, made when the button is clicked. Streamlit keeps this callable as long as it keeps the
    session (two minutes past a closed tab, for a reconnect: heatmap/ui/sessions.py): it holds the
    screenshot's handle (shots.Shot: where its bytes are, never its pixels), so no session keeps a decoded page
    outside the cache budget."""
    t = ctx.t
    return lambda: mapview.full_picture(shot, view, nums, device, t=t)[0]


def ctx_store(ctx: PageContext) -> Any:
    return data.store_for(ctx.output, ctx.settings.s3)


def save_and_share(
    ctx: PageContext, view: View, nums: Numbers, shot: shots.Shot | None, device: str, shown: bool
) -> None:
    t = ctx.t
    params = view_query(view)
    if shown:  # the map's type and colours change in the browser: what is made from this view waits for them
        widgets.as_shown_style(view.kind, view.display, "x_as_shown", "x_update", "x_map")
        with st.container(key="x_update"):
            st.info(t("share.stale"), icon=":material/sync:")
            st.button(t("share.update"), icon=":material/sync:", key="x_update_button")
    with st.container(key="x_as_shown"):
        st.caption(t("share.help"))
        _short_link(ctx, params)
        with st.expander(t("share.full")):
            st.code(page.share_link(params), language=None, wrap_lines=True)
        _downloads(ctx, view, nums, shot, device, shown, params)
    name = st.text_input(
        t("save.name"), key="x_run_name", max_chars=runs.MAX_NAME_CHARS, placeholder=t("save.name_hint")
    )
    note = st.text_area(t("save.note"), key="x_run_note", max_chars=runs.MAX_NOTE_CHARS, height=68)
    clicked = st.button(
        t("save.button"), type="primary", icon=":material/save:", key="x_save", disabled=not shown,
        help=None if shown else t("save.blocked"),
    )  # fmt: skip
    if clicked:
        with busy.working(t, "save.saving"):
            record = save(ctx, view, nums, shot, device, name, note)
        st.session_state["_x_saved"] = (record, params)
    last = st.session_state.get("_x_saved")
    if last and last[1] == params:
        _show_saved(ctx, last[0])


def _short_link(ctx: PageContext, params: dict[str, list[str]]) -> None:
    """A short, readable link to this view (stored once in the output store), made when asked for."""
    t = ctx.t
    made = st.session_state.get("_x_short")
    if made and made[0] == params:
        st.code(made[1], language=None)
        return
    if not st.button(t("share.short"), icon=":material/link:", key="x_short"):
        return
    try:
        url = page.share_link({links.KEY: [links.store_link(ctx_store(ctx), params)]})
    except HeatmapError as exc:
        st.warning(t("share.short_failed", error=str(exc)), icon=":material/link_off:")
        return
    st.session_state["_x_short"] = (params, url)
    st.code(url, language=None)


def _downloads(
    ctx: PageContext,
    view: View,
    nums: Numbers,
    shot: shots.Shot | None,
    device: str,
    shown: bool,
    params: dict[str, list[str]],
) -> None:
    t = ctx.t
    stem = _stem(view)
    st.caption(t("download.header"))
    c1, c2, c3 = st.columns(3)
    if shown:
        c1.download_button(
            t("download.png"),
            data=_png_when_clicked(ctx, view, nums, shot, device),
            file_name=f"{stem}.png",
            mime="image/png",
            icon=":material/image:",
            key="x_dl_png",
            on_click="ignore",
        )
    c2.download_button(
        t("download.csv"),
        data=nums.bands.to_csv(),
        file_name=f"{stem}-bands.csv",
        mime="text/csv",
        icon=":material/table:",
        key="x_dl_csv",
        on_click="ignore",
    )
    summary = {"view": params, **nums.bands.to_json_dict()}
    c3.download_button(
        t("download.json"),
        data=json.dumps(summary, ensure_ascii=False, indent=1),
        file_name=f"{stem}.json",
        mime="application/json",
        icon=":material/data_object:",
        key="x_dl_json",
        on_click="ignore",
    )


def _show_saved(ctx: PageContext, record: Any) -> None:
    t = ctx.t
    st.success(t("save.done", run_id=record.run_id, output=record.output), icon=":material/check_circle:")
    st.markdown("\n".join(f"- `{key}`" for key in record.objects))
    st.caption(t("share.run_help"))
    st.code(page.share_link({"run": [record.run_id]}), language=None, wrap_lines=True)


def _stem(view: View) -> str:
    slug = (view.page or "page").strip("/").replace("/", "_") or "home"
    return f"heatmap-{slug}-{view.start}-{view.end}-{view.kind}"
