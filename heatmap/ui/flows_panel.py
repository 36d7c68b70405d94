"""Data health's AppFlow part (docs/operations.md): the last runs of the daily and backfill flows next to the calendar,
failed runs in red with AppFlow's message, and a Backfill action for missing or chosen days.

A missing day usually has its reason in the runs (Google's 503 on a busy day), and its cure one click away: the
Backfill button sets the on-demand flow's date filter, starts it and follows the run (heatmap.flows.backfill).
The run takes minutes, so it goes on in a background thread of the server (heatmap.flows.jobs) and this page only
reads its state: a fragment re-reads it every couple of seconds while it runs, then the page shows the result
and "Reload data".

Without AppFlow permissions the rest of Data health still works: each flow's panel says which IAM action is
missing. Without configured flows it keeps a short hint (the CLI command). The action is behind login when
login is configured (every page is, through heatmap.ui.page.setup; checked again here before anything changes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from math import ceil
from typing import Any

import polars as pl
import streamlit as st

from heatmap.errors import FlowAccessDenied, FlowBusy, HeatmapError
from heatmap.flows import MAX_DAYS_PER_RUN, AppFlowOptions, FlowRun, list_runs, make_client
from heatmap.flows.backfill import Progress, backfill
from heatmap.flows.jobs import JOBS, BackfillJob
from heatmap.ui import data
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PageContext

RUNS_SHOWN = 5
RUNS_TTL = 30  # seconds: a rerun (a click elsewhere on the page) does not ask AppFlow again
PROGRESS_EVERY = 2.0  # seconds between re-reads of a running backfill's state
FAILED_RED = "color: #b91c1c; background-color: #fef2f2"
_STARTED_KEY = "_backfill_started"  # session: ids of the backfill jobs this session started


def _endpoint() -> str:
    """boto3 reads AWS_ENDPOINT_URL_APPFLOW when a client is made: part of the client cache's key."""
    return os.environ.get("AWS_ENDPOINT_URL_APPFLOW") or os.environ.get("AWS_ENDPOINT_URL") or ""


@st.cache_resource(show_spinner=False, max_entries=4)
def _client(options: AppFlowOptions, endpoint: str) -> Any:
    return make_client(options)


@dataclass(frozen=True)
class RunsView:
    """A flow's last runs, or why they could not be read (the missing IAM action when it is access)."""

    runs: tuple[FlowRun, ...] = ()
    error: str | None = None
    action: str | None = None


@st.cache_data(ttl=RUNS_TTL, show_spinner=False, max_entries=16)
def recent_runs(flow: str, options: AppFlowOptions, endpoint: str, limit: int = RUNS_SHOWN) -> RunsView:
    try:
        return RunsView(tuple(list_runs(_client(options, endpoint), flow, limit)))
    except FlowAccessDenied as exc:
        return RunsView(error=str(exc), action=exc.action)
    except HeatmapError as exc:
        return RunsView(error=str(exc))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "–"


def _named_flows(ctx: PageContext) -> list[tuple[str, str]]:
    settings = ctx.settings
    flows = (
        ("daily", settings.daily_flow),
        ("backfill", settings.backfill_flow),
        ("event_daily", settings.event_daily_flow),
        ("event_backfill", settings.event_backfill_flow),
    )
    return [(kind, name) for kind, name in flows if name]


# ------------------------------------------------------------------------------------------------------ runs


