"""Backfills running in the background of a long-lived process (the Streamlit server).

A backfill takes minutes: AppFlow pulls the report from Google, then writes S3. A Streamlit script that waited
for it would be stopped by the next click or page switch, and a split range would stop half way. So the app
starts the backfill in a thread here and its page only *reads* the job's state (a fragment re-reads it every
few seconds). One job per flow at a time, for the whole process: a second session sees the running one
instead of starting another, and heatmap.flows.backfill refuses a second UpdateFlow anyway.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from heatmap.errors import FlowBusy, HeatmapError
from heatmap.flows.backfill import BackfillProgress, BackfillResult, Progress

log = logging.getLogger("heatmap.flows")


@dataclass
class BackfillJob:
    """A backfill started from the app: its days, who started it, where it is, how it ended."""

    flow: str
    start: date
    end: date
    started_by: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    progress: BackfillProgress | None = None
    result: BackfillResult | None = None
    error: str | None = None  # one sentence (a HeatmapError's message) when the backfill could not go on
    action: str | None = None  # the missing IAM action, when that is why
    finished: datetime | None = None

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def succeeded(self) -> bool:
        return self.finished is not None and self.error is None and self.result is not None and not self.result.failed


class BackfillJobs:
    """The process's backfill jobs, at most one running per flow; the latest one of each flow is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, BackfillJob] = {}

    def latest(self, flow: str) -> BackfillJob | None:
        with self._lock:
            return self._jobs.get(flow)

    def start(
        self,
        flow: str,
        start: date,
        end: date,
        run: Callable[[Progress], BackfillResult],
        started_by: str | None = None,
    ) -> BackfillJob:
        """Run `run(progress)` in a daemon thread as the flow's job; FlowBusy while another one runs."""
        job = BackfillJob(flow, start, end, started_by)
        with self._lock:
            current = self._jobs.get(flow)
            if current is not None and current.running:
                raise FlowBusy(
                    f"a backfill of flow {flow!r} is already running ({current.start} to {current.end}); "
                    "wait for it to finish"
                )
            self._jobs[flow] = job

        def progress(step: BackfillProgress) -> None:
            job.progress = step

        def work() -> None:
            try:
                job.result = run(progress)
                if job.result.failed:
                    job.error = job.result.failure()
            except HeatmapError as exc:
                job.error = str(exc)
                job.action = getattr(exc, "action", None)
            except Exception as exc:  # never let a thread die silently: the page shows the job as failed
                log.exception("backfill of %s failed", flow)
                job.error = f"unexpected {type(exc).__name__}: {exc}"
            finally:
                job.finished = datetime.now(UTC)

        threading.Thread(target=work, name=f"backfill-{flow}", daemon=True).start()
        return job

    def wait(self, flow: str, timeout: float) -> BackfillJob | None:
        """Until the flow's latest job has finished or `timeout` seconds pass (for tests and shutdown)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            job = self.latest(flow)
            if job is None or not job.running or time.monotonic() >= deadline:
                return job
            time.sleep(0.02)

    def clear(self) -> None:
        """Forget finished jobs (tests)."""
        with self._lock:
            self._jobs = {k: j for k, j in self._jobs.items() if j.running}


#: The one registry of this process (Streamlit sessions are threads of one process).
JOBS = BackfillJobs()
