"""Tag v2 (TAG_MODE "view", the shipped default) in real Chromium on Playwright's fake clock.

Every scripted visit is played twice, once per mode, and the `hm_view` pushes decode (tracking/packing.py) to the
same per-band seconds and clicks the v1 tag pushes; GA4's limits hold (≤ 100 characters a value, ≤ 20 of our
parameters an event); a page view that does not fit in one event spills into the next, exactly. The last test
feeds the captured pushes, as GA4's BigQuery export stores them, through tracking/bigquery/heatmap_daily.sql.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from heatmap import contract
from heatmap.templates import parse_templates
from tests.fixtures.tag_page import CLICK, DWELL, MORE, SQ, TAG_JS, TagPage, tag_pages_fixture
from tests.fixtures.tag_page import chromium as chromium
from tests.fixtures.tag_page import server as server
from tests.test_bigquery_sql import param
from tests.test_bigquery_sql import run as run_daily_sql
from tracking import build
from tracking.packing import PageView, page_views

pytestmark = pytest.mark.browser

VIEW = contract.VIEW_EVENT
OURS = {*contract.VIEW_PARAMS, "hm_page_location"}
tag_page = tag_pages_fixture("view")
band_page = tag_pages_fixture("band")

Script = Callable[[TagPage], None]


def views_of(tp: TagPage) -> dict[str, PageView]:
    pushes = tp.events(VIEW)
    for push in pushes:
        assert set(push) - {"event"} <= OURS, push
        assert len(set(push) - {"event"}) <= 20, "GA4 allows 25 parameters an event and adds its own"
        assert all(len(str(v)) <= contract.MAX_PARAM_LENGTH for v in push.values()), push
    return page_views(pushes)


def v1_views(tp: TagPage) -> dict[str, dict[str, Any]]:
    """The v1 pushes per page view (by URL: the scripts below visit each URL once): seconds per band, clicks."""
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"seconds": defaultdict(float), "clicks": []})
    for e in tp.events(DWELL, MORE, CLICK):
        view = out[e["hm_page_location"]]
        if e["event"] == CLICK:
            view["clicks"].append((int(e[contract.X_PARAM]), int(e[contract.Y_PARAM]), ""))
        else:
            view["seconds"][int(e[contract.BAND_PARAM])] += e[contract.SECONDS_PARAM]
    return out


def assert_same_as_v1(
    script: Script, path: str, band: Callable[[str], TagPage], view: Callable[[str], TagPage]
) -> dict[str, PageView]:
    v1_page, v2_page = band(path), view(path)
    for tp in (v1_page, v2_page):
        script(tp)
        tp.set_visibility("hidden")
    expected = v1_views(v1_page)
    got = views_of(v2_page)
    by_url = {v.page_location.replace(v2_page.base, v1_page.base): v for v in got.values()}
    assert set(by_url) == set(expected)
    for url, want in expected.items():
        assert by_url[url].seconds() == pytest.approx({b: round(s, 1) for b, s in want["seconds"].items()}), url
        assert by_url[url].clicks == want["clicks"], url
    return got


# ------------------------------------------------------------------------------------------- one event


def test_a_flush_is_one_hm_view_with_the_hand_packed_values(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/pricing")
    tp.run(5)
    tp.scroll_to(1000)
    tp.run(3.2)
    tp.page.mouse.click(300, 370)  # page y 1370 -> y step 68; x 300 / 1000 -> 30
    assert tp.events(VIEW) == [], "nothing is sent before the page is hidden"
    tp.set_visibility("hidden")
    [push] = tp.events(VIEW)
    width = tp.page.evaluate("document.documentElement.clientWidth")
    pv = push.pop(contract.PAGE_VIEW_PARAM)
    assert pv[0].isalpha() and len(pv) == 16
    assert push == {
        "event": VIEW,
        contract.VERSION_PARAM: 2,
        contract.SEQUENCE_PARAM: 0,
        contract.LAYOUT_WIDTH_PARAM: width,
        contract.PAGE_HEIGHT_PARAM: 5000,
        "hm_p1": "d0:50,50,50,50,50,50,50,50;10:32,32,32,32,32,32,32,32",
        "hm_p2": "c30.68",
        "hm_page_location": tp.base + "/tall/pricing",
    }


def test_coming_back_flushes_only_the_new_time_as_the_next_sequence(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/tabs")
    tp.scroll_to(1000)
    tp.run(3.2)
    tp.set_visibility("hidden")
    tp.run(30)  # away: not counted
    tp.page.evaluate("dispatchEvent(new PageTransitionEvent('pagehide'))")
    assert len(tp.events(VIEW)) == 1, "a second hide with nothing new sends nothing"
    tp.set_visibility("visible")
    tp.run(2)
    tp.set_visibility("hidden")
    first, second = tp.events(VIEW)
    assert first[contract.PAGE_VIEW_PARAM] == second[contract.PAGE_VIEW_PARAM]
    assert (first[contract.SEQUENCE_PARAM], second[contract.SEQUENCE_PARAM]) == (0, 1)
    assert second["hm_p1"] == "d10:" + ",".join(["20"] * 8)
    [view] = views_of(tp).values()
    assert view.seconds() == dict.fromkeys(range(10, 18), 5.2)


def test_a_route_change_starts_a_new_page_view_id(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/a")
    tp.run(2)
    tp.page.evaluate("history.pushState({}, '', '/tall/b')")
    tp.run(3)
    tp.set_visibility("hidden")
    a, b = tp.events(VIEW)
    assert a["hm_page_location"].endswith("/tall/a") and b["hm_page_location"].endswith("/tall/b")
    assert a[contract.PAGE_VIEW_PARAM] != b[contract.PAGE_VIEW_PARAM]
    assert (a[contract.SEQUENCE_PARAM], b[contract.SEQUENCE_PARAM]) == (0, 0)


def test_a_declared_template_key_is_sent_and_an_overlong_one_is_not(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/jobs/123")
    tp.page.evaluate("document.documentElement.setAttribute('data-hm-page', ' job-detail ')")
    tp.run(1)
    tp.set_visibility("hidden")
    tp.page.evaluate("document.documentElement.setAttribute('data-hm-page', 'x'.repeat(101))")
    tp.set_visibility("visible")
    tp.run(1)
    tp.set_visibility("hidden")
    first, second = tp.events(VIEW)
    assert first[contract.TEMPLATE_PARAM] == "job-detail"
    assert contract.TEMPLATE_PARAM not in second


#: As `python -m tracking.build --site` builds them into a site's tag (the fixture serves it with these rules).
SITE_RULES = "job apply=/tall/jobs/*/apply; job detail=/tall/jobs/*; pairs=re:^/tall/a{2}/[0-9]+$; x=re:^/tall/x<y$"


def test_the_tag_applies_the_sites_url_rules_and_a_declared_key_wins(chromium: Any, server: str) -> None:
    """The first matching rule names the page's template; a declared key wins; no match sends none; a route change
    is matched again. `{2}` and `<` reach the browser intact through the escaping that keeps them out of the HTML."""
    tp = TagPage(chromium, server, "view", templates=SITE_RULES)
    try:
        sent = {}
        for path in ("/tall/jobs/7", "/tall/jobs/7/apply", "/tall/aa/12", "/tall/x%3Cy", "/tall/x<y", "/tall/jobs"):
            tp.open(path)
            tp.run(1)
            tp.set_visibility("hidden")
            tp.set_visibility("visible")
            sent[path] = tp.events(VIEW)[-1].get(contract.TEMPLATE_PARAM)
        assert sent == {"/tall/jobs/7": "job detail", "/tall/jobs/7/apply": "job apply", "/tall/aa/12": "pairs",
                        "/tall/x%3Cy": None, "/tall/x<y": None, "/tall/jobs": None}  # fmt: skip
        # the path as page_location has it (percent-encoded), as the dashboard's rules see it: x<y is x%3Cy there
        tp.page.evaluate("history.pushState({}, '', '/tall/jobs/9')")
        tp.run(1)
        tp.page.evaluate("history.pushState({}, '', '/tall/jobs/10')")  # flushes /tall/jobs/9, then the app renders
        tp.page.evaluate("document.body.setAttribute('data-hm-page', 'featured job')")
        tp.run(1)
        tp.set_visibility("hidden")
        *_before, ninth, tenth = tp.events(VIEW)
        assert ninth["hm_page_location"].endswith("/tall/jobs/9") and ninth[contract.TEMPLATE_PARAM] == "job detail"
        assert tenth["hm_page_location"].endswith("/tall/jobs/10") and tenth[contract.TEMPLATE_PARAM] == "featured job"
        assert tp.errors == [], tp.errors
    finally:
        tp.close()


def test_a_sites_tag_holds_no_script_end_or_gtm_variable_whatever_the_rules() -> None:
    js = build.render_site_tag(TAG_JS, parse_templates(r"odd=re:^/a\{{2}</script>$"))  # "{" twice, then a tag
    assert "</script" not in js.lower() and "{{" not in js
    assert build.read_js_settings(js)["PAGE_TEMPLATES"] == [["odd", r"^/a\{{2}</script>$"]]  # the same text in JS
    with pytest.raises(ValueError, match=r"'flags'.*JavaScript reads otherwise"):
        build.render_site_tag(TAG_JS, parse_templates("flags=re:(?i)^/jobs$"))
    assert build.read_js_settings(TAG_JS)["PAGE_TEMPLATES"] == []  # the shipped tag applies no rules


def test_many_clicks_are_sent_before_the_flush_and_nothing_is_lost(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/tall/clicky")
    for n in range(105):
        tp.page.mouse.click(10 + n * 9, 100)
    early = tp.events(VIEW)
    assert len(early) == 1 and early[0][contract.SEQUENCE_PARAM] == 0, "100 pending clicks go at once"
    tp.run(1)
    tp.set_visibility("hidden")
    [view] = views_of(tp).values()
    # 9 px apart at once: one rage burst (flagged on its third click); on a plain div, the clicks still waiting to
    # be sent after a second are dead
    flags = ["r" if n == 2 else "d" if n >= 100 else "" for n in range(105)]
    assert view.clicks == [((10 + n * 9) * 100 // 1000, 5, flags[n]) for n in range(105)]
    assert view.flushes == 2


@pytest.mark.parametrize("kind", ["consent-off", "consent-fn", "consent-dl"])
def test_consent_off_sends_nothing(tag_page: Callable[[str], TagPage], kind: str) -> None:
    tp = tag_page(f"/{kind}/page")
    tp.run(5)
    tp.page.mouse.click(100, 100)
    tp.set_visibility("hidden")
    assert tp.events(VIEW) == []


# ------------------------------------------------------------------------------------------ v1 == v2


def _reads_with_tabs_clicks_and_a_route_change(tp: TagPage) -> None:
    tp.run(4.3)
    tp.page.mouse.click(500, 300)
    tp.scroll_to(1250)
    tp.run(6.05)
    tp.page.mouse.click(120, 790)
    tp.set_visibility("hidden")  # to another tab
    tp.run(40)
    tp.set_visibility("visible")
    tp.run(2.7)
    tp.scroll_to(3000)
    tp.run(31)  # past the idle timeout: only 30 s count
    tp.page.mouse.click(999, 10)
    tp.page.evaluate("history.pushState({}, '', '/tall/next')")
    tp.run(1.5)
    tp.page.mouse.click(1, 1)


def test_v2_decodes_to_the_v1_seconds_and_clicks(
    tag_page: Callable[[str], TagPage], band_page: Callable[[str], TagPage]
) -> None:
    got = assert_same_as_v1(_reads_with_tabs_clicks_and_a_route_change, "/tall/script", band_page, tag_page)
    assert sorted(v.flushes for v in got.values()) == [1, 2], "the first page view flushed twice (tab away)"


def _reads_top_to_bottom(hold: float, clicks: int) -> Script:
    return lambda tp: tp.read_top_to_bottom(hold, clicks)


def test_a_20000_px_page_read_with_10_clicks_is_one_event(
    tag_page: Callable[[str], TagPage], band_page: Callable[[str], TagPage]
) -> None:
    got = assert_same_as_v1(_reads_top_to_bottom(2, 10), "/page-20000/read", band_page, tag_page)
    [view] = got.values()
    assert view.flushes == 1, "budget: at most 2 GA4 events for this page view (v1 sends about 200)"
    assert len(view.tenths) == 200 and len(view.clicks) == 10


def test_a_30000_px_page_spills_into_the_next_event_exactly(
    tag_page: Callable[[str], TagPage], band_page: Callable[[str], TagPage]
) -> None:
    got = assert_same_as_v1(_reads_top_to_bottom(12.5, 10), "/page-30000/read", band_page, tag_page)
    [view] = got.values()
    assert view.flushes == 2, "300 bands of 125 tenths need 13 packs: one more than an event holds"
    assert len(view.tenths) == 300


# ---------------------------------------------------------------------------- through the BigQuery query


def ga4_export_row(push: dict[str, Any], user: str, ts: int) -> dict[str, Any]:
    """A dataLayer push as GA4's BigQuery export stores the event the GTM container sends for it."""
    params = [param("ga_session_number", 1)]
    for key, value in push.items():
        if key != "event":
            params.append(param("page_location" if key == "hm_page_location" else key, value))
    return {
        "event_date": "20261101",
        "event_timestamp": ts,
        "event_name": push["event"],
        "event_params": params,
        "user_pseudo_id": user,
        "device": {"category": "desktop"},
        "session_traffic_source_last_click": {"cross_channel_campaign": {"default_channel_group": "Direct"}},
    }


