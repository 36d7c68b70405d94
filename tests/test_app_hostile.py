"""AppTest of hostile app inputs (issue 9, part 5): absurd links and hostile uploads never crash a page, never
show a traceback, and never leave an unbounded value in session state or the output store.

Streamlit's own part (checked in AppTest and in Chromium, see tests/e2e/test_app_e2e.py): a query string with more
than 1000 fields or 512 Ki characters is dropped whole before the app runs, and invalid UTF-8 percent-escapes
(`%ff%fe`) arrive as U+FFFD. Everything else reaches the app and is capped there (heatmap.usecases.view.bound_params).
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from heatmap.usecases.view import MapSettings, params_of
from tests.fixtures.browser import AppEnv, viewers

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 180
LINK_WARNING = {"en": "could not be used", "ja": "既定値に置き換えました"}


def run(query: dict | None = None, path: str | None = None) -> AppTest:
    """Open Explore with `query` in the URL; or open Explore, then `path` with `query` (as test_app_pages does)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if path:
        at.run()
        at.query_params.clear()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run() if path is None else at.switch_page(path).run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def link_warning(at: AppTest, lang: str = "en") -> str:
    found = [w.value for w in at.warning if LINK_WARNING[lang] in w.value]
    assert len(found) == 1, [w.value for w in at.warning]
    assert len(found[0]) < 2_000, found[0][:300]  # a hostile link never makes the warning itself huge
    return found[0]


def assert_bounded_state(at: AppTest, limit: int = 4_096) -> None:
    """No text from the link longer than a few KB is kept in session state (nor, so, in a cache key)."""

    def texts(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [t for k, v in value.items() for t in (*texts(k), *texts(v))]
        if isinstance(value, list | tuple | set | frozenset):
            return [t for v in value for t in texts(v)]
        return texts(vars(value)) if hasattr(value, "__dataclass_fields__") else []

    longest = max((len(t) for t in texts(at.session_state.to_dict())), default=0)
    assert longest <= limit, longest


def assert_map(at: AppTest) -> None:
    assert viewers(at), "no map"


def qp(at: AppTest) -> dict[str, list[str]]:
    return params_of(dict(at.query_params))


# --- links ---------------------------------------------------------------------------------------------------


def test_a_100_kb_page_value(app_env: AppEnv) -> None:
    at = run({"page": "/" + "a" * 100_000})
    assert_clean(at)
    assert "(value too long: over 2,048 characters)" in link_warning(at)
    assert at.title[0].value == "/" and qp(at)["page"] == ["/"]  # the address bar holds the default view now
    assert_map(at)
    assert_bounded_state(at)


def test_hundreds_of_segment_values_and_a_very_long_one(app_env: AppEnv) -> None:
    at = run({"page": "/", "device": [f"v{i}" for i in range(900)], "visitor": ["new", "r" * 10_000]})
    assert_clean(at)
    warning = link_warning(at)
    assert "device=×900 (too many values: only the first 50 are read)" in warning
    assert "visitor=rrrr" in warning and "value too long" in warning
    assert at.multiselect(key="x_seg_newVsReturning").value == ["new"]
    assert "device" not in qp(at)
    assert_map(at)
    assert_bounded_state(at)


def test_more_than_1000_fields_are_dropped_by_streamlit_before_the_app_runs(app_env: AppEnv) -> None:
    """Streamlit ignores the whole query string (a server log line, nothing the page can see): defaults."""
    at = run({"page": "/pricing", "device": [f"v{i}" for i in range(3_000)]})
    assert_clean(at)
    assert at.title[0].value == "/" and not [w for w in at.warning if "could not be used" in w.value]
    assert_map(at)


def test_hundreds_of_unknown_keys(app_env: AppEnv) -> None:
    at = run({f"utm_{i}": "x" * 500 for i in range(400)})
    assert_clean(at)
    warning = link_warning(at)
    assert "utm_0=xxx" in warning and "(unknown setting)" in warning and "and 392 more" in warning
    assert_map(at)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_invalid_utf8_percent_escapes(app_env: AppEnv, lang: str) -> None:
    # bytes go into the query string as %FF%FE; Streamlit decodes them to U+FFFD like a real browser request
    at = run({"page": b"\xff\xfe", b"\xff\xfe": "x", "device": b"\xc3(", "lang": lang})
    assert_clean(at)
    warning = link_warning(at, lang)
    broken = {"en": "(not valid text: the link has broken %-escapes)", "ja": "% エスケープが壊れています"}[lang]
    assert warning.count(broken) == 3 and "page=\ufffd\ufffd" in warning
    assert at.title[0].value == "/"
    assert_map(at)


def test_absurd_numbers(app_env: AppEnv) -> None:
    query = {
        "type": "clicks", "dpr": "-1", "shift": "NaN", "opacity": "inf", "crop_top": "1e30", "crop_bottom": "-5",
        "scale": "fixed", "ceiling": "1e308",
    }  # fmt: skip
    at = run(query)
    assert_clean(at)
    warning = link_warning(at)
    for bad in ("dpr=-1", "shift=NaN", "opacity=inf", "crop_top=1e30", "crop_bottom=-5", "ceiling=1e308"):
        assert f"{bad} (not a valid number)" in warning
    assert at.number_input(key="x_shift").value == 0 and at.slider(key="x_opacity").value == MapSettings().opacity
    assert at.selectbox(key="x_scale").value == "max"
    assert_map(at)


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"from": "99999-01-01"}, "from=99999-01-01 (not a date)"),
        ({"from": "9999-12-31"}, "no data in that period"),
        ({"to": "0001-01-01"}, "no data in that period"),
        ({"from": "2026-10-20", "to": "2026-10-01"}, "(start after end)"),
    ],
)
def test_impossible_dates(app_env: AppEnv, query: dict, shown: str) -> None:
    at = run({"page": "/", **query})
    assert_clean(at)
    assert shown in link_warning(at)
    assert qp(at)["from"] == ["2026-10-05"] and qp(at)["to"] == ["2026-11-01"]  # the default: last 28 days
    assert_map(at)


