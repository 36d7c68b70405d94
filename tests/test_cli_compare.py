"""`python -m heatmap compare`: the Compare page's tested differences, headless, against numbers by hand."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from heatmap import contract
from tests.exports import click, dwell, jsonl, write

ROOT = Path(__file__).resolve().parents[1]
SQ = f"customEvent:{contract.SECONDS_SQ_PARAM}"


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEATMAP_HOME": str(home)}
    env.pop("HEATMAP_SOURCE", None)
    return subprocess.run(
        [sys.executable, "-m", "heatmap", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300
    )


def with_sq(record: dict, squares: float) -> dict:
    return {**record, SQ: str(squares)}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """5 Jan: desktop (A) 100 page views, band 0 250 s + 50 s more after tab returns (Σs² 1000 + 300); mobile (B)
    80 page views, 320 s, Σs² 1600; band 1 seen by 60 and 50. Clicks on a button at x 85 %, y 60 px: A 30, B 2.
    6 Jan: tablet rows from an export without seconds² (older tag)."""
    folder = tmp_path / "exports"
    desktop, mobile, tablet = {"deviceCategory": "desktop"}, {"deviceCategory": "mobile"}, {"deviceCategory": "tablet"}
    more = {**dwell("20260105", "/p", 0, 10, 50, **desktop), "eventName": contract.DWELL_MORE_EVENT}
    records = [
        with_sq(dwell("20260105", "/p", 0, 100, 250, **desktop), 1000),
        with_sq(more, 300),
        with_sq(dwell("20260105", "/p", 1, 60, 120, **desktop), 400),
        with_sq(dwell("20260105", "/p", 0, 80, 320, **mobile), 1600),
        with_sq(dwell("20260105", "/p", 1, 50, 150, **mobile), 600),
        click("20260105", "/p", 85, 3, 30, **desktop),
        click("20260105", "/p", 85, 3, 2, **mobile),
        dwell("20260106", "/p", 0, 90, 270, **tablet),
    ]
    write(folder, "flow/exec-1/p0.jsonl", jsonl(records), modified=datetime(2026, 1, 7, 2))
    return folder


def compare(source: Path, home: Path, *args: str) -> dict:
    result = run("compare", "--source", str(source), "--page", "/p", *args, "--json", home=home)
    assert result.returncode == 0, result.stderr
    assert "NaN" not in result.stdout and "Infinity" not in result.stdout
    return json.loads(result.stdout)


def test_attention_welch_by_hand(source: Path, tmp_path: Path) -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    out = compare(source, tmp_path, "--type", "attention", "--from", "2026-01-05", "--to", "2026-01-05",
                  "--a-where", "device=desktop", "--b-where", "device=mobile")  # fmt: skip
    assert (out["type"], out["a_page_views"], out["b_page_views"]) == ("attention", 100, 80)
    assert out["test"] == "Welch's t-test" and out["note"] is None
    band0, band1 = out["bands"]
    # band 0 — A: mean 300/100 = 3, variance (1300 − 300²/100)/99 = 400/99; B: 320/80 = 4, (1600 − 1280)/79
    assert (band0["a"], band0["b"]) == (3.0, 4.0)
    expected = scipy_stats.ttest_ind_from_stats(4.0, math.sqrt(320 / 79), 80, 3.0, math.sqrt(400 / 99), 100, False)
    assert band0["p"] == pytest.approx(expected.pvalue)
    # band 1 over all page views (40 desktop and 30 mobile views count 0 s): A 120/100, (400 − 144)/99
    expected1 = scipy_stats.ttest_ind_from_stats(150 / 80, math.sqrt((600 - 150**2 / 80) / 79), 80, 1.2,
                                                 math.sqrt((400 - 144) / 99), 100, False)  # fmt: skip
    assert band1["p"] == pytest.approx(expected1.pvalue) and band1["a"] == pytest.approx(1.2)
    # one BH over the two tested bands
    q = scipy_stats.false_discovery_control([expected.pvalue, expected1.pvalue])
    assert [band0["q"], band1["q"]] == pytest.approx(list(q))
    assert band0["significant"] is bool(q[0] <= 0.05)
    assert set(band0) == {"band", "a", "b", "p", "q", "significant"}
    assert out["ratios"][0]["ratio"] == pytest.approx(4 / 3)


def test_clicks_exact_poisson_by_hand(source: Path, tmp_path: Path) -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    out = compare(source, tmp_path, "--type", "clicks", "--from", "2026-01-05", "--to", "2026-01-05",
                  "--a-where", "device=desktop", "--b-where", "device=mobile")  # fmt: skip
    band0 = out["bands"][0]
    assert band0["a"] == pytest.approx(30 / 100) and band0["b"] == pytest.approx(2 / 80)
    expected = scipy_stats.binomtest(30, 32, 100 / 180).pvalue
    assert band0["p"] == pytest.approx(expected) and band0["significant"]
    [region] = out["regions"]
    assert (region["band"], region["x_from"], region["x_to"]) == (0, 80, 90)
    assert region["p"] == pytest.approx(expected) and region["q"] == pytest.approx(expected)
    assert out["bands"][1]["p"] is None  # no clicks in band 1


def test_reach_and_two_periods_and_old_exports(source: Path, tmp_path: Path) -> None:
    out = compare(source, tmp_path, "--type", "reach", "--from", "2026-01-05", "--to", "2026-01-05",
                  "--a-where", "device=desktop", "--b-where", "device=mobile")  # fmt: skip
    assert out["bands"][0]["p"] is None and out["bands"][1]["a"] == 0.6 and out["bands"][1]["b"] == 0.625
    # period B (6 Jan) is from an export without seconds²: attention is descriptive and the JSON says why
    out = compare(source, tmp_path, "--type", "attention", "--from", "2026-01-05", "--to", "2026-01-05",
                  "--b-from", "2026-01-06", "--b-to", "2026-01-06")  # fmt: skip
    assert out["b_page_views"] == 90 and out["b"]["from"] == "2026-01-06"
    assert out["note"] == "no_seconds_sq" and all(b["p"] is None for b in out["bands"])
    assert out["bands"][0]["b"] == 3.0 and not out["bands"][0]["significant"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--b-from", "2026-01-06"], "give both --b-from and --b-to"),
        ([], "same selection"),
        (["--a-where", "device=fridge"], "no data for page"),
        (["--type", "heat"], "invalid choice"),
        (["--fdr", "2", "--b-where", "device=mobile"], "--fdr"),
    ],
)
def test_bad_input_is_one_line(source: Path, tmp_path: Path, args: list[str], message: str) -> None:
    result = run("compare", "--source", str(source), "--page", "/p", *args, "--json", home=tmp_path)
    assert result.returncode != 0 and result.stdout == ""
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