def show_runs(ctx: PageContext) -> None:
    """The last runs of the configured flows, newest first; failed ones in red with their message."""
    t = ctx.t
    st.markdown(f"**{t('flows.runs')}**")
    named = _named_flows(ctx)
    if not named:
        st.caption(t("flows.not_configured"))
        return
    for kind, flow in named:
        st.markdown(f"{t('flows.' + kind)} · `{flow}`")
        view = recent_runs(flow, ctx.settings.appflow, _endpoint())
        if view.action:
            st.warning(t("flows.denied", flow=flow, action=view.action), icon=":material/lock:")
            continue
        if view.error:
            st.warning(t("flows.unavailable", flow=flow, error=view.error), icon=":material/cloud_off:")
            continue
        if not view.runs:
            st.caption(t("flows.no_runs"))
            continue
        _runs_table(t, view.runs, key=f"h_runs_{kind}")
        for run in view.runs:
            if run.failed:
                st.error(
                    t("flows.failed_run", flow=flow, id=run.execution_id[:8], when=_when(run.started),
                      message=run.error or t("flows.no_message")),
                    icon=":material/error:",
                )  # fmt: skip


def _runs_table(t: Translator, runs: tuple[FlowRun, ...], key: str) -> None:
    """Status, start, records and message of each run; a failed run's row in red. (The last update time is in
    `python -m heatmap flow-runs`; the column is left out here, next to the calendar space is short.)"""
    status, started, records, message = t("flows.status"), t("flows.started"), t("flows.records"), t("flows.message")
    frame = pl.DataFrame(
        {
            status: [t(f"flows.state.{r.status}") if t.has(f"flows.state.{r.status}") else r.status for r in runs],
            started: [_when(r.started) for r in runs],
            records: [f"{r.records:,}" if r.records is not None else "–" for r in runs],
            message: [r.error or "" for r in runs],
        },
        schema={status: pl.String, started: pl.String, records: pl.String, message: pl.String},
    )
    failed = [r.failed for r in runs]
    styled = frame.to_pandas().style.apply(lambda row: [FAILED_RED if failed[row.name] else "" for _ in row], axis=1)
    st.dataframe(
        styled,
        hide_index=True,
        key=key,
        column_config={records: st.column_config.TextColumn(width="small"), message: st.column_config.TextColumn()},
    )


# -------------------------------------------------------------------------------------------------- backfill


def _today() -> date:
    return datetime.now(UTC).date()


def default_range(missing: list[date], today: date) -> tuple[date, date]:
    """The most recent contiguous run of missing days; yesterday when none is missing."""
    if not missing:
        yesterday = today - timedelta(days=1)
        return yesterday, yesterday
    days = sorted(missing)
    last = first = days[-1]
    for day in reversed(days[:-1]):
        if day != first - timedelta(days=1):
            break
        first = day
    return first, last


def _may_backfill(ctx: PageContext) -> bool:
    """The page is already behind the login gate when [auth] is configured; check again before changing AWS."""
    from heatmap.ui.auth import AuthConfigError, auth_configured

    try:
        configured = auth_configured(ctx.secrets)
    except AuthConfigError:
        return False
    return not configured or st.user.get("is_logged_in") is True


def _user_email() -> str | None:
    try:
        email = st.user.get("email")
    except Exception:
        return None
    return str(email) if email else None


def backfill_action(ctx: PageContext, missing: list[date]) -> None:
    """The Backfill action for the missing days (or any chosen days), or a short hint without a backfill flow."""
    t = ctx.t
    flow = ctx.settings.backfill_flow
    today = _today()
    first, last = default_range(missing, today)
    if not flow:
        st.markdown(t("flows.hint"))
        st.code(f"python -m heatmap backfill --flow <backfill flow> --from {first} --to {last} --wait", language="bash")
        return
    job = JOBS.latest(flow)
    mine = st.session_state.get(_STARTED_KEY, set())
    if job is not None and job.running:
        if job.id not in mine:
            st.info(t("flows.busy", first=job.start, last=job.end), icon=":material/hourglass_top:")
        _live(ctx, flow)
        return
    if job is not None and job.id in mine:
        _result(t, job)
    if not _may_backfill(ctx):
        st.info(t("flows.login"), icon=":material/login:")
        return
    lowest = ctx.settings.bounds.first_day
    chosen = st.date_input(
        t("flows.days"),
        value=(max(first, lowest), min(last, today)),
        min_value=lowest,
        max_value=today,
        key="h_backfill_days",
        help=t("flows.days_help"),
    )
    picked = [d for d in (chosen if isinstance(chosen, tuple | list) else [chosen]) if isinstance(d, date)]
    if len(picked) != 2:
        st.caption(t("flows.pick_two"))
        return
    start, end = picked
    days = (end - start).days + 1
    st.caption(t("flows.button_help", flow=flow, runs=ceil(days / MAX_DAYS_PER_RUN)))
    label = t("flows.button", days=days, first=start, last=end)
    shown_result = job is not None and job.id in mine  # then Reload data is the primary action
    kind: Any = "secondary" if shown_result else "primary"
    if st.button(label, key="h_backfill", type=kind, icon=":material/cloud_download:"):
        _start(ctx, flow, start, end)
        st.rerun()


