"""Links and UI text without Streamlit: a view survives the URL round trip; bad links fall back, never raise."""

from __future__ import annotations

import re
from datetime import date

import pytest

from heatmap.ui.i18n import JA, STRINGS, Translator, pick_language
from heatmap.usecases.view import (
    MapSettings,
    Options,
    View,
    default_view,
    params_of,
    parse_view,
    view_query,
)

OPTIONS = Options(
    pages=("/", "/pricing", "/求人/detail"),
    first_day=date(2026, 9, 1),
    last_day=date(2026, 10, 31),
    segments={"deviceCategory": ("desktop", "mobile", "tablet"), "newVsReturning": ("new", "returning")},
)
SHA = "ab" * 32
LANGUAGE_NEUTRAL = {
    "compare.a",
    "compare.b",
    "error.heatmap",
    "shot.stored_fmt",
    "download.png",
    "download.csv",
    "legend.scale.difference.reach",  # ±1.5%
    "legend.high.reach",  # 100 %
    "legend.low.clicks",  # 0
    "download.json",
    "compare.effect_percent",  # 10 %
    "value.hm_layout.range",  # 1,440–1,919 px
}


def test_default_view_is_busiest_page_last_28_days_with_data_and_commonest_device() -> None:
    view = default_view(OPTIONS)
    assert view.page == "/"
    assert (view.start, view.end) == (date(2026, 10, 4), date(2026, 10, 31))
    assert view.where == {"deviceCategory": (OPTIONS.segments["deviceCategory"][0],)}
    assert view.kind == "attention" and view.shot is None


def test_round_trip_keeps_every_choice() -> None:
    view = View(
        page="/求人/detail",
        start=date(2026, 9, 3),
        end=date(2026, 9, 20),
        where={"deviceCategory": ("mobile", "tablet"), "newVsReturning": ("returning",)},
        kind="clicks",
        shot=SHA,
        display=MapSettings(
            dpr=2.0,
            shift=-40,
            crop_top=120,
            crop_bottom=300,
            ramp="cividis",
            opacity=0.7,
            scale="fixed",
            ceiling=3.5,
            smooth=True,
        ),
    )
    query = view_query(view)
    assert query["device"] == ["mobile", "tablet"] and query["visitor"] == ["returning"]
    assert query["smooth"] == ["1"] and query["opacity"] == ["0.7"]
    parsed, problems = parse_view(query, OPTIONS)
    assert problems == []
    assert parsed == view


def test_defaults_stay_out_of_links_but_dates_are_always_explicit() -> None:
    query = view_query(default_view(OPTIONS))
    assert query == {
        "page": ["/"],
        "from": ["2026-10-04"],
        "to": ["2026-10-31"],
        "type": ["attention"],
        "device": ["desktop"],
    }


@pytest.mark.parametrize(
    ("params", "key", "reason"),
    [
        ({"page": ["/gone"]}, "page", "unknown_page"),
        ({"from": ["yesterday"]}, "from", "bad_date"),
        ({"from": ["2026-10-10"], "to": ["2026-10-01"]}, "from..to", "reversed_dates"),
        ({"from": ["2020-01-01"], "to": ["2020-01-31"]}, "from..to", "dates_outside"),
        ({"type": ["heat"]}, "type", "unknown_value"),
        ({"device": ["phone"]}, "device", "unknown_value"),
        ({"shot": ["../../etc/passwd"]}, "shot", "bad_sha"),
        ({"dpr": ["NaN"]}, "dpr", "bad_number"),
        ({"opacity": ["7"]}, "opacity", "bad_number"),
        ({"shift": ["1.5"]}, "shift", "bad_number"),
        ({"scale": ["fixed"]}, "scale", "ceiling_missing"),
        ({"ramp": ["rainbow"]}, "ramp", "unknown_value"),
        ({"utm_source": ["mail"]}, "utm_source", "unknown_key"),
    ],
)
def test_bad_link_values_fall_back_with_a_problem(params: dict, key: str, reason: str) -> None:
    view, problems = parse_view(params, OPTIONS)
    assert [(p.key, p.reason) for p in problems] == [(key, reason)]
    default = default_view(OPTIONS)
    assert view.page == default.page and view.kind == default.kind
    if reason != "dates_clamped":
        assert (view.start, view.end) == (default.start, default.end) or key not in ("from", "from..to")