def test_captured_pushes_through_the_query_equal_the_v1_report_sums(
    tag_page: Callable[[str], TagPage], band_page: Callable[[str], TagPage]
) -> None:
    scripts = [_reads_with_tabs_clicks_and_a_route_change, _reads_top_to_bottom(1.5, 3), lambda tp: tp.run(7)]
    rows: list[dict[str, Any]] = []
    want: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    want_clicks: dict[tuple[str, int, int], int] = defaultdict(int)
    for n, script in enumerate(scripts):
        v1, v2 = band_page("/tall/q"), tag_page("/tall/q")
        for tp in (v1, v2):
            script(tp)
            tp.set_visibility("hidden")
        rows += [ga4_export_row(push, f"u{n}", ts) for ts, push in enumerate(v2.events(VIEW))]
        for e in v1.events(DWELL, MORE, CLICK):
            page = urlsplit(e["hm_page_location"]).path
            if e["event"] == CLICK:
                want_clicks[(page, int(e[contract.X_PARAM]), int(e[contract.Y_PARAM]))] += 1
                continue
            total = want[(page, int(e[contract.BAND_PARAM]))]
            total[0] += e["event"] == DWELL  # v1 counts page views with hm_dwell only
            total[1] += e[contract.SECONDS_PARAM]
            total[2] += e[SQ]
    rows.append(rows[0])  # GA delivered one event twice: counted once
    out = run_daily_sql(rows, "20261101", "20261101")
    dwell = {(r[1], r[3]): (r[11], r[12], r[13]) for r in out if r[2] == DWELL}
    clicks = {(r[1], r[4], r[5]): r[11] for r in out if r[2] == CLICK}
    assert set(dwell) == set(want)
    for key, (count, seconds, squares) in want.items():
        assert dwell[key] == (count, pytest.approx(seconds), pytest.approx(squares)), key
    assert clicks == want_clicks
    assert not [r for r in out if r[2] == contract.VIEW_REJECTED_EVENT]


