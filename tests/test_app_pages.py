"""AppTest of Compare, Saved runs and Data health (and of every page in both languages)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from heatmap.usecases.view import params_of
from tests.fixtures.browser import AppEnv, free_port, viewers

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
PAGES = ["pages/1_Compare.py", "pages/2_Saved_runs.py", "pages/3_Data_health.py"]
TIMEOUT = 180


def open_page(path: str | None, query: dict | None = None, lang: str | None = None) -> AppTest:
    """Run the entrypoint once (as a browser does), then switch to `path` with `query` in the URL."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    if path:
        for key in list(at.query_params):
            if key != "lang":
                del at.query_params[key]
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.switch_page(path).run()
    return at


def qp(at: AppTest) -> dict[str, list[str]]:
    return params_of(dict(at.query_params))


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize("path", [None, *PAGES])
def test_every_page_opens_in_both_languages(app_env: AppEnv, path: str | None, lang: str) -> None:
    at = open_page(path, lang=lang)
    assert not at.exception, [e.value for e in at.exception]
    assert [e for e in at.error if "2026-10-14" not in e.value] == []  # Data health names the missing day as error
    if lang == "ja":
        text = " ".join(str(e.value) for e in [*at.title, *at.subheader, *at.caption, *at.metric])
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text), text[:200]


# --- Compare -------------------------------------------------------------------------------------------------


def test_compare_two_devices_on_one_scale_with_a_difference_map(app_env: AppEnv) -> None:
    query = {"page": "/", "a_device": "desktop", "b_device": "mobile"}
    at = open_page("pages/1_Compare.py", query)
    assert_clean(at)
    (shown,) = viewers(at)
    assert [layer["title"] for layer in shown["layers"]] == ["A", "B"]  # the difference map is on demand
    assert not qp(at).get("diff") and shown["minimap"] == 0
    at = open_page("pages/1_Compare.py", {**query, "diff": "1"})
    assert_clean(at)
    (shown,) = viewers(at)
    assert [layer["title"][:5] for layer in shown["layers"]] == [
        "A",
        "B",
        "B − A",
    ]  # in one frame: they scroll together
    assert shown["minimap"] == 2  # the minimap shows where the differences are
    assert int(at.metric[2].value) > 0  # the demo's devices differ in reach on some bands
    said = headlines(at)  # the largest significant differences in words, largest first
    assert 0 < len(said) <= min(8, int(at.metric[2].value)) and " px**: B reaches it **" in said[0]
    effects = [float(line.split("**")[3].split(" points")[0]) for line in said]
    assert effects == sorted(effects, reverse=True) and min(effects) >= 2.0  # the default minimum: 2 points
    technical = at.dataframe[0].value  # every band with its test, behind the list
    assert technical.shape[0] > len(said) and set(technical["Adjusted p (BH)"]) <= {"–", "p < 0.001"} | {
        f"p = {v / 1000:.3f}" for v in range(1, 1001)
    }
    strict = open_page("pages/1_Compare.py", {**query, "diff": "1", "effect": "15"})
    assert strict.number_input(key="c_effect_reach").value == 15 and qp(strict)["effect"] == ["15"]
    assert any("smaller than 15 points and not listed" in c.value for c in strict.caption)
    assert qp(at)["a_device"] == ["desktop"] and qp(at)["b_device"] == ["mobile"] and qp(at)["mode"] == ["segments"]
    assert qp(at)["diff"] == ["1"]
    assert "B − A" in shown["layers"][2]["template"] and "n = A " in shown["layers"][2]["template"]
    assert f"n = {int(at.metric[0].value.replace(',', '')):,} page views" in shown["layers"][0]["template"]


def headlines(at: AppTest) -> list[str]:
    """The Compare page's plain-language differences, one per item of its list."""
    return [line[2:] for m in at.markdown for line in m.value.splitlines() if line.startswith("- **")]