def test_dates_partly_outside_the_data_are_trimmed() -> None:
    view, problems = parse_view({"from": ["2026-08-01"], "to": ["2026-09-10"]}, OPTIONS)
    assert (view.start, view.end) == (date(2026, 9, 1), date(2026, 9, 10))
    assert [p.reason for p in problems] == ["dates_clamped"]


def test_known_values_are_kept_and_unknown_ones_reported() -> None:
    view, problems = parse_view({"deviceCategory": ["mobile", "watch", "mobile"]}, OPTIONS)
    assert view.where == {"deviceCategory": ("mobile",)}
    assert [(p.key, p.value) for p in problems] == [("deviceCategory", "watch")]


def test_params_of_normalises_streamlit_query_params() -> None:
    assert params_of({"a": "1", "b": ["2", "3"]}) == {"a": ["1"], "b": ["2", "3"]}


def test_japanese_text_is_japanese() -> None:
    kana = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
    untranslated = [k for k, v in JA.items() if not kana.search(v) and k not in LANGUAGE_NEUTRAL]
    assert untranslated == []


def test_language_choice_order() -> None:
    assert pick_language("ja", "en", "en-US") == "ja"
    assert pick_language(None, None, "ja-JP") == "ja"
    assert pick_language("xx", None, "fr-FR") == "en"
    assert pick_language(None, "en", "ja-JP") == "en"


def test_translator_formats_and_falls_back() -> None:
    t = Translator("ja", {"en": {"a": "A {n}", "b": "B"}, "ja": {"a": "エー {n}"}})
    assert t("a", n=3) == "エー 3" and t("b") == "B" and t("missing.key") == "missing.key"
    assert STRINGS["en"]["app.name"] == "Page heatmaps"


def test_a_fresh_visit_gets_the_commonest_device_but_a_link_for_all_devices_keeps_all() -> None:
    fresh, problems = parse_view({}, OPTIONS)
    assert fresh.where == {"deviceCategory": ("desktop",)} and problems == []
    all_devices = default_view(OPTIONS).with_(where={})
    reopened, problems = parse_view(view_query(all_devices), OPTIONS)
    assert reopened.where == {} and problems == []


# --- hostile links (issue 9, part 5): capped, reported, never raised -----------------------------------------


def test_a_100_kb_page_value_is_ignored_and_only_its_start_is_kept() -> None:
    view, problems = parse_view({"page": ["/" + "a" * 100_000]}, OPTIONS)
    assert view.page == "/"
    assert [(p.key, p.reason) for p in problems] == [("page", "too_long")]
    assert len(problems[0].value) <= 101


def test_hundreds_of_segment_values_are_capped_and_reported_once() -> None:
    values = [f"v{i}" for i in range(900)] + ["mobile"]
    view, problems = parse_view({"page": ["/"], "device": values}, OPTIONS)
    assert view.where == {}  # 'mobile' came after the first MAX_VALUES values, so it was never read
    assert [(p.key, p.reason) for p in problems] == [("device", "too_many_values"), ("device", "unknown_value")]
    assert sum(len(p.value) for p in problems) < 300
    kept, _ = parse_view({"device": ["mobile", *values]}, OPTIONS)
    assert kept.where == {"deviceCategory": ("mobile",)}


def test_a_very_long_segment_value_is_ignored() -> None:
    view, problems = parse_view({"device": ["mobile", "x" * 5_000]}, OPTIONS)
    assert view.where == {"deviceCategory": ("mobile",)}
    assert [(p.key, p.reason) for p in problems] == [("device", "too_long")]


def test_broken_percent_escapes_are_called_broken() -> None:
    from urllib.parse import parse_qs

    params = parse_qs("page=%ff%fe&%ff%fe=x&device=%c3%28", keep_blank_values=True)  # what Streamlit does
    assert params["page"] == ["\ufffd\ufffd"]
    view, problems = parse_view(params, OPTIONS)
    assert view == default_view(OPTIONS)  # nothing usable in the link: a fresh visit
    assert sorted((p.key, p.reason) for p in problems) == [
        ("device", "bad_text"),
        ("page", "bad_text"),
        ("\ufffd\ufffd", "bad_text"),
    ]


def test_overlong_and_many_unknown_keys_stay_small() -> None:
    params = {"k" * 5_000: ["1"], **{f"utm_{i}": ["x" * 1_000] for i in range(500)}}
    _, problems = parse_view(params, OPTIONS)
    assert len(problems) == 501 and all(p.reason == "unknown_key" for p in problems)
    assert max(len(p.key) + len(p.value) for p in problems) <= 202


