"""How many cores this process may use: a container's CPU quota (cgroup v2 `cpu.max`, v1 `cpu.cfs_quota_us`;
Streamlit Community Cloud gives an app two) or the CPUs it may run on, whichever is fewer. `os.cpu_count()` counts
the host's: on a two-core container of a large host, picture jobs sized by it would run many at once, each
slower than alone (heatmap.caching.JOBS_RUNNING)."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def usable_cores(cgroup: Path = CGROUP) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_quota(cgroup)
    return max(1, min(cpus, math.ceil(quota)) if quota else cpus)


def cgroup_quota(cgroup: Path = CGROUP) -> float | None:
    """Cores' worth of CPU time the cgroup allows (1.5: one and a half), None when it sets no limit."""
    try:
        limit, every = (cgroup / "cpu.max").read_text().split()[:2]
        return None if limit == "max" else int(limit) / int(every)
    except (OSError, ValueError, ZeroDivisionError):
        pass
    try:
        quota = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None