@pytest.mark.parametrize("run_id", ["../../x", "r" * 100_000, "..%2F..%2Fetc%2Fpasswd", "a/b"])
def test_bad_run_ids(app_env: AppEnv, run_id: str) -> None:
    at = run({"run": run_id, "type": "reach"})
    assert_clean(at)
    warning = link_warning(at)
    assert "(not a saved run id)" in warning or "(value too long: over 2,048 characters)" in warning
    assert at.title[0].value == "/" and at.radio(key="x_kind").value == "reach"  # the rest of the link still counts
    assert_map(at)
    assert_bounded_state(at)


def test_compare_page_with_the_worst_link(app_env: AppEnv) -> None:
    query = {"mode": "segments", "page": "/" + "p" * 100_000, "a_device": [f"v{i}" for i in range(600)],
             "b_device": b"\xff", "from": "9999-12-31"}  # fmt: skip
    at = run(query, "pages/1_Compare.py")
    assert_clean(at)
    warning = link_warning(at)
    assert "value too long" in warning and "a_device=×600" in warning and "broken %-escapes" in warning
    assert_bounded_state(at)


# --- uploads -------------------------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def page_image(width: int = 400, height: int = 1_200) -> Image.Image:
    return Image.new("RGB", (width, height), (200, 220, 240))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def zip_payload() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil.html", "<script>alert(1)</script>")
    return buffer.getvalue()


def bomb() -> bytes:
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def frames(fmt: str) -> bytes:
    first, second = page_image(), Image.new("RGB", (400, 1_200), (20, 20, 20))
    return encode(first, fmt, save_all=True, append_images=[second], duration=100, loop=0)


HOSTILE_UPLOADS = {
    "png+zip": ("page.png", lambda: encode(page_image(), "PNG") + zip_payload(), "other data after the end"),
    "png+html": ("page.png", lambda: encode(page_image(), "PNG") + b"<html><script>x</script></html>", "other data"),
    "gif/png polyglot": ("page.png", lambda: encode(page_image(), "GIF") + encode(page_image(), "PNG"), "not a PNG"),
    "jpeg+zip": ("page.jpg", lambda: encode(page_image(), "JPEG") + zip_payload(), "other data after the end"),
    "animated png": ("page.png", lambda: frames("PNG"), "animated PNG"),
    "animated webp": ("page.webp", lambda: frames("WEBP"), "animated WebP"),
    "animated gif named png": ("page.png", lambda: frames("GIF"), "not a PNG, JPEG or WebP"),
    "1x100000": ("page.png", lambda: encode(Image.new("L", (1, 100_000)), "PNG"), "at least 200 px wide"),
    "100000x1": ("page.png", lambda: encode(Image.new("L", (100_000, 1)), "PNG"), "at most 8,192 px wide"),
    "html named png": ("page.png", lambda: b"<!doctype html><html><body>hi</body></html>", "not a PNG, JPEG"),
    "truncated": ("page.png", lambda: encode(page_image(), "PNG", compress_level=0)[:5_000], "truncated"),
    "bomb": ("page.png", bomb, "the limit is 120 MP"),
}


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="x_src").set_value("upload").run()
    return at.file_uploader(key="x_upload").upload(name, data, "image/png").run()


@pytest.mark.parametrize("case", list(HOSTILE_UPLOADS))
def test_hostile_uploads_are_refused_and_nothing_is_stored(app_env: AppEnv, case: str) -> None:
    name, make, shown = HOSTILE_UPLOADS[case]
    at = run()
    before = qp(at).get("shot")
    at = upload(at, name, make())
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("This file cannot be used as a screenshot: "), errors
    assert shown in errors[0], errors[0]
    assert not (app_env.output / "screenshots").exists()
    assert not at.session_state.get("_uploads")
    assert qp(at).get("shot") == before, "the link keeps the picture shown before, never the refused file"
    assert viewers(at), "the map stays, on the picture shown before"


def test_refusals_are_in_japanese_too(app_env: AppEnv) -> None:
    at = upload(run({"lang": "ja"}), "page.png", encode(Image.new("L", (1, 100_000)), "PNG"))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "200 px" in errors[0]
    assert "wide" not in errors[0] and "幅" in errors[0], errors[0]
    assert not (app_env.output / "screenshots").exists()


def test_a_jpeg_named_png_is_fine_it_is_checked_by_content(app_env: AppEnv) -> None:
    data = encode(page_image(), "JPEG", quality=90)
    at = upload(run(), "page.png", data)
    assert_clean(at)
    stored = list((app_env.output / "screenshots").iterdir())
    assert [p.suffix for p in stored] == [".jpg"] and stored[0].read_bytes() == data
