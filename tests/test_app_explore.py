"""AppTest of the Explore page (streamlit_app.py) on the demo data: happy path, links, uploads and every error."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from heatmap.usecases.view import params_of
from tests.fixtures.browser import AppEnv, free_port, viewers

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 180


def run(query: dict | None = None, locale: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if locale:
        at.context["locale"] = locale
    return at.run()


def texts(elements: object) -> list[str]:
    return [str(e.value) for e in elements]  # type: ignore[attr-defined]


def qp(at: AppTest) -> dict[str, list[str]]:
    """The address bar's query as {key: [values]}."""
    return params_of(dict(at.query_params))


def assert_clean(at: AppTest) -> None:
    assert not at.exception, texts(at.exception)
    assert not at.error, texts(at.error)


def demo_sha(env: AppEnv, name: str) -> str:
    return hashlib.sha256((env.home / "demo" / "screenshots" / name).read_bytes()).hexdigest()


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 220, 240)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_opens_on_the_demo_with_a_map_and_a_complete_link(app_env: AppEnv) -> None:
    at = run()
    assert_clean(at)
    assert at.title[0].value == "/"  # busiest page first
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Page views"].replace(",", "")) > 500  # desktop page views at the screenshot's layout width
    (shown,) = viewers(at)
    (layer,) = shown["layers"]
    assert layer["src"].startswith("data:image/jpeg;base64,") and layer["bands"] > 10
    assert layer["rowWidth"] == 9 and len(layer["rows"]) == 9 * layer["bands"]  # the hover numbers per band
    marks = {m["label"]: m["depth"] for m in shown["marks"]}  # jump to the fold and the reach depths
    assert marks["Average fold"] == 1000 and marks["50%"] == 2300 and "75%" in marks  # 25 %: only if reach falls so low
    assert at.session_state["_x_payload"] < 2_000_000
    query = qp(at)
    assert query["page"] == ["/"] and query["type"] == ["attention"] and len(query["shot"][0]) == 64
    assert query["from"] == ["2026-10-05"] and query["to"] == ["2026-11-01"]  # last 28 days with data
    link = at.code[0].value
    assert "?page=/&" in link and "from=2026-10-05" in link and "shot=" in link
    assert texts(at.info) and "2026-10-14" in texts(at.info)[0]  # the missing day is named, not zeroed
    # the demo's report route has a few "(other)" rows a day: the view says GA folded some of its events
    assert any("GA folded < 0.1 % of this period's heatmap events into (other)" in text for text in texts(at.info))
    assert at.dataframe, "no per-band table"


def test_segment_change_updates_numbers_and_link(app_env: AppEnv) -> None:
    at = run()
    before = at.metric[0].value
    at.multiselect(key="x_seg_deviceCategory").set_value(["mobile"]).run()
    assert_clean(at)
    assert at.metric[0].value != before
    assert qp(at)["device"] == ["mobile"]
    assert at.number_input(key="x_dpr").value == 2.0  # the demo's mobile screenshot is dpr 2
    assert qp(at)["shot"] == [demo_sha(app_env, "home__mobile.png")]


def test_the_layout_width_follows_the_screenshot_until_the_designer_picks_one(app_env: AppEnv) -> None:
    at = run()
    assert_clean(at)
    assert at.multiselect(key="x_seg_hm_layout").value == ["1440-1919"]  # the desktop screenshot: 1,440 CSS px
    assert qp(at)["layout"] == ["1440-1919"]
    shown = int(at.metric[0].value.replace(",", ""))
    (note,) = [text for text in texts(at.info) if "other widths" in text]
    others, total = (int(n.replace(",", "")) for n in note.split()[0:5:4])  # "{others} of the page's {total} ..."
    assert total - others == shown and others > 0  # the report-route days know no width
    at.multiselect(key="x_seg_deviceCategory").set_value(["mobile"]).run()
    assert at.multiselect(key="x_seg_hm_layout").value == ["360-767"]  # 780 px at dpr 2: 390 CSS px
    at.multiselect(key="x_seg_hm_layout").set_value([]).run()  # every width: the designer's choice stays
    at.multiselect(key="x_seg_deviceCategory").set_value(["tablet"]).run()
    assert_clean(at)
    assert at.multiselect(key="x_seg_hm_layout").value == [] and "layout" not in qp(at)
    assert not [text for text in texts(at.info) if "other widths" in text]
    linked = run({"page": "/pricing", "device": "desktop"})  # a link names its widths: none is every width
    assert linked.multiselect(key="x_seg_hm_layout").value == []
    assert "1,440–1,919 px" in linked.multiselect(key="x_seg_hm_layout").options