@pytest.mark.parametrize(
    ("key", "text"),
    [
        *[("dpr", v) for v in ("-1", "0", "1e999", "nan", "inf", "-inf", "99")],
        *[("shift", v) for v in ("NaN", "1e400", "-10001", "0.5")],
        *[("opacity", v) for v in ("inf", "-0.5", "0", "1.5")],
        *[("crop_top", v) for v in ("-5", "1e30", "nan")],
        *[("crop_bottom", v) for v in ("-1", "200001", "inf")],
        *[("ceiling", v) for v in ("1e308", "1e-300", "-1", "0", "nan", "2000000")],
    ],
)
def test_absurd_numbers_fall_back_to_the_default(key: str, text: str) -> None:
    view, problems = parse_view({key: [text], "scale": ["fixed"]}, OPTIONS)
    assert (key, "bad_number") in [(p.key, p.reason) for p in problems]
    assert getattr(view.display, key) == getattr(MapSettings(), key)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"from": ["99999-01-01"]}, "bad_date"),
        ({"from": ["9999-12-31"]}, "dates_outside"),  # 28 days later does not exist
        ({"to": ["0001-01-01"]}, "dates_outside"),  # 28 days earlier does not exist
        ({"from": ["9999-12-31"], "to": ["0001-01-01"]}, "reversed_dates"),
    ],
)
def test_impossible_dates_fall_back_to_the_default_range(params: dict, reason: str) -> None:
    view, problems = parse_view(params, OPTIONS)
    assert reason in [p.reason for p in problems]
    assert (view.start, view.end) == (default_view(OPTIONS).start, default_view(OPTIONS).end)


def test_compare_links_are_capped_too() -> None:
    from heatmap.usecases.view import parse_compare

    params = {
        "page": ["/" + "p" * 50_000], "a_device": [f"v{i}" for i in range(900)], "from_b": ["9999-12-31"],
        "mode": ["periods"], "\ufffd": ["x"],
    }  # fmt: skip
    view, problems = parse_compare(params, OPTIONS)
    assert view.page == "/"
    reasons = {(p.key, p.reason) for p in problems}
    assert {("page", "too_long"), ("a_device", "too_many_values"), ("\ufffd", "bad_text")} <= reasons
    assert ("from_b..to_b", "dates_outside") in reasons
    assert sum(len(p.value) for p in problems) < 1_000


def test_a_spot_is_read_from_a_link_but_never_written_to_one() -> None:
    from heatmap.usecases.view import Spot, compare_query, parse_compare

    link = {**view_query(default_view(OPTIONS)), "at": ["4200"], "zoom": ["actual"]}
    view, problems = parse_view(link, OPTIONS)
    assert problems == [] and view.spot == Spot(at=4200, zoom="actual")
    assert view == default_view(OPTIONS)  # where the viewer opens is not part of the view
    assert "at" not in view_query(view) and "zoom" not in view_query(view)
    compared, problems = parse_compare(
        {"mode": ["segments"], "at": ["12.6"], "layout": ["swipe"], "swipe": ["30"]}, OPTIONS
    )
    assert problems == [] and compared.spot == Spot(at=13, layout="swipe", swipe=30)
    assert not {"at", "zoom", "layout", "swipe"} & set(compare_query(compared))


@pytest.mark.parametrize(
    ("key", "text", "reason"),
    [("at", "-1", "bad_number"), ("at", "1e999", "bad_number"), ("at", "nan", "bad_number"),
     ("at", "1000001", "bad_number"), ("zoom", "400", "unknown_value"), ("layout", "stack", "unknown_value"),
     ("swipe", "101", "bad_number"), ("swipe", "nan", "bad_number")],
)  # fmt: skip
def test_a_bad_spot_is_ignored_with_a_problem(key: str, text: str, reason: str) -> None:
    from heatmap.usecases.view import Spot

    view, problems = parse_view({key: [text]}, OPTIONS)
    assert [(p.key, p.reason) for p in problems] == [(key, reason)]
    assert view.spot == Spot()


def test_a_link_to_a_page_that_is_gone_falls_back_like_a_fresh_visit() -> None:
    view, problems = parse_view({"page": ["/nope"], "type": ["x"]}, OPTIONS)
    assert [p.reason for p in problems] == ["unknown_page", "unknown_value"]
    assert view.where == default_view(OPTIONS).where  # the commonest device, as on a fresh visit
    linked, _ = parse_view({"page": ["/pricing"]}, OPTIONS)
    assert linked.where == {}  # a link to a page with no segment means all visitors
