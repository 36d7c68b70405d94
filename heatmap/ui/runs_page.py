"""The Saved runs page body: newest first, paginated, filtered by page; open one in Explore (?run=<id>),
download its PNG, CSV and JSON. Works from the output store alone, so it opens even when the source is down."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from heatmap import runs
from heatmap.caching import memory
from heatmap.errors import HeatmapError
from heatmap.stores import LocalStore
from heatmap.ui import data, page, widgets
from heatmap.ui.i18n import Translator, markdown_literal
from heatmap.ui.page import EXPLORE, PageContext
from heatmap.usecases.view import Problem

PAGE_SIZE = 10
ALL = "\x00all"


@st.cache_data(ttl=30, show_spinner=False, max_entries=4)
def run_pages(output: str, s3: Any) -> list[str]:
    """Pages that have saved runs (reads every run.json once per 30 s; run.json files are small)."""
    store = data.store_for(output, s3)
    pages: set[str] = set()
    for run_id in runs.run_ids(store):
        try:
            pages.add(runs.load_run(store, run_id).page)
        except HeatmapError:
            continue
    return sorted(pages)


def main(ctx: PageContext) -> None:
    t = ctx.t
    st.title(t("runs.title"))
    store = data.store_for(ctx.output, ctx.settings.s3)
    if isinstance(store, LocalStore) and not store.root.exists():  # nothing saved yet: the folder comes with run 1
        st.info(t("runs.none", output=ctx.output), icon=":material/inventory_2:")
        return
    try:
        pages = run_pages(ctx.output, ctx.settings.s3)
    except HeatmapError as exc:
        st.error(f"{t('runs.failed', error=exc)}  \n{t('runs.failed_hint')}", icon=":material/cloud_off:")
        return
    if page.first_visit("runs") or page.navigated("runs", bare_keeps=False):
        wanted = (page.raw_params().get("page") or [ALL])[-1]
        st.session_state["r_page"] = wanted if wanted in pages else ALL
        if wanted != ALL and wanted not in pages:
            page.warn_problems(t, [Problem("page", wanted, "unknown_page")])
    elif st.session_state.get("r_page", ALL) not in (ALL, *pages):
        st.session_state["r_page"] = ALL
    chosen = st.selectbox(
        t("runs.filter_page"),
        [ALL, *pages],
        key="r_page",
        format_func=lambda p: t("runs.all_pages") if p == ALL else p,
        on_change=lambda: st.session_state.pop("_r_cursors", None),
    )
    page_filter = None if chosen == ALL else chosen
    page.sync_url({"page": [page_filter]} if page_filter else {}, "runs")
    cursors: list[str | None] = st.session_state.setdefault("_r_cursors", [None])
    try:
        listing = runs.list_runs(store, page=page_filter, limit=PAGE_SIZE, before=cursors[-1])
    except HeatmapError as exc:
        st.error(f"{t('runs.failed', error=exc)}  \n{t('runs.failed_hint')}", icon=":material/cloud_off:")
        return
    if not listing.runs and len(cursors) == 1:
        st.info(t("runs.none", output=ctx.output), icon=":material/inventory_2:")
        return
    st.caption(t("runs.page_of", page=len(cursors), count=len(listing.runs), output=ctx.output))
    for record in listing.runs:
        _run_card(t, store, record, thumbnail(ctx.output, ctx.settings.s3, record.thumbnail_key))
    newer, older = st.columns(2)
    if newer.button(t("runs.prev"), icon=":material/arrow_back:", disabled=len(cursors) == 1, key="r_newer"):
        cursors.pop()
        st.rerun()
    if older.button(
        t("runs.next"), icon=":material/arrow_forward:", disabled=listing.next_before is None, key="r_older"
    ):
        cursors.append(listing.next_before)
        st.rerun()


def thumbnail(output: str, s3: Any, key: str) -> bytes | None:
    """A run's thumbnail (runs never change, so one read per process, kept in the server's memory budget), or
    None for runs saved without one."""

    def read() -> bytes:
        try:
            return bytes(data.store_for(output, s3).read(key))
        except HeatmapError:
            return b""  # remembered as "none", not read again

    found: bytes = memory().get_or_load(("thumbnail", output, key), read)
    return found or None


def _reader(store: Any, key: str) -> Callable[[], bytes]:
    """Read an object only when its download is clicked (a saved PNG can be tens of MB)."""

    def read() -> bytes:
        return bytes(store.read(key))

    return read


def _run_card(t: Translator, store: Any, record: Any, picture: bytes | None) -> None:
    stats = record.statistics or {}
    when = str(record.created)[:16].replace("T", " ")
    segment = widgets.segment_label(t, {k: tuple(v) for k, v in record.where.items()})
    with st.container(border=True, key=f"r_run_{record.run_id}"):
        shown, head, buttons = st.columns([1, 4, 3], vertical_alignment="center")
        if picture:
            shown.image(picture, width=96)
        with head:
            title = record.name or record.page
            st.markdown(
                f"**{markdown_literal(title)}** · {markdown_literal(record.page)} · {t('kind.' + record.heatmap_type)}"
            )
            if record.note:
                st.caption(markdown_literal(record.note))
            st.caption(
                f"{t('runs.when')}: {when} UTC · {t('runs.period')}: {record.start} – {record.end} · "
                f"{t('runs.segment')}: {segment} · {t('runs.n')}: {int(stats.get('page_views', 0)):,} · "
                f"`{record.run_id}`"
            )
        with buttons:
            c1, c2, c3, c4 = st.columns(4)
            if c1.button(t("runs.open"), key=f"r_open_{record.run_id}", type="primary"):
                st.switch_page(EXPLORE, query_params={"run": record.run_id, **page.language_params()})
            c2.download_button(
                "PNG", data=_reader(store, record.png_key), file_name=f"{record.run_id}.png",
                mime="image/png", key=f"r_png_{record.run_id}", on_click="ignore",
            )  # fmt: skip
            c3.download_button(
                "CSV", data=_reader(store, record.prefix + "bands.csv"),
                file_name=f"{record.run_id}-bands.csv", mime="text/csv", key=f"r_csv_{record.run_id}",
                on_click="ignore",
            )  # fmt: skip
            c4.download_button(
                "JSON", data=record.to_json(), file_name=f"{record.run_id}.json", mime="application/json",
                key=f"r_json_{record.run_id}", on_click="ignore",
            )  # fmt: skip
