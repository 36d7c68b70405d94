"""The benchmarks keep running: each one, in its quick mode, finishes and prints its comparison.

No timing is asserted here (timed assertions do not belong in tests); the figures are for people.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("ingest.py", ["ratio cold / pandas", "ratio cold / warm", "peak RSS growth", "resident after opening"]),
        ("query.py", ["segment change -> bands", "pandas filter + groupby baseline"]),
        ("render.py", ["baseline"]),
        ("app.py", ["segment change"]),
        ("engines.py", ["duckdb/local", "bytes an Athena view of the last   7 days scans", "without run-date folders"]),
        ("scale.py", ["cold ingest peak RSS", "one-page query mid (rank 100)", "fresh server speed-up vs re-parse"]),
        (
            "load.py",
            [
                "per interaction p95",
                "server peak RSS",
                "CPU per designer's round",
                "of them as tabs",
                "on the same views",
                "soak final RSS",
            ],
        ),
        ("capture.py", ["baseline s", "ratio", "Two at once, limit 1: at most 1 running"]),
        ("viewer.py", ["1440 x 20,000 upload", "painted p50", "baseline <img>", "ratio"]),
    ],
)
def test_benchmark_runs_in_quick_mode(script, expected, tmp_path):
    import os

    env = {**os.environ, "HEATMAP_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for text in expected:
        assert text in result.stdout, result.stdout
