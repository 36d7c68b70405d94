"""The Data health page body: which days are present, missing or re-exported, files with errors, rows excluded,
the AppFlow runs behind them, and what to do about a missing day (backfill it, then reload: flows_panel.py)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from heatmap import caching
from heatmap.contract import EVENT_ROUTE, REPORT_ROUTE
from heatmap.ui import flows_panel, sessions
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PageContext, sync_url

STATUS_COLOURS = {0: "#f4f4f5", 1: "#16a34a", 2: "#f59e0b", 3: "#dc2626"}  # outside, present, re-exported, missing


def day_status(catalog: Any) -> pl.DataFrame:
    """One row per day from the first to the last exported day: rows, executions, status, and the route its counted
    rows came by (None for a missing day)."""
    span = catalog.calendar
    if not span:
        return pl.DataFrame(
            schema={"day": pl.Date, "rows": pl.Int64, "executions": pl.Int64, "status": pl.String, "route": pl.String}
        )
    rows = [catalog.rows_per_day.get(d, 0) for d in span]
    executions = [catalog.executions_per_day.get(d, 0) for d in span]
    status = [
        "missing" if d not in catalog.rows_per_day else "reexported" if e > 1 else "present"
        for d, e in zip(span, executions, strict=True)
    ]
    routes = catalog.route_by_day
    route = [routes.get(d) for d in span]
    return pl.DataFrame(
        {"day": span, "rows": rows, "executions": executions, "status": status, "route": route},
        schema_overrides={"route": pl.String},
    )


def calendar(t: Translator, frame: pl.DataFrame) -> go.Figure:
    """Weeks as columns, Monday..Sunday as rows, coloured by status, with a hover per day."""
    first: date = frame["day"][0]
    start = first - timedelta(days=first.weekday())
    last: date = frame["day"][-1]
    weeks = (last - start).days // 7 + 1
    z = np.zeros((7, weeks))
    text = np.full((7, weeks), "", dtype=object)
    code = {"present": 1, "reexported": 2, "missing": 3}
    label = {"present": t("health.present"), "reexported": t("health.reexported"), "missing": t("health.missing")}
    weekdays = t("health.weekdays").split(",")
    for day, rows, executions, status, route in frame.iter_rows():
        offset = (day - start).days
        week, weekday = offset // 7, offset % 7
        z[weekday, week] = code[status]
        text[weekday, week] = (
            f"{day.isoformat()} ({weekdays[day.weekday()]})<br>{label[status]}<br>"
            f"{t('health.rows')}: {rows:,} · {t('health.executions')}: {executions}"
            + (f"<br>{t('health.route_' + route)}" if route else "")
        )
    colours = [[i / 3, STATUS_COLOURS[i]] for i in range(4)]
    scale = []
    for i, (pos, colour) in enumerate(colours):
        low = 0 if i == 0 else (colours[i - 1][0] + pos) / 2  # type: ignore[operator]
        high = 1 if i == 3 else (pos + colours[i + 1][0]) / 2  # type: ignore[operator]
        scale += [[low, colour], [high, colour]]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[(start + timedelta(weeks=w)).isoformat() for w in range(weeks)],
            y=weekdays,
            text=text,
            hovertemplate="%{text}<extra></extra>",
            colorscale=scale,
            zmin=0,
            zmax=3,
            showscale=False,
            xgap=3,
            ygap=3,
        )
    )
    fig.update_yaxes(autorange="reversed", fixedrange=True)
    fig.update_xaxes(type="category", title=t("health.week"), fixedrange=True)
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white")
    return fig


def main(ctx: PageContext) -> None:
    t = ctx.t
    catalog = ctx.engine.catalog
    sync_url({}, "health")
    st.title(t("health.title"))
    frame = day_status(catalog)
    if frame.height == 0:
        st.warning(f"{t('load.empty', uri=ctx.source)}  \n{t('load.empty_hint')}", icon=":material/database:")
        flows_panel.show_runs(ctx)
    else:
        missing = frame.filter(pl.col("status") == "missing")
        reexported = frame.filter(pl.col("status") == "reexported")
        st.caption(
            t(
                "health.summary",
                days=frame.height - missing.height,
                first=frame["day"][0],
                last=frame["day"][-1],
                missing=missing.height,
                reexported=reexported.height,
                objects=len(catalog.objects),
            )
        )
        event_days = int((frame["route"] == EVENT_ROUTE).sum())
        if event_days:
            st.caption(t("health.routes", event=event_days, report=int((frame["route"] == REPORT_ROUTE).sum())))
        st.subheader(t("health.calendar"))
        legend = " ".join(
            f":{colour}-background[{t('health.' + name)}]"
            for name, colour in (("present", "green"), ("reexported", "orange"), ("missing", "red"))
        )
        st.markdown(legend)
        days_col, runs_col = st.columns([3, 2])
        days_col.plotly_chart(calendar(t, frame), key="h_calendar", config={"displayModeBar": False})
        with runs_col:
            flows_panel.show_runs(ctx)
        with st.expander(t("health.per_day"), icon=":material/calendar_month:"):
            st.dataframe(
                frame.with_columns(
                    pl.col("route").map_elements(lambda route: t(f"health.route_{route}"), pl.String)
                ).rename(
                    {
                        "day": t("health.day"),
                        "rows": t("health.rows"),
                        "executions": t("health.executions"),
                        "status": t("health.status"),
                        "route": t("health.route"),
                    }
                ),
                hide_index=True,
                key="h_days",
            )
        st.subheader(t("health.missing_header"))
        if missing.height == 0:
            st.success(t("health.missing_none"), icon=":material/check_circle:")
        else:
            days = missing["day"].to_list()
            st.error(", ".join(d.isoformat() for d in days), icon=":material/event_busy:")
            st.markdown(t("health.missing_what"))
        flows_panel.backfill_action(ctx, missing["day"].to_list())
    _this_server(t)
    if not catalog.reads_every_line:
        st.info(t("health.sql_engine", engine=ctx.engine.name), icon=":material/info:")
        return
    st.subheader(t("health.errors"))
    if not catalog.errors:
        st.success(t("health.errors_none"), icon=":material/check_circle:")
    else:
        _issue_table(t, catalog.errors, "h_errors")
    st.subheader(t("health.excluded"))
    if not catalog.excluded:
        st.success(t("health.excluded_none"), icon=":material/check_circle:")
    else:
        st.metric(t("health.rows"), f"{catalog.excluded_rows:,}")
        excluded = pl.DataFrame(
            {t("health.reason"): list(catalog.excluded), t("health.rows"): list(catalog.excluded.values())}
        )
        st.dataframe(excluded, hide_index=True, key="h_excluded")
        st.caption(t("health.excluded_what"))
        if catalog.excluded_samples:
            st.markdown(f"**{t('health.samples')}**")
            _issue_table(t, catalog.excluded_samples, "h_samples")


def _this_server(t: Translator) -> None:
    """What the server holds in memory for everyone: the cache against its budget, and sessions' uploads."""
    cache = caching.memory()
    held = sessions.held()
    with st.expander(t("health.server"), icon=":material/memory:"):
        cols = st.columns(3)
        cols[0].metric(t("health.cache"), f"{cache.size / 1024**2:,.0f} / {cache.maxsize / 1024**2:,.0f} MB")
        if held is not None:
            cols[1].metric(t("health.sessions"), f"{held.sessions:,}")
            cols[2].metric(t("health.uploads"), f"{held.upload_bytes / 1024**2:,.1f} MB")
            st.caption(t("health.server_help", files=f"{held.upload_files:,}"))


def _issue_table(t: Translator, issues: list[Any], key: str) -> None:
    """File, line and reason of each issue (errors, or sample lines of excluded rows)."""
    frame = pl.DataFrame(
        {
            t("health.file"): [e.file for e in issues],
            t("health.line"): [e.line for e in issues],
            t("health.reason"): [e.reason for e in issues],
        },
        schema={t("health.file"): pl.String, t("health.line"): pl.Int64, t("health.reason"): pl.String},
    )
    st.dataframe(
        frame, hide_index=True, key=key, column_config={t("health.file"): st.column_config.TextColumn(width="large")}
    )