def test_compare_two_periods(app_env: AppEnv) -> None:
    query = {"mode": "periods", "page": "/pricing", "from": "2026-09-01", "to": "2026-09-28",
             "from_b": "2026-10-01", "to_b": "2026-10-28", "type": "attention"}  # fmt: skip
    at = open_page("pages/1_Compare.py", query)
    assert_clean(at)
    assert at.radio(key="c_mode").value == "periods"
    assert any("Welch's t-test" in c.value for c in at.caption)  # attention differences are tested
    assert at.metric[2].label == "Bands that differ"
    assert qp(at)["from_b"] == ["2026-10-01"]


def test_switching_to_two_periods_compares_with_the_period_before(app_env: AppEnv) -> None:
    query = {"page": "/", "from": "2026-10-05", "to": "2026-11-01", "a_device": "desktop", "b_device": "mobile"}
    at = open_page("pages/1_Compare.py", query)
    at.radio(key="c_mode").set_value("periods").run()
    assert_clean(at)
    assert not [w for w in at.warning if "same selection" in w.value]
    assert qp(at)["from"] == ["2026-09-07"] and qp(at)["to"] == ["2026-10-04"]  # the 28 days before, as A
    assert qp(at)["from_b"] == ["2026-10-05"] and qp(at)["to_b"] == ["2026-11-01"]
    assert qp(at)["device"] == ["desktop"]  # side A's segment, not all devices


def test_compare_attention_and_clicks_are_tested(app_env: AppEnv) -> None:
    """The demo's returning visitors linger less per band and hardly click "Sign up": both show as tested
    differences (Welch per band; exact Poisson per 10 % × 100 px region), each with its own BH."""
    base = {"page": "/", "a_device": "desktop", "b_device": "desktop", "a_visitor": "new", "b_visitor": "returning"}
    at = open_page("pages/1_Compare.py", {**base, "type": "attention"})
    assert_clean(at)
    assert int(at.metric[2].value) > 0
    assert any("Welch's t-test on" in c.value for c in at.caption)
    at = open_page("pages/1_Compare.py", {**base, "type": "clicks", "diff": "1"})
    assert_clean(at)
    assert at.metric[2].label == "Regions that differ" and int(at.metric[2].value) > 0
    assert any("exact Poisson rate test" in c.value for c in at.caption)
    said = headlines(at)  # the click regions that changed most, where they are and by how much
    assert said and ", x " in said[0] and "per 1,000 page views" in said[0]
    regions = at.dataframe[1].value  # per band, then the click regions
    assert regions.shape[0] > 0 and regions["Significant"].any()
    difference = viewers(at)[0]["layers"][2]
    assert "Clicks per 1,000 page views" in difference["template"]
    assert (difference["columns"], difference["cellWidth"]) == (10, 13)  # hover per region: 10 columns × 13 fields


def test_compare_tests_a_frustration_layer_like_clicks(app_env: AppEnv) -> None:
    """Dead clicks on the demo's decoy label on /pricing, new vs returning desktop visitors: Compare counts and
    tests only the dead clicks of each side, and the link keeps the layer."""
    base = {"page": "/pricing", "a_device": "desktop", "b_device": "desktop", "a_visitor": "new",
            "b_visitor": "returning", "type": "clicks", "diff": "1"}  # fmt: skip
    every = open_page("pages/1_Compare.py", base)
    dead = open_page("pages/1_Compare.py", {**base, "clicks": "dead"})
    assert_clean(dead)
    assert dead.segmented_control(key="c_layer").value == "dead" and qp(dead)["clicks"] == ["dead"]
    assert any("exact Poisson rate test" in c.value for c in dead.caption)

    def per_side(at: AppTest) -> tuple[float, float, int]:
        (table,) = [d.value for d in at.dataframe if {"A · clicks per 1,000 views", "x %"} <= set(d.value.columns)]
        return table["A · clicks per 1,000 views"].sum(), table["B · clicks per 1,000 views"].sum(), len(table)

    (dead_a, dead_b, dead_regions), (all_a, all_b, all_regions) = per_side(dead), per_side(every)
    assert 0 < dead_a < all_a and 0 < dead_b < all_b and dead_regions < all_regions


