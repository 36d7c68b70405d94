"""The cores a process may use (heatmap/cores.py): a container's CPU quota, not the host's count."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from heatmap.cores import cgroup_quota, usable_cores


def _cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "200000 100000\n"}, 2.0),  # cgroup v2: two cores
        ({"cpu.max": "150000 100000\n"}, 1.5),
        ({"cpu.max": "max 100000\n"}, None),  # no limit
        ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1.0),  # cgroup v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu.max": "garbage"}, None),
        ({"cpu.max": "100000 0"}, None),
        ({}, None),
    ],
)
def test_the_cgroups_quota_in_cores(tmp_path: Path, files: dict[str, str], quota: float | None) -> None:
    assert cgroup_quota(_cgroup(tmp_path, files)) == quota


def test_usable_cores_are_the_quota_rounded_up_but_never_more_than_the_cpus(tmp_path: Path) -> None:
    cpus = len(os.sched_getaffinity(0))
    assert usable_cores(_cgroup(tmp_path / "none", {})) == cpus
    assert usable_cores(_cgroup(tmp_path / "half", {"cpu.max": "50000 100000"})) == 1
    assert usable_cores(_cgroup(tmp_path / "many", {"cpu.max": f"{(cpus + 8) * 100000} 100000"})) == cpus
    assert usable_cores(_cgroup(tmp_path / "some", {"cpu.max": "150000 100000"})) == min(cpus, 2)
