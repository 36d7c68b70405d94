"""The CLI contract of docs/cli.md, checked against numbers computed by hand."""

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.exports import dwell, jsonl, write

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "HEATMAP_HOME": str(env_home)} if env_home else dict(os.environ)
    env.pop("HEATMAP_SOURCE", None)
    return subprocess.run(
        [sys.executable, "-m", "heatmap", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    a = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a"
    b = "flow/2026/01/08/0b7a1c3e-0000-4000-8000-00000000000b"
    # Execution A exported 5 Jan; execution B (later) re-exported 5 Jan with revised numbers, and 7 Jan.
    write(
        folder,
        f"{a}/p0.jsonl",
        jsonl([dwell("20260105", "/p", 0, 10, 50), dwell("20260105", "/p", 1, 5, 20)]),
        modified=datetime(2026, 1, 6, 2),
    )
    write(
        folder,
        f"{b}/p0.jsonl",
        jsonl(
            [dwell("20260105", "/p", 0, 20, 100), dwell("20260105", "/p", 1, 10, 30), dwell("20260105", "/p", 2, 5, 10)]
        ),
        modified=datetime(2026, 1, 8, 2),
    )
    write(
        folder,
        f"{b}/p1.jsonl.gz",
        jsonl(
            [
                dwell("20260107", "/p", 0, 20, 40, deviceCategory="desktop"),
                dwell("20260107", "/p", 1, 15, 30, deviceCategory="desktop"),
            ]
        )
        + b"{bad\n",
        modified=datetime(2026, 1, 8, 2),
        gzipped=True,
    )
    return folder


def test_coverage(source, tmp_path):
    result = run("coverage", "--source", str(source), "--json", env_home=tmp_path)
    assert result.returncode == 0, result.stderr
    coverage = json.loads(result.stdout)
    assert coverage["days"] == {
        "2026-01-05": {"rows": 3, "executions": 2, "route": "report"},
        "2026-01-07": {"rows": 2, "executions": 1, "route": "report"},
    }
    assert coverage["missing_days"] == ["2026-01-06"]
    [error] = coverage["errors"]
    assert error["file"].endswith("p1.jsonl.gz") and error["line"] == 3
    assert coverage["excluded_rows"] == 0


def test_bands_hand_computed(source, tmp_path):
    result = run(
        "bands",
        "--source",
        str(source),
        "--page",
        "/p",
        "--from",
        "2026-01-05",
        "--to",
        "2026-01-07",
        "--json",
        env_home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # n = band-0 views of the newest exports: 20 (5 Jan, execution B) + 20 (7 Jan) = 40.
    assert out["page_views"] == 40
    bands = {b["band"]: b for b in out["bands"]}
    assert [bands[i]["page_views"] for i in (0, 1, 2)] == [40, 25, 5]
    assert [bands[i]["reach"] for i in (0, 1, 2)] == [1.0, 0.625, 0.125]
    # seconds per view: (100 + 40) / 40, (30 + 30) / 40, 10 / 40
    assert [bands[i]["seconds_per_view"] for i in (0, 1, 2)] == [3.5, 1.5, 0.25]
    # Wilson 95 % for 25 of 40: centre (0.625 + 1.96²/80) / (1 + 1.96²/40) = 0.67302 / 1.09604 = 0.61405,
    # half-width 1.96 * sqrt(0.625 * 0.375 / 40 + 1.96² / 6400) / 1.09604 = 0.14373
    assert bands[1]["reach_low"] == pytest.approx(0.47032, abs=1e-4)
    assert bands[1]["reach_high"] == pytest.approx(0.75778, abs=1e-4)


def test_bands_with_segment_filter_and_alias(source, tmp_path):
    for clause in ("deviceCategory=desktop", "device=desktop"):
        result = run(
            "bands",
            "--source",
            str(source),
            "--page",
            "/p",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--where",
            clause,
            "--json",
            env_home=tmp_path,
        )
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        assert out["page_views"] == 20
        assert out["bands"][1]["reach"] == 0.75  # 15 of 20


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bands", "--page", "/p", "--from", "2026-02-30"], "not a date"),
        (["bands", "--page", "/p", "--from", "2026-01-07", "--to", "2026-01-05"], "reversed"),
        (["bands", "--page", "/nope"], "no data for page"),
        (["bands", "--page", "/p", "--where", "colour=red"], "unknown segment dimension"),
        (["bands", "--page", "/p", "--where", "device"], "DIMENSION=VALUE"),
        (["coverage", "--source", "gs://bucket/x"], "unsupported scheme"),
        (["coverage", "--source", "/definitely/not/here"], "does not exist"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_on_stderr(source, tmp_path, args, message):
    if "--source" not in args and args[0] != "frobnicate":
        args = [*args, "--source", str(source)]
    result = run(*args, env_home=tmp_path)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0] and "Traceback" not in result.stderr


def test_unreachable_bucket_is_one_line(tmp_path):
    import os
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HEATMAP_HOME": str(tmp_path),
        "HEATMAP_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "HEATMAP_S3_MAX_ATTEMPTS": "1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "heatmap", "coverage", "--source", "s3://bucket/x/", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot reach" in result.stderr


def test_demo_then_coverage_and_bands(tmp_path):
    out = tmp_path / "demo"
    made = run("demo", "--out", str(out), "--json", env_home=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (
        len(json.loads(made.stdout)["screenshots"]) == 15
    )  # five page layouts (the job listings share one), 3 devices
    coverage = json.loads(run("coverage", "--source", str(out), "--json", env_home=tmp_path).stdout)
    assert len(coverage["days"]) == 61 and coverage["missing_days"] == ["2026-10-14"]
    assert coverage["days"]["2026-10-20"]["executions"] == 2
    assert len(coverage["errors"]) == 1 and coverage["excluded_rows"] > 0
    bands = json.loads(
        run(
            "bands",
            "--source",
            str(out),
            "--page",
            "/pricing",
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-28",
            "--where",
            "device=mobile",
            "--json",
            env_home=tmp_path,
        ).stdout
    )
    assert bands["page_views"] > 100
    reach = [b["reach"] for b in bands["bands"]]
    assert reach[0] == 1.0 and reach[-1] < 0.5


def test_demo_refuses_a_folder_with_files(tmp_path):
    (tmp_path / "x").write_text("keep me")
    result = run("demo", "--out", str(tmp_path), env_home=tmp_path)
    assert result.returncode == 1 and "not empty" in result.stderr
    assert (tmp_path / "x").read_text() == "keep me"