def test_date_presets_set_the_last_days_with_data_in_one_click(app_env: AppEnv) -> None:
    at = run()
    last = date.fromisoformat(qp(at)["to"][0])
    at.pills(key="x_dates_preset").set_value("7").run()
    assert_clean(at)
    assert qp(at)["from"] == [(last - timedelta(days=6)).isoformat()] and qp(at)["to"] == [last.isoformat()]
    assert at.pills(key="x_dates_preset").value is None, "a shortcut: the dates show the period, not the pill"
    at.pills(key="x_dates_preset").set_value("all").run()
    assert qp(at)["from"] == ["2026-09-01"]


def test_link_restores_the_whole_view(app_env: AppEnv) -> None:
    sha = demo_sha(app_env, "pricing__mobile.png")
    query = {
        "page": "/pricing", "from": "2026-09-10", "to": "2026-09-30", "device": "mobile", "type": "reach",
        "shot": sha, "dpr": "2", "ramp": "viridis", "opacity": "0.4", "shift": "20",
    }  # fmt: skip
    at = run(query)
    assert_clean(at)
    assert not at.warning or "could not be used" not in at.warning[0].value
    assert at.selectbox(key="x_page").value == "/pricing"
    assert at.date_input(key="x_dates").value == (date(2026, 9, 10), date(2026, 9, 30))
    assert at.multiselect(key="x_seg_deviceCategory").value == ["mobile"]
    assert at.radio(key="x_kind").value == "reach"
    assert at.radio(key="x_src").value == "demo"
    assert at.selectbox(key="x_ramp").value == "viridis"
    assert at.slider(key="x_opacity").value == 0.4
    assert at.number_input(key="x_shift").value == 20
    assert qp(at)["shot"] == [sha]
    assert qp(at)["from"] == ["2026-09-10"]


def test_a_link_with_two_devices_reopens_the_demo_screenshot_it_names(app_env: AppEnv) -> None:
    sha = demo_sha(app_env, "pricing__mobile.png")
    query = {"page": "/pricing", "device": ["mobile", "tablet"], "type": "reach", "shot": sha, "dpr": "2"}
    at = run(query)
    assert_clean(at)
    assert at.multiselect(key="x_seg_deviceCategory").value == ["mobile", "tablet"]
    assert at.radio(key="x_src").value == "demo"
    assert qp(at)["shot"] == [sha], "the mobile picture the link names, not the desktop one"
    assert qp(at)["dpr"] == ["2"] and at.number_input(key="x_dpr").value == 2
    at.multiselect(key="x_seg_deviceCategory").set_value(["desktop"]).run()
    assert qp(at)["shot"] == [demo_sha(app_env, "pricing__desktop.png")], "one device chosen: its own picture"


def test_invalid_link_falls_back_with_a_warning(app_env: AppEnv) -> None:
    query = {"page": "/nope", "from": "soon", "type": "heat", "device": "phone", "shot": "zz", "opacity": "9"}
    at = run(query)
    assert not at.exception
    warning = next(w.value for w in at.warning if "could not be used" in w.value)
    for bad in ("page=/nope", "from=soon", "type=heat", "device=phone", "shot=zz", "opacity=9"):
        assert bad in warning
    assert at.title[0].value == "/" and at.radio(key="x_kind").value == "attention"
    assert qp(at)["page"] == ["/"]  # the address bar now holds the valid view


def test_stale_link_to_a_screenshot_that_is_gone(app_env: AppEnv) -> None:
    at = run({"page": "/", "shot": "0" * 64})
    assert not at.exception
    assert any("screenshot not found" in w.value for w in at.warning)


def test_upload_is_checked_by_content(app_env: AppEnv) -> None:
    at = run()
    at.radio(key="x_src").set_value("upload").run()
    at.file_uploader(key="x_upload").upload("page.png", b"this is not a picture", "image/png").run()
    assert not at.exception
    (message,) = [e.value for e in at.error if "not a PNG, JPEG or WebP" in e.value]
    assert "not its name).  \nUpload a PNG" in message  # each sentence ends with its full stop
    assert viewers(at), "the map stays, drawn without the bad screenshot"