# ------------------------------------------------------------------------------------------- rage and dead clicks


def click_at(tp: TagPage, x: int, y: int, *gaps: float) -> None:
    """Click at (x, y), then again after each of `gaps` seconds (the fake clock runs in between)."""
    tp.page.mouse.click(x, y)
    for gap in gaps:
        tp.run(gap)
        tp.page.mouse.click(x, y)


def sent_clicks(tp: TagPage) -> list[tuple[int, int, str]]:
    tp.set_visibility("hidden")
    [view] = views_of(tp).values()
    return view.clicks


def test_the_third_quick_click_in_one_place_is_a_rage_click_once_per_burst(tag_page: Callable[[str], TagPage]) -> None:
    tp = tag_page("/frustration/rage")
    click_at(tp, 500, 650, 0.2, 0.2, 0.2, 0.2)  # five clicks 0.2 s apart on one spot: one burst
    tp.run(2)
    click_at(tp, 500, 650, 0.9, 0.9)  # three more, each under a second apart: the next burst
    tp.run(2)
    click_at(tp, 200, 650, 1.2, 1.2)  # near miss: too slow
    tp.run(2)
    tp.page.mouse.click(700, 650)
    tp.run(0.2)
    tp.page.mouse.click(740, 650)  # near miss: 40 px from the last click
    tp.run(0.2)
    tp.page.mouse.click(780, 650)
    flags = [flag.replace("d", "") for _x, _y, flag in sent_clicks(tp)]
    assert flags == ["", "", "r", "", "", "", "", "r", "", "", "", "", "", ""]


