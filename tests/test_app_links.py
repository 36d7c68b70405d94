"""Links and UI text without Streamlit: a view survives the URL round trip; bad links fall back, never raise."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest

from heatmap.ui.i18n import EN, JA, STRINGS, Translator, pick_language
from heatmap.ui.view import (
    Display,
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
    "download.json",
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
        display=Display(
            dpr=2.0, shift=-40, crop_top=120, crop_bottom=300, ramp="cividis", opacity=0.45, scale="fixed", ceiling=3.5
        ),
    )
    query = view_query(view)
    assert query["device"] == ["mobile", "tablet"] and query["visitor"] == ["returning"]
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


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert set(EN) == set(JA)
    fields = string.Formatter()
    for key in EN:
        en = {f for _, f, _, _ in fields.parse(EN[key]) if f}
        ja = {f for _, f, _, _ in fields.parse(JA[key]) if f}
        assert en == ja, key


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
