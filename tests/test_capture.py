"""Capturing a page (heatmap/capture): the allowlist and address checks, then real Chromium through the guard
proxy against a local site (tests/fixtures/site.py) allowed only by explicit settings."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from heatmap.capture.allow import Refused, parse_allowlist
from heatmap.capture.page import CaptureError, Limits, Request, _slot, capture
from heatmap.config import Settings
from heatmap.errors import ConfigError
from tests.fixtures import site as site_fixture
from tests.fixtures.browser import CHROMIUM


def public(_host: str, _port: int) -> list[str]:
    return ["93.184.215.14"]


@pytest.mark.parametrize(
    ("entries", "url", "allowed"),
    [
        ("www.example.com", "https://www.example.com/jobs/1", True),
        ("www.example.com", "http://www.example.com/jobs/1", False),  # https only unless allowed
        ("http://www.example.com", "http://www.example.com/", True),
        ("www.example.com", "https://www.example.com:8443/", False),  # the default port only
        ("www.example.com:8443", "https://www.example.com:8443/", True),
        ("WWW.Example.com.", "https://www.example.COM/", True),
        ("www.example.com", "https://example.com/", False),  # not a suffix match
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765/", True),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8766/", False),  # exactly that port
        ("http://127.0.0.1:8765", "http://localhost:8765/", False),  # exactly that address
        ("www.example.com", "file:///etc/passwd", False),
        ("www.example.com", "data:text/html,hi", False),
        ("www.example.com", "javascript:alert(1)", False),
        ("www.example.com", "https://user@www.example.com.evil.test/", False),
    ],
)
def test_the_allowlist(entries: str, url: str, allowed: bool) -> None:
    allow = parse_allowlist(entries)
    if allowed:
        entry, port = allow.check_url(url)
        assert allow.addresses(entry, port, public)
    else:
        with pytest.raises(Refused):
            allow.check_url(url)


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.1.2.3", "192.168.1.1", "169.254.169.254", "::1", "fd00:ec2::254", "100.64.0.1"]
)
def test_a_name_resolving_inside_the_network_is_refused(address: str) -> None:
    """A DNS answer cannot point an allowed name at the server itself, the private network or the metadata service."""
    allow = parse_allowlist("www.example.com")
    entry, port = allow.check_url("https://www.example.com/")
    with pytest.raises(Refused, match=f"resolves to {address}"):
        allow.addresses(entry, port, lambda _h, _p: ["93.184.215.14", address])


def test_the_metadata_address_is_refused_even_as_a_literal() -> None:
    allow = parse_allowlist("http://169.254.169.254")
    entry, port = allow.check_url("http://169.254.169.254/latest/meta-data/")
    with pytest.raises(Refused, match="metadata"):
        allow.addresses(entry, port)


@pytest.mark.parametrize("bad", ["https://a.example/path", "a.example:99999", "user@a.example", "a.example?x=1"])
def test_a_bad_allowlist_entry_says_which(bad: str) -> None:
    with pytest.raises(ConfigError, match="capture host"):
        parse_allowlist(f"ok.example, {bad}")


# --- in Chromium ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[site_fixture.Site]:
    if not CHROMIUM or not __import__("os").path.exists(CHROMIUM):
        pytest.skip("no chromium")
    with site_fixture.serve() as running:
        yield running


def picture(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_a_capture_has_the_width_the_lazy_image_one_header_and_no_banner(site: site_fixture.Site) -> None:
    allow = parse_allowlist(site.allow)
    lazy = capture(Request(f"{site.base}/lazy", 800, 2), allow)
    image = picture(lazy.png)
    assert image.size == (1600, lazy.css_height * 2) and lazy.css_height == lazy.page_height >= 3000
    assert image.getpixel((2 * 150, 2 * 2600)) == site_fixture.LAZY  # loaded only when scrolled into view
    assert lazy.browser.startswith("Chromium ") and not lazy.cut and lazy.url == f"{site.base}/lazy"

    sticky = capture(Request(f"{site.base}/sticky", 1000, 1, hide=("#cookie-banner",)), allow)
    image = picture(sticky.png)
    assert image.width == 1000 and sticky.page_height >= 5060
    assert image.getpixel((500, 30)) == site_fixture.HEADER  # the header, at the top
    assert all(image.getpixel((500, y)) != site_fixture.HEADER for y in range(100, image.height, 250))  # once
    assert all(image.getpixel((500, y)) != (250, 200, 0) for y in range(0, image.height, 50))  # no banner
    # the fixed button pinned where it sits on the first screen (900 px viewport: 840-880 px), not at the bottom
    assert image.getpixel((1000 - 20 - 95, 845)) == (0, 160, 0)  # its left edge, clear of its text
    assert image.getpixel((1000 - 20 - 95, image.height - 35)) != (0, 160, 0)
    assert sticky.pinned == 2


def test_a_page_behind_a_login_is_captured_with_the_headers_from_secrets(site: site_fixture.Site) -> None:
    """`[capture_headers]` reach the allowed host; without them the page answers 403 and nothing is captured."""
    from heatmap.capture import CaptureSettings

    secrets = {"heatmap": {"capture_hosts": site.allow}, "capture_headers": {"Cookie": "session=s3cret"}}
    settings = Settings.load(secrets=secrets, env={})
    assert settings.capture.headers == {"Cookie": "session=s3cret"}
    shot = capture(Request(f"{site.base}/private", 800, 1, headers=settings.capture.headers), settings.capture.hosts)
    assert picture(shot.png).getpixel((10, 10)) == (0, 0, 0) and site.cookies[-1] == "session=s3cret"
    with pytest.raises(CaptureError, match="answered 403"):
        capture(Request(f"{site.base}/private", 800), CaptureSettings(hosts=parse_allowlist(site.allow)).hosts)


def test_the_height_limit_cuts_a_60000_px_page_and_says_so(site: site_fixture.Site) -> None:
    tall = capture(Request(f"{site.base}/tall", 600, 1), parse_allowlist(site.allow), Limits(max_height_css=12_000))
    image = picture(tall.png)
    assert (tall.css_height, tall.page_height, tall.cut) == (12_000, 60_000, True)
    assert image.size == (600, 12_000)
    assert (
        image.getpixel((300, 500)) == site_fixture.STRIPES[0]
        and image.getpixel((300, 11_500)) == site_fixture.STRIPES[1]
    )
    pixels = Limits(max_height_css=60_000, max_pixels=600 * 4 * 5_000)  # dpr 2: 4 pixels a CSS px
    assert capture(Request(f"{site.base}/tall", 600, 2), parse_allowlist(site.allow), pixels).css_height == 5_000


def test_a_redirect_off_the_allowlist_is_refused_and_nothing_reaches_it(site: site_fixture.Site) -> None:
    with pytest.raises(Refused, match=f"127.0.0.1:{site.forbidden_port} is not on the capture allowlist"):
        capture(Request(f"{site.base}/redirect-away", 800), parse_allowlist(site.allow))
    assert site.forbidden_hits == []
    home = capture(Request(f"{site.base}/redirect-home", 800), parse_allowlist(site.allow))
    assert home.url == f"{site.base}/sticky"  # a redirect on the allowed host is followed


def test_requests_to_the_metadata_service_and_other_ports_are_refused(site: site_fixture.Site) -> None:
    shot = capture(Request(f"{site.base}/elsewhere", 800), parse_allowlist(site.allow))
    assert site.forbidden_hits == []  # the image, the fetch and the websocket never connected
    said = " ".join(shot.refused)
    assert "169.254.169.254:80 is not on the capture allowlist" in said
    assert f"127.0.0.1:{site.forbidden_port} is not on the capture allowlist" in said


def test_a_page_off_the_list_or_not_http_is_refused_before_a_browser_starts(site: site_fixture.Site) -> None:
    allow = parse_allowlist(site.allow)
    for url in (f"http://127.0.0.1:{site.forbidden_port}/", "file:///etc/passwd", "http://169.254.169.254/"):
        with pytest.raises(Refused):
            capture(Request(url, 800), allow)
    assert site.forbidden_hits == []


def test_more_captures_than_the_limit_wait_then_are_refused(site: site_fixture.Site) -> None:
    slot = _slot(1)
    assert slot.acquire(timeout=5)
    try:
        with pytest.raises(CaptureError, match="already running"):
            capture(Request(f"{site.base}/lazy", 800), parse_allowlist(site.allow), Limits(timeout_s=1))
    finally:
        slot.release()


def test_two_captures_at_once_take_turns(site: site_fixture.Site) -> None:
    """With the default of one capture at a time, a second waits for the first and both succeed."""
    allow, done, errors = parse_allowlist(site.allow), [], []

    def one() -> None:
        try:
            done.append(capture(Request(f"{site.base}/lazy", 800), allow))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and len(done) == 2


def test_a_page_that_downloads_too_much_is_stopped(site: site_fixture.Site) -> None:
    with pytest.raises(CaptureError, match="more than the capture's limit"):
        capture(
            Request(f"{site.base}/tall", 800), parse_allowlist(site.allow), Limits(max_mb=0.002)
        )  # its HTML is about 6 kB


# --- the CLI, the demo's own site and a saved run -------------------------------------------------------------


def test_the_cli_captures_a_templates_busiest_path_and_a_run_records_the_capture(
    site: site_fixture.Site, tmp_path, monkeypatch, capsys
) -> None:
    """On the demo: its pages served on loopback (heatmap.demo_site), the template *job listing* captured by its
    busiest path (/jobs/1), stored create-only with its record; a run rendered on it says which capture it used."""
    import json

    from heatmap.cli import main
    from heatmap.demo_site import demo_site

    base = demo_site()  # the demo's capture settings, with nothing configured
    monkeypatch.setenv("HEATMAP_HOME", str(tmp_path / "home"))
    for name in ("HEATMAP_CAPTURE_HOSTS", "HEATMAP_SITE_URL", "HEATMAP_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"
    assert main(["capture", "--page", "job listing", "--width", "1440", "--output", str(out), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert (said["template"], said["path"], said["url"]) == ("job listing", "/jobs/1", f"{base}/jobs/1")
    assert (said["css_width"], said["dpr"], said["page_height"]) == (1440, 1, 2800)  # the demo's job page
    assert (out / said["key"]).is_file() and json.loads((out / "captures" / f"{said['sha256']}.json").read_text())[
        "url"
    ]
    shot = out / said["key"]
    args = ["render", "--page", "job listing", "--screenshot", str(shot), "--output", str(out), "--json"]
    assert main(args) == 0
    run = json.loads(capsys.readouterr().out)
    record = json.loads(next(out.glob("runs/*/*/*/*/run.json")).read_text())
    assert record["screenshot"]["capture"]["url"] == f"{base}/jobs/1", (run, record["screenshot"])
    assert main(["capture", "--url", f"{site.base}/lazy", "--width", "800", "--output", str(out)]) == 1
    assert f"127.0.0.1:{site.port} is not on the capture allowlist" in capsys.readouterr().err