def test_a_dead_click_is_one_on_something_inert_after_which_nothing_changes(
    tag_page: Callable[[str], TagPage],
) -> None:
    tp = tag_page("/frustration/dead")
    for y in (50, 150, 350, 450, 250):  # plain, reacts (a script changes it), a button that adds to the page, a
        tp.page.mouse.click(100, y)  #     broken button (a button: not called dead), a link (scrolls to #below)
        tp.run(1.5)
    tp.page.mouse.click(100, 650)  # the inert part below, but the page is left before a second passes
    tp.run(0.3)
    clicks = sent_clicks(tp)
    assert [flag for _x, _y, flag in clicks] == ["d", "", "", "", "", ""]
    assert [y for _x, y, _flag in clicks[:5]] == [2, 7, 17, 22, 12]


def test_band_mode_pushes_rage_and_dead_as_their_own_events(band_page: Callable[[str], TagPage]) -> None:
    tp = band_page("/frustration/band")
    click_at(tp, 500, 50, 0.2, 0.2)
    tp.run(1.5)
    rage = tp.events(contract.RAGE_EVENT)
    dead = tp.events(contract.DEAD_EVENT)
    assert [(e[contract.X_PARAM], e[contract.Y_PARAM]) for e in rage] == [("50", "2")]
    assert [(e[contract.X_PARAM], e[contract.Y_PARAM]) for e in dead] == [("50", "2")] * 3  # each inert click
    assert len(tp.events(CLICK)) == 3


