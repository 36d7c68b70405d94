"""Saved runs in the UI: save a view, reopen one by id (?run=), share links, downloads."""

from __future__ import annotations

import json
import logging
from typing import Any

import streamlit as st

from heatmap.errors import HeatmapError
from heatmap.images import Screenshot
from heatmap.ui import mapview, page
from heatmap.ui.page import PageContext
from heatmap.ui.view import RUN_ID, Options, Problem, View, parse_view, view_query

log = logging.getLogger("heatmap.ui")


def runs_module() -> Any:
    try:
        from heatmap import runs
    except ImportError:
        return None
    return runs


def view_of_run(ctx: PageContext, run_id: str, options: Options) -> tuple[View | None, list[Problem]]:
    """The view a saved run recorded, validated like a link; (None, [problem]) if it cannot be read."""
    if not RUN_ID.match(run_id):
        return None, [Problem("run", run_id, "run_missing")]
    runs = runs_module()
    if runs is None:
        return None, [Problem("run", run_id, "run_bad")]
    try:
        record = runs.load_run(ctx_store(ctx), run_id)
    except HeatmapError as exc:
        log.info("run %s could not be opened: %s", run_id, exc)
        return None, [Problem("run", run_id, "run_missing")]
    params = run_params(record)
    view, problems = parse_view(params, options)
    return view, problems


def run_params(record: Any) -> dict[str, list[str]]:
    """The link parameters a run recorded (its `view` mapping)."""
    raw = getattr(record, "view", None) or (record.get("view") if isinstance(record, dict) else None) or {}
    return {k: [str(x) for x in v] if isinstance(v, list) else [str(v)] for k, v in raw.items()}


def ctx_store(ctx: PageContext) -> Any:
    from heatmap.ui import data

    return data.store_for(ctx.output, ctx.settings.s3)


def save_and_share(
    ctx: PageContext, view: View, nums: mapview.Numbers, shot: Screenshot | None, device: str, shown: bool
) -> None:
    t = ctx.t
    st.subheader(t("save.header"))
    params = view_query(view)
    st.caption(t("share.help"))
    st.code(page.share_link(params), language=None, wrap_lines=True)
    stem = _stem(view)
    st.caption(t("download.header"))
    c1, c2, c3 = st.columns(3)
    if shown:
        c1.download_button(
            t("download.png"),
            data=lambda: mapview.full_png(shot, view, nums, device),
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


def _stem(view: View) -> str:
    slug = (view.page or "page").strip("/").replace("/", "_") or "home"
    return f"heatmap-{slug}-{view.start}-{view.end}-{view.kind}"
