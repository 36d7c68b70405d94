"""`python -m heatmap plan`: report rows and events a day against GA's limits, checked against hand-worked values."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from heatmap.plan import Traffic, events_per_view, plan, report_rows_per_day

ROOT = Path(__file__).resolve().parents[1]


def test_one_band_one_segment_is_a_poisson_occupancy() -> None:
    """One page view a day on one band and one segment: the row exists with probability 1 − e^(−1)."""
    traffic = Traffic(1, 1, depth_px=100, clicks_per_view=0, segments=1, returns=0)
    assert report_rows_per_day(traffic) == pytest.approx(1 - math.exp(-1))
    assert events_per_view(traffic) == {"v1": 1.0, "v2": 1.0}


def test_zipf_pages_and_falling_reach() -> None:
    """3 page views over 2 pages (Zipf: 2 and 1), 2 bands with reach 1 and 0.2: hits 2, 0.4, 1, 0.2."""
    traffic = Traffic(3, 2, depth_px=200, clicks_per_view=0, segments=1, returns=0)
    expected = sum(1 - math.exp(-hits) for hits in (2, 0.4, 1, 0.2))
    assert report_rows_per_day(traffic) == pytest.approx(expected)


def test_clicks_fill_cells_of_every_segment() -> None:
    """Clicks only (a page of one band, 100 x 5 click cells x 2 segments): 1,000 cells, 10 clicks a day."""
    traffic = Traffic(10, 1, depth_px=100, clicks_per_view=1, segments=2, returns=0)
    dwell = 2 * (1 - math.exp(-10 / 2))
    clicks = 1000 * (1 - math.exp(-10 / 1000))
    assert report_rows_per_day(traffic) == pytest.approx(dwell + clicks)


def test_a_tall_read_with_ten_clicks_is_one_event_per_flush_in_v2() -> None:
    """20,000 px read with reach falling to 0.2: 120 bands seen on average, 166 v1 events with returns and
    clicks; v2 packs them (480 + 70 characters) into one event per flush."""
    per_view = events_per_view(Traffic(1, 1, depth_px=20_000, clicks_per_view=10))
    assert per_view["v1"] == pytest.approx(120 * 1.3 + 10)
    assert per_view["v2"] == pytest.approx(1.3)
    assert per_view["v2"] <= 2


def test_a_busy_site_needs_the_event_route_and_a_small_one_does_not() -> None:
    busy = plan(Traffic(1_000_000, 3_000))
    assert busy["route"] == "event"
    assert busy["report_rows_per_day"] > 30 * busy["report_row_limit"]
    assert "(other)" in str(busy["why"]) and "streaming export" in str(busy["why"])
    small = plan(Traffic(500, 4, depth_px=3000))
    assert small["route"] == "report"
    assert small["report_rows_per_day"] < small["report_row_limit"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heatmap", "plan", *args], capture_output=True, text=True, cwd=ROOT)


def test_cli_from_stated_traffic_prints_strict_json() -> None:
    out = _cli("--page-views-per-day", "1000000", "--pages", "3000", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert (
        payload["route"] == "event"
        and payload["heatmap_events_per_day"]["v2"] < payload["heatmap_events_per_day"]["v1"]
    )


def test_cli_refuses_nonsense_in_one_line() -> None:
    out = _cli("--page-views-per-day", "-5", "--pages", "3", "--json")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "positive" in out.stderr and "Traceback" not in out.stderr


def _one_source(tmp_path: Path) -> None:
    folder = tmp_path / "flow" / "0e0e0e0e-0000-4000-8000-000000000001"
    folder.mkdir(parents=True)
    rows = [
        {"date": day, "pagePath": page, "eventName": "hm_dwell", "hm_band": "000", "eventCount": "50",
         "hm_seconds": "10"}
        for day in ("20261101", "20261102") for page in ("/", "/a")
    ]  # fmt: skip
    (folder / "part").write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_cli_from_a_source_uses_its_pages_and_page_views(tmp_path: Path) -> None:
    _one_source(tmp_path)
    out = _cli("--source", str(tmp_path), "--no-cache", "--json")
    assert out.returncode == 0, out.stderr
    traffic = json.loads(out.stdout)["traffic"]
    assert traffic["pages"] == 2 and traffic["page_views_per_day"] == 100


def test_cli_with_a_source_keeps_stated_traffic_and_refuses_a_stated_zero(tmp_path: Path) -> None:
    _one_source(tmp_path)
    stated = _cli("--source", str(tmp_path), "--no-cache", "--pages", "7", "--json")
    assert stated.returncode == 0, stated.stderr
    assert json.loads(stated.stdout)["traffic"]["pages"] == 7
    zero = _cli("--source", str(tmp_path), "--no-cache", "--page-views-per-day", "0", "--json")
    assert zero.returncode == 1 and "positive" in zero.stderr, "a stated 0 is refused, not replaced by the source's"
