"""The report route says what GA lost: per GA date, the share of heatmap events GA4 summed into "(other)" rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from heatmap.engines.local import load_dataset
from heatmap.stores import open_store

ROOT = Path(__file__).resolve().parents[1]


def row(day: str, page: str, event: str, count: int, band: str = "000", x: str = "(not set)") -> dict[str, str]:
    return {
        "date": day, "pagePath": page, "eventName": event, "customEvent:hm_band": band, "customEvent:hm_x": x,
        "customEvent:hm_y": "(not set)" if x == "(not set)" else "3", "deviceCategory": "mobile",
        "eventCount": str(count), "customEvent:hm_seconds": "1.0",
    }  # fmt: skip


def write(root: Path, execution: str, rows: list[dict[str, str]], stamp: float) -> None:
    folder = root / "flow" / execution
    folder.mkdir(parents=True)
    path = folder / "part-0"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    os.utime(path, (stamp, stamp))


def source(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    # 1 Nov: 60 dwell + 10 click events kept; 20 in a page "(other)" row, 10 in an eventName "(other)" row
    # (GA's summary table was full): 30 of 100 heatmap events folded. GA's own page_view events are not counted.
    first = [
        row("20261101", "/a", "hm_dwell", 60),
        row("20261101", "/a", "hm_click", 10, band="(not set)", x="4"),
        row("20261101", "(other)", "hm_dwell", 20),
        row("20261101", "(other)", "(other)", 10, band="(other)", x="(other)"),
        row("20261101", "/a", "page_view", 1000, band="(not set)"),
        # 2 Nov, first export: 40 of 90 folded, but a later re-run replaces this day
        row("20261102", "/a", "hm_dwell", 50),
        row("20261102", "(other)", "hm_dwell", 40),
    ]
    write(root, "0e0e0e0e-0000-4000-8000-000000000001", first, 1_800_000_000)
    rerun = [row("20261102", "/a", "hm_dwell", 45), row("20261102", "/a", "hm_dwell_more", 5, band="001")]
    write(root, "0e0e0e0e-0000-4000-8000-000000000002", rerun, 1_800_090_000)
    return root


def test_share_per_period_counts_only_the_winning_execution(tmp_path: Path) -> None:
    catalog = load_dataset(open_store(str(source(tmp_path)))).catalog
    assert catalog.folded == {date(2026, 11, 1): (30, 100), date(2026, 11, 2): (0, 50)}
    assert catalog.folded_share(date(2026, 11, 1), date(2026, 11, 1)) == 0.3
    assert catalog.folded_share(date(2026, 11, 2), date(2026, 11, 2)) == 0.0
    assert catalog.folded_share(date(2026, 11, 1), date(2026, 11, 2)) == 30 / 150
    assert catalog.folded_share(date(2026, 12, 1), date(2026, 12, 2)) is None


def test_cli_bands_reports_it(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "heatmap", "bands", "--source", str(source(tmp_path)), "--page", "/a",
         "--from", "2026-11-01", "--to", "2026-11-01", "--no-cache", "--json"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ga_folded_share"] == 0.3