def test_clicks_on_fixed_and_sticky_elements_are_sent_where_they_sit_on_the_screen(
    tag_page: Callable[[str], TagPage], band_page: Callable[[str], TagPage]
) -> None:
    script: Script = lambda tp: (  # noqa: E731
        tp.scroll_to(1000),
        tp.page.mouse.click(100, 30),  # the sticky header, stuck at the top: viewport y 30 -> 1
        tp.page.mouse.click(500, 760),  # the fixed button, 20-60 px above the bottom (800): viewport y 760 -> 38
        tp.page.mouse.click(100, 400),  # the page under them: page y 1400 -> 70
        tp.run(1.5),  # a second without a change: the plain content's click is dead, the header's (a span) not
    )
    view = tag_page("/pinned/view")
    script(view)
    assert sent_clicks(view) == [(10, 1, "f"), (50, 38, "f"), (10, 70, "d")]  # fixed: never rage or dead
    band = band_page("/pinned/band")
    script(band)
    cells = [(e["event"], e[contract.X_PARAM], e[contract.Y_PARAM]) for e in band.events(CLICK, contract.FIXED_EVENT)]
    assert cells == [(contract.FIXED_EVENT, "10", "1"), (contract.FIXED_EVENT, "50", "38"), (CLICK, "10", "70")]