def test_compare_overlapping_segments_are_flagged(app_env: AppEnv) -> None:
    at = open_page("pages/1_Compare.py", {"page": "/", "b_device": "mobile"})  # A = everyone, B = mobile
    assert_clean(at)
    assert any("share page views" in w.value for w in at.warning)


def test_compare_too_few_page_views(app_env: AppEnv) -> None:
    query = {"page": "/blog/how-to-write-a-cv", "from": "2026-10-20", "to": "2026-10-20",
             "a_device": "tablet", "b_device": "desktop"}  # fmt: skip
    at = open_page("pages/1_Compare.py", query)
    assert_clean(at)
    assert any("Side A has only" in w.value for w in at.warning)
    assert not viewers(at)


def test_compare_invalid_link(app_env: AppEnv) -> None:
    at = open_page("pages/1_Compare.py", {"mode": "sideways", "a_device": "fridge", "page": "/gone"})
    assert not at.exception
    warning = next(w.value for w in at.warning if "could not be used" in w.value)
    assert "mode=sideways" in warning and "a_device=fridge" in warning and "page=/gone" in warning


# --- Saved runs -----------------------------------------------------------------------------------------------


def save_one(query: dict) -> tuple[AppTest, str]:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.button(key="x_save").click().run()
    assert_clean(at)
    run_link = at.code[1].value
    return at, run_link.split("run=", 1)[1]


def test_save_then_list_then_open(app_env: AppEnv) -> None:
    at, run_id = save_one({"page": "/pricing", "type": "clicks", "device": "mobile"})
    day = f"{run_id[:4]}/{run_id[4:6]}/{run_id[6:8]}"
    folder = app_env.output / "runs" / day / run_id
    assert {p.name for p in folder.iterdir()} == {"heatmap.png", "thumbnail.jpg", "bands.csv", "clicks.csv", "run.json"}
    assert any("heatmap.png" in m.value for m in at.markdown)  # the page says what was written where
    record = json.loads((folder / "run.json").read_text())
    assert record["view"]["device"] == ["mobile"] and record["page"] == "/pricing"

    at.switch_page("pages/2_Saved_runs.py").run()
    assert_clean(at)
    assert any(run_id in c.value for c in at.caption)
    assert len(at.get("image")) == 1  # the run's thumbnail
    at.button(key=f"r_open_{run_id}").click().run()
    assert_clean(at)
    assert any(run_id in s.value for s in at.success)
    assert at.title[0].value == "/pricing" and at.radio(key="x_kind").value == "clicks"
    assert at.multiselect(key="x_seg_deviceCategory").value == ["mobile"]


def test_a_run_has_the_name_and_note_the_designer_gave_it(app_env: AppEnv) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["page"] = "/pricing"
    at.run()
    at.text_input(key="x_run_name").input("Pricing after the *redesign*").run()
    at.text_area(key="x_run_note").input("Look at the [price table](http://evil.example)").run()
    at.button(key="x_save").click().run()
    assert_clean(at)
    at.switch_page("pages/2_Saved_runs.py").run()
    shown = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "Pricing after the \\*redesign\\*" in shown, "listed by its name, shown as written"
    assert "\\[price table\\]\\(http" in shown, "a note cannot become a link"


def test_run_link_in_a_fresh_session(app_env: AppEnv) -> None:
    _, run_id = save_one({"page": "/求人/detail", "type": "reach", "from": "2026-09-05", "to": "2026-09-25"})
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["run"] = run_id
    at.run()
    assert_clean(at)
    assert at.title[0].value == "/求人/detail"
    assert qp(at)["from"] == ["2026-09-05"] and qp(at)["type"] == ["reach"] and "run" not in qp(at)


def test_unknown_run_link_warns_and_opens_defaults(app_env: AppEnv) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["run"] = "20260101T000000.000Z-deadbeef"
    at.run()
    assert not at.exception
    assert any("saved run not found" in w.value for w in at.warning)
    assert at.title[0].value == "/"