def test_choosing_upload_keeps_the_current_picture_until_a_file_is_accepted(app_env: AppEnv) -> None:
    at = run()
    before = qp(at)["shot"]
    assert before == [demo_sha(app_env, "home__desktop.png")]
    at.radio(key="x_src").set_value("upload").run()
    assert_clean(at)
    assert qp(at)["shot"] == before and viewers(at), "no file yet: the demo picture stays under the map"
    assert any("until a new file is accepted" in c.value for c in at.caption)
    at.file_uploader(key="x_upload").upload("page.png", b"this is not a picture", "image/png").run()
    assert qp(at)["shot"] == before, "a refused file does not take the picture away either"


def test_upload_is_stored_and_named_in_the_link(app_env: AppEnv) -> None:
    data = png(1440, 3000)
    sha = hashlib.sha256(data).hexdigest()
    at = run()
    at.radio(key="x_src").set_value("upload").run()
    at.file_uploader(key="x_upload").upload("home.png", data, "image/png").run()
    assert_clean(at)
    assert (app_env.output / "screenshots" / f"{sha}.png").read_bytes() == data
    assert qp(at)["shot"] == [sha]
    assert "_uploads" not in at.session_state or not at.session_state["_uploads"], (
        "stored: the session does not hold the file's bytes as well"
    )
    # a fresh session opening that link finds the screenshot in the output store
    again = run({"page": "/", "shot": sha})
    assert_clean(again)
    assert again.radio(key="x_src").value == "stored" and again.selectbox(key="x_stored").value == sha