def _start(ctx: PageContext, flow: str, start: date, end: date) -> None:
    """Start the backfill as the flow's background job (the client is made here, in the script's thread)."""
    settings = ctx.settings
    try:
        client = _client(settings.appflow, _endpoint())
    except HeatmapError as exc:
        st.error(str(exc), icon=":material/error:")
        return

    def run(progress: Progress) -> Any:
        return backfill(
            client, flow, start, end, wait=True, first_day=settings.bounds.first_day,
            poll_seconds=settings.appflow.poll_seconds, progress=progress,
        )  # fmt: skip

    try:
        job = JOBS.start(flow, start, end, run, started_by=_user_email())
    except FlowBusy:
        return  # another session's backfill of this flow: the rerun shows its progress
    st.session_state.setdefault(_STARTED_KEY, set()).add(job.id)
    recent_runs.clear()


def _live(ctx: PageContext, flow: str) -> None:
    """Progress of the running backfill, re-read every PROGRESS_EVERY seconds; the page reruns when it ends."""
    t = ctx.t

    @st.fragment(run_every=PROGRESS_EVERY)
    def live() -> None:
        job = JOBS.latest(flow)
        if job is None or not job.running:
            recent_runs.clear()
            st.rerun()
        assert job is not None
        _progress(t, job)

    live()


def _progress(t: Translator, job: BackfillJob) -> None:
    step = job.progress
    part, parts = (step.part, step.parts) if step else (1, ceil(((job.end - job.start).days + 1) / MAX_DAYS_PER_RUN))
    name = t(f"flows.step.{step.step}") if step and t.has(f"flows.step.{step.step}") else "…"
    done = (part - 1) / parts + (0.5 / parts if step and step.step in ("running", "finished") else 0.1 / parts)
    st.progress(min(done, 0.99), text=t("flows.running", first=job.start, last=job.end, part=part, parts=parts,
                                        step=name))  # fmt: skip
    if step and step.execution_id:
        status = step.status or "InProgress"
        shown = t(f"flows.state.{status}") if t.has(f"flows.state.{status}") else status
        st.caption(t("flows.execution", id=step.execution_id, status=shown))


def _result(t: Translator, job: BackfillJob) -> None:
    """How the session's last backfill ended, and Reload data when it brought days back."""
    if job.succeeded and job.result is not None:
        st.success(
            t("flows.done", first=job.start, last=job.end, records=f"{job.result.records or 0:,}",
              runs=len(job.result.runs)),
            icon=":material/check_circle:",
        )  # fmt: skip
        if st.button(t("source.reload"), key="h_backfill_reload", type="primary", icon=":material/refresh:"):
            data.forget_listing()
            st.session_state[_STARTED_KEY].discard(job.id)
            st.rerun()
        return
    if job.action:
        st.error(t("flows.denied", flow=job.flow, action=job.action), icon=":material/lock:")
        return
    st.error(t("flows.job_failed", first=job.start, last=job.end, error=job.error), icon=":material/error:")