def test_saved_runs_paginate_and_filter(app_env: AppEnv) -> None:
    for page in ["/", "/", "/pricing"] * 4:  # 12 runs: two pages of 10
        save_one({"page": page})
    at = open_page("pages/2_Saved_runs.py")
    assert_clean(at)
    cards = [b.key for b in at.button if b.key and b.key.startswith("r_open_")]
    assert len(cards) == 10 and cards == sorted(cards, reverse=True)  # newest first
    at.button(key="r_older").click().run()
    assert len([b for b in at.button if b.key and b.key.startswith("r_open_")]) == 2
    at.button(key="r_newer").click().run()
    at.selectbox(key="r_page").set_value("/pricing").run()
    assert len([b for b in at.button if b.key and b.key.startswith("r_open_")]) == 4
    assert qp(at)["page"] == ["/pricing"]
    at.query_params.clear()  # the browser's Back: the address of all pages again
    at.run()
    assert at.selectbox(key="r_page").value != "/pricing" and not qp(at).get("page")
    assert len([b for b in at.button if b.key and b.key.startswith("r_open_")]) == 10


def test_saved_runs_empty_and_output_unreachable(app_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_page("pages/2_Saved_runs.py")
    assert_clean(at)
    assert any("No saved runs yet" in i.value for i in at.info)
    monkeypatch.setenv("HEATMAP_OUTPUT", "s3://heatmap-runs/app/")
    monkeypatch.setenv("HEATMAP_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HEATMAP_S3_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    at = open_page("pages/2_Saved_runs.py")
    assert not at.exception
    assert "could not be listed" in at.error[0].value and "cannot reach" in at.error[0].value


def test_saving_into_the_source_is_refused(app_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEATMAP_OUTPUT", str(app_env.home / "demo" / "runs-inside-source"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.button(key="x_save").click().run()
    assert not at.exception
    assert any("inside it" in e.value for e in at.error)
    assert not (app_env.home / "demo" / "runs-inside-source").exists()


# --- Data health ----------------------------------------------------------------------------------------------


def test_data_health_shows_missing_reexported_errors_and_exclusions(app_env: AppEnv) -> None:
    at = open_page("pages/3_Data_health.py")
    assert not at.exception
    summary = at.caption[0].value
    assert "1 missing" in summary and "1 re-exported" in summary
    assert "7 days from the event route (exact), 54 from the GA4 report" in at.caption[1].value
    assert "2026-10-14" in at.error[0].value
    # no backfill flow configured: a short hint with the CLI command for the missing day (tests/test_flows_app.py
    # covers the Backfill action)
    assert "python -m heatmap backfill" in at.code[0].value and "--from 2026-10-14 --to 2026-10-14" in at.code[0].value
    frames = [d.value for d in at.dataframe]
    errors = next(f for f in frames if "Line" in f.columns)
    assert errors["Line"].iloc[0] > 0 and "malformed" in errors["Reason"].iloc[0]
    assert at.metric[0].value != "0"  # rows excluded, counted


def test_data_health_unreachable_source(app_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEATMAP_SOURCE", "s3://heatmap-exports/ga4/")
    monkeypatch.setenv("HEATMAP_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HEATMAP_S3_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    at = open_page("pages/3_Data_health.py")
    assert not at.exception
    assert "cannot reach" in at.error[0].value and not at.get("plotly_chart")


def test_bad_settings_say_what_to_fix(app_env: AppEnv) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["fields"] = {"pagee": "pagePath"}  # a typo in the [fields] section
    at.run()
    assert not at.exception
    assert "unknown field roles" in at.error[0].value and "[fields]" in at.error[0].value


def test_compare_captures_a_templates_busiest_path(app_env: AppEnv) -> None:
    """*Capture from the site* on Compare, for the demo's template *job listing*: the URL offered is its busiest path
    on the demo's own site (never the template's name as a path), the width the device's."""
    at = open_page("pages/1_Compare.py", {"page": "job listing", "a_device": "desktop", "b_device": "mobile"})
    assert_clean(at)
    at.radio(key="c_src").set_value("capture").run()
    assert_clean(at)
    assert at.text_input(key="c_capture_url").value.endswith("/jobs/1")
    assert any("/jobs/1 is the busiest path of the template job listing" in c.value for c in at.caption)
