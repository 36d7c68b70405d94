"""The GTM tag (tracking/hm_tag.js) in real Chromium, on Playwright's fake clock so every second is exact.

TAG_MODE "band": the report route's per-band events (the "view" mode is tests/test_tracking_tag_view.py's).
Pages are served by tests/fixtures/tag_page.py's small http.server on 127.0.0.1. Viewport 1000 x 800 CSS px, bands of 100 px: at the top
of a tall page bands 0-7 are in view; a band counts while at least half of it is in the viewport.
The last test is end to end: the events become an AppFlow GA4 JSON Lines export the readers turn into bands.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from heatmap import contract
from tests.exports import all_rows
from tests.fixtures.tag_page import BEFORE_TAG, DWELL, MORE, ROOT, SQ, TAG_JS, TagPage, tag_pages_fixture
from tests.fixtures.tag_page import chromium as chromium
from tests.fixtures.tag_page import server as server

pytestmark = pytest.mark.browser

TOP_BANDS = list(range(8))  # bands in view at scroll 0
tag_page = tag_pages_fixture("band")  # these tests are the v1 (report-route) tag's


def expect(bands: list[int] | range, seconds: float) -> dict[int, float]:
    return dict.fromkeys(bands, seconds)


# ------------------------------------------------------------------------------------------------- dwell


def test_dwell_per_band_at_known_positions(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/article")
    tp.run(10)
    tp.scroll_to(1000)
    tp.run(5)
    assert tp.events() == [], "nothing is sent before the page is hidden"
    tp.set_visibility("hidden")
    assert tp.dwell() == {**expect(TOP_BANDS, 10.0), **expect(range(10, 18), 5.0)}
    first = tp.events()[0]
    assert first == {
        "event": contract.DWELL_EVENT,
        contract.BAND_PARAM: "000",
        contract.SECONDS_PARAM: 10,
        SQ: 100,  # one page view, 10 s in band 0: 10²
        "hm_page_location": tp.base + "/tall/article",
    }
    assert tp.dwell_sq() == {**expect(TOP_BANDS, 100.0), **expect(range(10, 18), 25.0)}
    assert [e[contract.BAND_PARAM] for e in tp.events()][:9] == [f"{b:03d}" for b in TOP_BANDS] + ["010"]


def test_band_counts_when_at_least_half_is_in_view(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/half")
    tp.scroll_to(1050)  # bands 10 and 18 are exactly half in view
    tp.run(2)
    tp.scroll_to(1051)  # band 10 now shows 49 px: out; band 18 shows 51 px: in
    tp.run(3)
    tp.set_visibility("hidden")
    assert tp.dwell() == {10: 2.0, **expect(range(11, 18), 5.0), 18: 5.0}


def test_seconds_are_rounded_to_tenths_and_fractions_are_exact(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/fraction")
    tp.run(1.26)
    tp.set_visibility("hidden")
    assert tp.dwell() == expect(TOP_BANDS, 1.3)


def test_flush_restarts_from_zero_and_hidden_time_is_not_counted(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/tabs")
    tp.run(4)
    tp.set_visibility("hidden")
    assert tp.dwell() == expect(TOP_BANDS, 4.0)
    tp.run(20)  # hidden: not counted
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide'))")
    assert len(tp.events()) == 8, "a second hide with nothing new measured sends nothing"
    tp.set_visibility("visible")
    tp.run(3)
    tp.set_visibility("hidden")
    second = tp.events()[8:]
    assert {int(e[contract.BAND_PARAM]): e[contract.SECONDS_PARAM] for e in second} == expect(TOP_BANDS, 3.0)
    assert [e["event"] for e in second] == [MORE] * 8, "bands already reported in this page view"


def test_tab_switches_send_one_hm_dwell_per_band_and_hm_dwell_more_after(
    tag_page: Callable[[str], TagPage],
) -> None:
    tp = tag_page("/tall/switch")
    tp.run(4)
    tp.scroll_to(1000)
    tp.run(5)
    tp.set_visibility("hidden")  # first flush: bands 0-7 (4 s) and 10-17 (5 s), all new
    assert [e["event"] for e in tp.events()] == [DWELL] * 16
    tp.run(30)  # away: not counted
    tp.set_visibility("visible")
    tp.run(3)  # still at 1000: bands 10-17 again
    tp.scroll_to(3000)
    tp.run(2)  # bands 30-37: new in this page view
    tp.set_visibility("hidden")
    tp.set_visibility("visible")
    tp.scroll_to(0)
    tp.run(1.5)  # bands 0-7 again
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide'))")
    tp.set_visibility("hidden")  # nothing new: nothing sent

    events = tp.events()
    dwell_per_band: dict[int, int] = defaultdict(int)
    for e in tp.events(DWELL):
        dwell_per_band[int(e[contract.BAND_PARAM])] += 1
    seen = [*TOP_BANDS, *range(10, 18), *range(30, 38)]
    assert dwell_per_band == dict.fromkeys(seen, 1), "exactly one hm_dwell per band per page view"
    assert tp.dwell(DWELL) == {**expect(TOP_BANDS, 4.0), **expect(range(10, 18), 5.0), **expect(range(30, 38), 2.0)}
    assert tp.dwell(MORE) == {**expect(range(10, 18), 3.0), **expect(TOP_BANDS, 1.5)}
    assert tp.dwell() == {**expect(TOP_BANDS, 5.5), **expect(range(10, 18), 8.0), **expect(range(30, 38), 2.0)}
    assert [e["event"] for e in events] == [DWELL] * 16 + [MORE] * 8 + [DWELL] * 8 + [MORE] * 8
    assert events[16] == {
        "event": MORE,
        contract.BAND_PARAM: "010",
        contract.SECONDS_PARAM: 3,
        SQ: 39,  # 5 s reported before, 3 s more: (5 + 3)² − 5² = 64 − 25
        "hm_page_location": tp.base + "/tall/switch",
    }
    # Σ of the squares over the page view's events = (the band's total seconds in the page view)²
    totals = tp.dwell()
    assert tp.dwell_sq() == {band: pytest.approx(seconds**2, abs=1e-9) for band, seconds in totals.items()}
    assert tp.dwell_sq() == {**expect(TOP_BANDS, 5.5**2), **expect(range(10, 18), 64.0), **expect(range(30, 38), 4.0)}


def test_seconds_squared_sum_to_the_square_of_each_page_views_time(tag_page: Callable[[str], TagPage]) -> None:
    """hm_seconds_sq: over a page view's hm_dwell and hm_dwell_more events of a band, the values add up to the square
    of the band's total seconds in that page view, with fractions (rounded seconds, squares to 0.01), several
    returns to the tab, and a new page view (SPA route) starting from zero."""
    tp = tag_page("/tall/squares")
    tp.run(1.26)  # 1.3 s after rounding
    tp.set_visibility("hidden")
    tp.set_visibility("visible")
    tp.run(0.44)  # 0.4 s more: total 1.7
    tp.set_visibility("hidden")
    tp.set_visibility("visible")
    tp.run(2.5)  # 2.5 s more: total 4.2
    tp.scroll_to(1000)
    tp.run(3)  # bands 10-17: first seen now
    tp.set_visibility("hidden")
    sq = [(e["event"], e[contract.SECONDS_PARAM], e[SQ]) for e in tp.events() if e[contract.BAND_PARAM] == "000"]
    # 1.3² = 1.69; 1.7² − 1.3² = 2.89 − 1.69 = 1.2; 4.2² − 1.7² = 17.64 − 2.89 = 14.75
    assert sq == [(DWELL, 1.3, 1.69), (MORE, 0.4, 1.2), (MORE, 2.5, 14.75)]
    assert tp.dwell() == {**expect(TOP_BANDS, 4.2), **expect(range(10, 18), 3.0)}
    assert tp.dwell_sq() == {**expect(TOP_BANDS, 17.64), **expect(range(10, 18), 9.0)}
    before = len(tp.events())
    tp.set_visibility("visible")
    tp.page.evaluate("history.pushState({}, '', '/tall/squares-2')")  # flushes 0 s: nothing; a new page view
    tp.scroll_to(0)
    tp.run(2)
    tp.set_visibility("hidden")
    second = tp.events()[before:]
    assert {(e["event"], e[contract.SECONDS_PARAM], e[SQ]) for e in second} == {(DWELL, 2.0, 4.0)}


def test_pagehide_flushes(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/leave")
    tp.run(2)
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide'))")
    assert tp.dwell() == expect(TOP_BANDS, 2.0)
    tp.set_visibility("hidden")
    assert len(tp.events()) == 8


def test_back_forward_cache_restore_starts_a_new_page_view(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/bfcache")
    tp.run(3)
    tp.set_visibility("hidden")
    tp.set_visibility("visible")
    tp.run(1)
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    tp.run(20)  # frozen in the cache: not counted
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    tp.run(2)
    tp.set_visibility("hidden")
    seconds = [e[contract.SECONDS_PARAM] for e in tp.events()]
    assert seconds == [3.0] * 8 + [1.0] * 8 + [2.0] * 8
    names = [e["event"] for e in tp.events()]
    assert names == [DWELL] * 8 + [MORE] * 8 + [DWELL] * 8, "the restored page view reports its bands anew"


def test_idle_time_is_not_counted(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/idle")
    tp.run(60)  # no activity: only the first 30 s count
    tp.page.mouse.move(200, 200)
    tp.run(10)
    tp.page.keyboard.press("Shift")
    tp.run(45)  # active for 30 of these
    tp.set_visibility("hidden")
    assert tp.dwell() == expect(TOP_BANDS, 70.0)


def test_scrolling_is_activity(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/scroll-activity")
    tp.run(40)  # 30 counted at the top
    tp.scroll_to(2000)  # activity again; the idle gap before it is not counted
    tp.run(10)
    tp.set_visibility("hidden")
    assert tp.dwell() == {**expect(TOP_BANDS, 30.0), **expect(range(20, 28), 10.0)}


# ------------------------------------------------------------------------------------------------ clicks


def test_click_coordinates(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/clicks")
    tp.scroll_to(1000)
    width = tp.page.evaluate("document.documentElement.scrollWidth")
    tp.page.mouse.click(500, 300)
    tp.page.mouse.click(width - 1, 0)
    tp.page.mouse.click(0, 799)
    clicks = tp.events(contract.CLICK_EVENT)
    assert [(c[contract.X_PARAM], c[contract.Y_PARAM]) for c in clicks] == [
        (str(math.floor(500 / width * 100)), str(1300 // contract.CLICK_Y_STEP_PX)),
        ("99", str(1000 // contract.CLICK_Y_STEP_PX)),
        ("0", str(1799 // contract.CLICK_Y_STEP_PX)),
    ]
    assert all(c["hm_page_location"] == tp.base + "/tall/clicks" for c in clicks)
    tp.page.evaluate("document.body.click()")  # scripted click: no position, not recorded
    assert len(tp.events(contract.CLICK_EVENT)) == 3


# --------------------------------------------------------------------------------------------------- SPA


def test_spa_route_changes_split_page_views(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/a")
    a, b, c = (tp.base + p for p in ("/tall/a", "/tall/b", "/tall/c"))
    tp.run(5)
    tp.page.evaluate("history.pushState({}, '', '/tall/b')")
    assert {e["hm_page_location"] for e in tp.events()} == {a}
    assert tp.dwell() == expect(TOP_BANDS, 5.0)
    tp.run(3)
    tp.page.evaluate("history.replaceState({}, '', '/tall/b?tab=2')")  # same path: same page view
    tp.page.evaluate("history.pushState({}, '', '/tall/b#more')")
    tp.run(1)
    assert len(tp.events()) == 8
    tp.page.evaluate("history.replaceState({}, '', '/tall/c')")
    views: dict[str, dict[int, float]] = defaultdict(dict)
    for e in tp.events():
        views[e["hm_page_location"]][int(e[contract.BAND_PARAM])] = e[contract.SECONDS_PARAM]
    assert views[b] == expect(TOP_BANDS, 4.0)
    tp.run(2)
    tp.page.evaluate(
        """() => new Promise(done => {
            addEventListener('popstate', () => done(), {once: true});
            history.go(-2);
        })"""
    )  # back to /tall/a
    assert tp.page.evaluate("location.pathname") == "/tall/a"
    later = [e for e in tp.events() if e["hm_page_location"] == c]
    assert {int(e[contract.BAND_PARAM]): e[contract.SECONDS_PARAM] for e in later} == expect(TOP_BANDS, 2.0)
    tp.run(1)
    tp.set_visibility("hidden")
    last = tp.events()[-8:]
    assert {e["hm_page_location"] for e in last} == {a}
    assert {int(e[contract.BAND_PARAM]): e[contract.SECONDS_PARAM] for e in last} == expect(TOP_BANDS, 1.0)
    assert {e["event"] for e in tp.events()} == {DWELL}, "each route is its own page view"


def test_spa_route_change_starts_a_new_set_of_reported_bands(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/a")
    a, b = tp.base + "/tall/a", tp.base + "/tall/b"
    tp.run(2)
    tp.set_visibility("hidden")
    tp.set_visibility("visible")
    tp.run(1)
    tp.page.evaluate("history.pushState({}, '', '/tall/b')")  # flushes /tall/a: already reported
    tp.run(3)
    tp.set_visibility("hidden")
    got = [(e["event"], e["hm_page_location"], e[contract.SECONDS_PARAM]) for e in tp.events()]
    assert got == [(DWELL, a, 2.0)] * 8 + [(MORE, a, 1.0)] * 8 + [(DWELL, b, 3.0)] * 8


# ----------------------------------------------------------------------------------------------- consent


@pytest.mark.parametrize("kind", sorted(BEFORE_TAG))
def test_consent_off_sends_nothing(tag_page: Callable[[str], TagPage], kind: str) -> None:
    tp = tag_page(f"/{kind}/page")
    tp.run(5)
    tp.scroll_to(1500)
    tp.page.mouse.click(300, 300)
    tp.run(5)
    tp.set_visibility("hidden")
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide'))")
    assert tp.events() == []


def test_consent_withdrawn_drops_and_granted_later_counts_from_then(
    tag_page: Callable[[str], TagPage],
) -> None:
    tp = tag_page("/tall/consent-change")
    tp.run(5)
    tp.page.evaluate("(window.dataLayer = window.dataLayer || []).push({hmConsent: false})")
    tp.run(5)
    tp.page.mouse.click(100, 100)
    tp.set_visibility("hidden")
    assert tp.events() == []
    tp.set_visibility("visible")
    tp.page.evaluate("(window.dataLayer = window.dataLayer || []).push({hmConsent: true})")
    tp.run(3)
    tp.set_visibility("hidden")
    dwell = tp.dwell()
    assert sorted(dwell) == TOP_BANDS
    # Counted from the first tick that sees consent (ticks are 0.5 s apart).
    assert all(2.5 <= s <= 3.0 for s in dwell.values()), dwell


# -------------------------------------------------------------------------------------------- odd pages


def test_page_shorter_than_viewport_gives_no_errors(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/short/page")
    tp.page.mouse.wheel(0, 500)
    tp.run(3)
    tp.page.mouse.click(10, 700)
    tp.set_visibility("hidden")
    assert tp.dwell() == expect(TOP_BANDS, 3.0)  # the viewport is the document
    assert [e[contract.Y_PARAM] for e in tp.events(contract.CLICK_EVENT)] == ["35"]
    # errors are checked by the fixture


def test_inner_scroll_container_is_activity_but_not_position(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/inner/page")
    tp.run(40)  # 30 counted
    tp.page.evaluate(
        """() => new Promise(done => {
            const box = document.getElementById('box');
            box.addEventListener('scroll', () => done(), {once: true});
            box.scrollTop = 2000;
        })"""
    )
    tp.run(5)
    tp.set_visibility("hidden")
    assert tp.page.evaluate("scrollY") == 0
    assert tp.dwell() == expect(TOP_BANDS, 35.0)  # a document shorter than the viewport spans the viewport


def test_tag_loaded_twice_counts_once(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/twice")
    tp.page.add_script_tag(content=TAG_JS)
    tp.run(2)
    tp.set_visibility("hidden")
    assert tp.dwell() == expect(TOP_BANDS, 2.0)
    assert len(tp.events()) == 8


# ------------------------------------------------------------------------------------------- end to end

E2E_DATE = date(2025, 3, 1)
NOT_SET = "(not set)"


def _appflow_rows(views: list[tuple[dict[str, str], list[dict[str, Any]]]]) -> list[dict[str, str]]:
    """dataLayer events of page views -> the flat records AppFlow writes for the daily GA4 report."""
    dims = contract.REPORT_DIMENSIONS
    band_key = f"customEvent:{contract.BAND_PARAM}"
    x_key = f"customEvent:{contract.X_PARAM}"
    y_key = f"customEvent:{contract.Y_PARAM}"
    seconds_key = f"customEvent:{contract.SECONDS_PARAM}"
    sq_key = f"customEvent:{contract.SECONDS_SQ_PARAM}"
    totals: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for segment, events in views:
        for e in events:
            row = {
                "date": E2E_DATE.strftime("%Y%m%d"),
                "pagePath": urlsplit(e["hm_page_location"]).path,
                "eventName": e["event"],
                band_key: e.get(contract.BAND_PARAM, NOT_SET),
                x_key: e.get(contract.X_PARAM, NOT_SET),
                y_key: e.get(contract.Y_PARAM, NOT_SET),
                **segment,
            }
            total = totals[tuple(row[d] for d in dims)]
            total[0] += 1
            total[1] += float(e.get(contract.SECONDS_PARAM, 0))
            total[2] += float(e.get(SQ, 0))
    return [
        {**dict(zip(dims, key, strict=True)), "eventCount": str(int(n)), seconds_key: f"{s:.1f}", sq_key: f"{q:.2f}"}
        for key, (n, s, q) in sorted(totals.items())
    ]


def _expected_squares(views: list[list[dict[str, Any]]]) -> dict[int, float]:
    """Per band, Σ over page views of (that view's seconds in the band)², straight from the events."""
    out: dict[int, float] = defaultdict(float)
    for events in views:
        per_view: dict[int, float] = defaultdict(float)
        for e in events:
            if e["event"] in (DWELL, MORE):
                per_view[int(e[contract.BAND_PARAM])] += e[contract.SECONDS_PARAM]
        for band, seconds in per_view.items():
            out[band] += seconds**2
    return dict(out)


def _expected_bands(views: list[list[dict[str, Any]]]) -> tuple[int, dict[int, tuple[int, float]]]:
    """Page views, and per band (page views that saw it, seconds per page view), straight from the events."""
    per_band: dict[int, list[float]] = defaultdict(lambda: [0, 0.0])
    for events in views:
        seen = set()
        for e in events:
            if e["event"] in (DWELL, MORE):
                seen.add(int(e[contract.BAND_PARAM]))
                per_band[int(e[contract.BAND_PARAM])][1] += e[contract.SECONDS_PARAM]
        for band in seen:
            per_band[band][0] += 1
    n = int(per_band[0][0])
    return n, {b: (int(v), s / n) for b, (v, s) in per_band.items()}


def test_end_to_end_tag_events_read_back_as_bands(tag_page: Callable[[str], TagPage], tmp_path: Path) -> None:
    page_path = "/tall/e2e"

    def view_top_only(tp: TagPage) -> None:
        tp.run(20)

    def view_reads_down(tp: TagPage) -> None:
        tp.run(5)
        tp.scroll_to(1000)
        tp.run(10)
        tp.page.mouse.click(500, 300)

    def view_skims(tp: TagPage) -> None:
        tp.run(2)
        tp.scroll_to(2000)
        tp.run(4)

    def view_switches_tabs(tp: TagPage) -> None:
        tp.run(3)
        tp.set_visibility("hidden")  # to another tab and back: still the same page view
        tp.run(60)
        tp.set_visibility("visible")
        tp.run(4)
        tp.scroll_to(1000)
        tp.run(2)

    desktop = {
        "deviceCategory": "desktop",
        "sessionDefaultChannelGroup": "Organic Search",
        "newVsReturning": "new",
    }
    mobile = {**desktop, "deviceCategory": "mobile", "newVsReturning": "returning"}
    views = []
    behaviours = (
        (desktop, view_top_only),
        (desktop, view_reads_down),
        (mobile, view_skims),
        (desktop, view_switches_tabs),
    )
    for segment, behave in behaviours:
        tp = tag_page(page_path)
        behave(tp)
        tp.set_visibility("hidden")
        views.append((segment, tp.events()))

    source = tmp_path / "source"
    export = source / "ga4-heatmap-daily" / "exec-1" / "part-0.jsonl"
    export.parent.mkdir(parents=True)
    rows = _appflow_rows(views)
    export.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert all(isinstance(v, str) for r in rows for v in r.values())

    switched = views[3][1]
    assert [e["event"] for e in switched] == [DWELL] * 8 + [MORE] * 8 + [DWELL] * 8
    assert sum(r["eventName"] == MORE for r in rows) == 8, "the export carries the hm_dwell_more rows"
    n, expected = _expected_bands([events for _, events in views])
    assert n == 4, "four page views, however often one of them switched tabs"
    assert expected[0] == (4, (20 + 5 + 2 + 3 + 4) / 4)
    assert expected[15] == (2, (10 + 2) / 4)
    assert expected[25] == (1, 4 / 4)

    def check(result: dict[str, Any]) -> None:
        assert result["page_views"] == n
        got = {b["band"]: b for b in result["bands"]}
        for band, (views_seen, seconds_per_view) in expected.items():
            assert got[band]["page_views"] == views_seen, band
            assert got[band]["reach"] == pytest.approx(views_seen / n), band
            assert got[band]["seconds_per_view"] == pytest.approx(seconds_per_view, abs=0.01), band
        for band, row in got.items():
            if band not in expected:
                assert row["page_views"] == 0 and row["seconds_per_view"] == 0, band

    # The readers as a library.
    from heatmap.engines.local import load_dataset
    from heatmap.statistics.metrics import band_table
    from heatmap.stores.local import LocalStore
    from tests.exports import select

    dataset = load_dataset(LocalStore(source))
    assert dataset.catalog.errors == [] and dataset.catalog.excluded_rows == 0
    table = all_rows(dataset)
    everyone = band_table(select(table, page_path, E2E_DATE, E2E_DATE))
    check(everyone.to_json_dict())
    # Σs² per band arrived: exactly Σ over page views of (seconds in the view)², tab switches included
    squares = _expected_squares([events for _, events in views])
    assert squares[0] == pytest.approx(20**2 + 5**2 + 2**2 + (3 + 4) ** 2)
    assert everyone.has_seconds_sq
    got_sq = dict(zip(everyone.bands["band"].to_list(), everyone.bands["seconds_sq"].to_list(), strict=True))
    for band, expected_sq in squares.items():
        assert got_sq[band] == pytest.approx(expected_sq, abs=1e-6), band
    clicks = table.filter(table["event"] == "click")
    assert clicks.select("x", "y", "events").rows() == [(50, 65, 1)]
    mobile_only = select(table, page_path, E2E_DATE, E2E_DATE, {"deviceCategory": ["mobile"]})
    assert band_table(mobile_only).to_json_dict()["page_views"] == 1
    desktop_only = band_table(select(table, page_path, E2E_DATE, E2E_DATE, {"deviceCategory": ["desktop"]}))
    desktop_bands = {b["band"]: b for b in desktop_only.to_json_dict()["bands"]}
    assert desktop_only.to_json_dict()["page_views"] == 3  # not 4: the tab switch is not a page view
    assert desktop_bands[0]["page_views"] == 3 and desktop_bands[3]["seconds_per_view"] == pytest.approx(
        (20 + 5 + 3 + 4) / 3
    )

    # The CLI contract (docs/cli.md).
    if not (ROOT / "heatmap" / "cli.py").exists():
        pytest.skip("heatmap/cli.py (python -m heatmap bands) is not written yet")
    day = E2E_DATE.isoformat()
    args = ["bands", "--source", str(source), "--page", page_path, "--from", day, "--to", day, "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "heatmap", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    check(json.loads(result.stdout))