def test_an_upload_that_cannot_be_stored_is_still_shown(app_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEATMAP_OUTPUT", str(app_env.home / "demo" / "output"))  # inside the source: refused
    data = png(1440, 3000)
    sha = hashlib.sha256(data).hexdigest()
    at = run()
    at.radio(key="x_src").set_value("upload").run()
    at.file_uploader(key="x_upload").upload("home.png", data, "image/png").run()
    assert not at.exception
    assert any("could not be stored" in w.value for w in at.warning), texts(at.warning)
    assert list(at.session_state["_uploads"]) == [sha], "the session keeps the file it could not store"
    assert qp(at)["shot"] == [sha] and viewers(at)
    at.run()
    assert not at.exception and qp(at)["shot"] == [sha] and viewers(at), "and finds it again on the next run"


def test_too_few_page_views_shows_the_guard_not_a_map(app_env: AppEnv) -> None:
    at = run({"page": "/blog/how-to-write-a-cv", "from": "2026-10-20", "to": "2026-10-20", "device": "tablet"})
    assert_clean(at)
    assert any("at least 100 are needed" in w.value for w in at.warning)
    assert not viewers(at)
    assert int(at.metric[0].value) < 100  # n is still shown


def test_no_data_for_the_selection(app_env: AppEnv) -> None:
    at = run({"page": "/", "from": "2026-10-14", "to": "2026-10-14"})  # the demo's missing day
    assert_clean(at)
    assert any("No export covers these dates" in w.value for w in at.warning)  # not "widen the range"
    assert at.metric[0].value == "0"
    other = run({"page": "/", "from": "2026-10-13", "to": "2026-10-14", "device": "tablet", "channel": "Referral"})
    assert_clean(other)
    assert other.metric[0].value == "0"  # 13 October was exported, with no tablet page view from a referral
    assert any("No data for this page" in w.value for w in other.warning)  # so: widen the range or unfilter


def test_unreachable_source_says_what_to_do(app_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEATMAP_SOURCE", "s3://heatmap-exports/ga4/")
    monkeypatch.setenv("HEATMAP_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HEATMAP_S3_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    at = run()
    assert not at.exception
    message = at.error[0].value
    assert "cannot reach" in message and "Check the source location" in message


def test_empty_source_folder(app_env: AppEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("HEATMAP_SOURCE", str(tmp_path / "empty"))
    at = run()
    assert not at.exception
    assert any("holds no usable export rows" in w.value for w in at.warning)


def test_japanese_from_the_browser_locale_and_from_the_link(app_env: AppEnv) -> None:
    at = run(locale="ja-JP")
    assert_clean(at)
    assert at.metric[0].label == "ページビュー"
    assert "lang" not in qp(at)  # the locale is not forced on people the link is sent to
    at = run({"lang": "ja"})
    assert at.metric[0].label == "ページビュー"
    assert qp(at)["lang"] == ["ja"]
    segments = [m for m in at.multiselect if m.key.startswith("x_seg_")]
    assert segments and all(m.proto.select_all == 0 for m in segments), "Streamlit's English 'Select all' is hidden"
    at.radio(key="lang").set_value("en").run()
    assert at.metric[0].label == "Page views" and qp(at)["lang"] == ["en"]


def test_back_and_forward_show_the_view_the_address_holds(app_env: AppEnv) -> None:
    """The browser's Back puts an earlier view's query in the address and reruns the page: that view is shown
    (like a link), while a widget change in between still wins over the address it has not rewritten yet."""
    at = run()
    first = qp(at)
    at.radio(key="x_kind").set_value("reach").run()
    at.multiselect(key="x_seg_newVsReturning").set_value(["returning"]).run()
    second = qp(at)
    assert second["type"] == ["reach"] and second["visitor"] == ["returning"]
    at.query_params.clear()
    for key, values in first.items():  # Back
        at.query_params[key] = values
    at.run()
    assert_clean(at)
    assert at.radio(key="x_kind").value == "attention" and at.multiselect(key="x_seg_newVsReturning").value == []
    assert qp(at) == first and at.title[0].value == "/"
    at.query_params.clear()
    for key, values in second.items():  # Forward
        at.query_params[key] = values
    at.run()
    assert at.radio(key="x_kind").value == "reach" and at.multiselect(key="x_seg_newVsReturning").value == ["returning"]
    at.query_params.clear()  # a page link from the sidebar carries no view: the session's view stays
    at.run()
    assert at.radio(key="x_kind").value == "reach" and qp(at) == second


def test_a_click_map_lists_its_most_clicked_areas(app_env: AppEnv) -> None:
    from heatmap.statistics.stats import poisson_intervals

    at = run({"page": "/", "type": "clicks", "device": "desktop"})
    assert_clean(at)
    areas = next(d.value for d in at.dataframe if "Depth (CSS px)" in d.value.columns)  # then fixed-element clicks
    metrics = {m.label: m.value for m in at.metric}
    n, clicks = (int(metrics[k].replace(",", "")) for k in ("Page views", "Clicks"))
    assert int(areas["Clicks"].sum()) == clicks > 0  # every click is in exactly one area
    assert list(areas["Clicks"]) == sorted(areas["Clicks"], reverse=True)
    top = areas.iloc[0]
    assert top["Per 1,000 page views"] == pytest.approx(top["Clicks"] * 1000 / n, abs=0.005)
    low, high = poisson_intervals([top["Clicks"]])
    assert (top["95 % CI low"], top["95 % CI high"]) == pytest.approx(
        (low[0] * 1000 / n, high[0] * 1000 / n), abs=0.005
    )
    assert areas["Share of clicks"].sum() == pytest.approx(100, abs=0.1 * len(areas))
    assert not [t for t in at.tabs if any("Depth (CSS px)" in str(d.value.columns) for d in t.dataframe)], (
        "the areas sit under the map, not behind a tab"
    )
    (config,) = viewers(at)
    opening = config["opening"]
    top = int(str(areas.iloc[0]["Depth (CSS px)"]).split("–")[0].replace(",", ""))
    assert opening == {"at": max(0, top - 100)}, "a click map opens at its most clicked area"
    # With another map type the areas stay in the page, in the box the browser shows only with a click map (the
    # type changes there without a rerun: tests/e2e/test_instant_toggles.py)
    attention = run({"page": "/", "type": "attention", "device": "desktop"})
    assert [d for d in attention.dataframe if "Depth (CSS px)" in d.value.columns]


def test_a_page_template_is_picked_like_a_page_and_sums_its_paths(app_env: AppEnv, monkeypatch) -> None:
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore

    catalog = load_dataset(LocalStore(app_env.home / "demo"), cache_dir=app_env.home / "cache").catalog
    paths = [path for path, _views in catalog.pages() if path != "/"]
    monkeypatch.setenv("HEATMAP_PAGE_TEMPLATES", "not home=re:^/.+;empty=/nothing/*")  # every path but "/"
    at = run({"page": "not home"})
    assert_clean(at)
    assert at.title[0].value == "not home" and qp(at)["page"] == ["not home"]
    picker = at.selectbox(key="x_page")
    assert picker.options[0].startswith(f"not home  ·  template of {len(paths)} paths  ·  ")
    assert picker.options[-1].startswith("empty  ·  template of 0 paths")
    views = sum(views for path, views in catalog.pages() if path != "/")
    assert f"{views:,} views, all dates" in picker.options[0]
    assert [tab.label for tab in at.tabs][-1] == "Paths"
    (listed,) = [frame.value for frame in at.dataframe if "Map of this path" in frame.value.columns]
    assert listed["Path"].to_list() == paths  # busiest first
    assert listed["Page views, all dates"].to_list() == [views for path, views in catalog.pages() if path != "/"]
    first = params_of(dict(parse_qsl(urlsplit(listed["Map of this path"][0]).query)))
    assert first["page"] == [paths[0]] and first["from"] == qp(at)["from"] and first["type"] == qp(at)["type"]
    assert "Paths" not in [tab.label for tab in run({"page": paths[0]}).tabs]
    at = run({"page": "not home"}, locale="ja")
    assert at.selectbox(key="x_page").options[0].startswith(f"not home  ·  {len(paths)} パスのテンプレート")


def test_rage_and_dead_clicks_have_their_own_layer_and_list(app_env: AppEnv) -> None:
    at = run({"page": "/pricing", "type": "clicks", "device": "desktop"})
    assert_clean(at)
    said = {
        m.value.split("**")[1]: m.value for m in at.markdown if m.value.startswith("**") and " in this view" in m.value
    }
    dead = int(said["Dead clicks"].split("· ")[1].split()[0].replace(",", ""))
    assert dead > 0 and said["Rage clicks"].endswith("· 0 in this view")  # the demo's decoy label on /pricing
    (spots,) = [
        d.value for d in at.dataframe if "Depth (CSS px)" in d.value.columns and d.value["Clicks"].sum() == dead
    ]
    assert spots.iloc[0]["Depth (CSS px)"] == "700–800" and spots.iloc[0]["Across (% of width)"] == "50–60 %"
    everything = int({m.label: m.value for m in at.metric}["Clicks"].replace(",", ""))
    at.segmented_control(key="x_layer").set_value("dead").run()
    assert_clean(at)
    assert qp(at)["clicks"] == ["dead"]
    assert int({m.label: m.value for m in at.metric}["Dead clicks"].replace(",", "")) == dead < everything
    at.segmented_control(key="x_layer").set_value("rage").run()
    assert any("No Rage clicks in this view" in text for text in texts(at.info))
    jobs = run({"page": "/求人/detail", "type": "clicks", "device": "mobile", "clicks": "rage"}, locale="ja")
    assert_clean(jobs)
    assert jobs.segmented_control(key="x_layer").value == "rage"
    assert int({m.label: m.value for m in jobs.metric}["レイジクリック"].replace(",", "")) > 0  # the slow submit button


def test_clicks_on_fixed_elements_are_listed_apart_and_drawn_on_the_first_screen(app_env: AppEnv) -> None:
    at = run({"page": "/", "type": "clicks", "device": "desktop"})
    assert_clean(at)
    (help_text,) = [c.value for c in at.caption if "are not in the page's click map" in c.value]
    pinned = int(help_text.split()[0].replace(",", ""))
    (spots,) = [
        d.value for d in at.dataframe if "Depth (CSS px)" in d.value.columns and d.value["Clicks"].sum() == pinned
    ]
    assert spots.iloc[0]["Depth (CSS px)"] == "800–900" and spots.iloc[0]["Across (% of width)"] == "90–100 %"
    at.segmented_control(key="x_layer").set_value("fixed").run()
    assert_clean(at)
    assert int({m.label: m.value for m in at.metric}["Fixed and sticky"].replace(",", "")) == pinned
    assert any("over the page's first screen" in text for text in texts(at.info)) and qp(at)["clicks"] == ["fixed"]


def test_the_demo_has_a_template_of_many_job_pages_with_its_screenshot(app_env: AppEnv) -> None:
    at = run()
    assert at.selectbox(key="x_page").options[0].startswith("job listing")  # templates first in the picker
    assert at.title[0].value == "/"  # the default view is still the busiest path
    at.selectbox(key="x_page").set_value("job listing").run()
    assert_clean(at)
    assert qp(at)["page"] == ["job listing"] and qp(at)["shot"] == [demo_sha(app_env, "jobs__desktop.png")]
    views = int({m.label: m.value for m in at.metric}["Page views"].replace(",", ""))
    one = run({"page": "/jobs/1", "layout": "1440-1919", "device": "desktop"})
    assert 0 < int({m.label: m.value for m in one.metric}["Page views"].replace(",", "")) < views
    (paths,) = [d.value for t in at.tabs for d in t.dataframe if "Path" in d.value.columns]
    assert len(paths) == 40 and paths.iloc[0]["Path"] == "/jobs/1"
