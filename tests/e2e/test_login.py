"""Login gate end to end: real `streamlit run` + real Chromium + the offline fake OIDC provider (tests/fake_idp).

For the tiny app in tests/e2e/apps/login_app/ (always) and the real app at /streamlit_app.py (once it exists):
1. on a freshly started server, the very first requests are deep links to every page URL → each shows only the
   login gate (no page content in the DOM, nothing else in main or sidebar);
2. logging in through the IdP with an allowed email shows the content, on deep links too; logging out returns to
   the gate and a deep link after logout is gated again;
3. a disallowed email (evil-example.com) is refused on every URL, and its logout returns to the gate.
Screenshots go to artifacts/login/ (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from streamlit.source_util import page_icon_and_name

from tests.fake_idp.idp import FakeIdP
from tests.fake_idp.streamlit_server import StreamlitServer, streamlit_with_auth
from tests.fixtures.browser import wait_for_app_run

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "login"
TINY_APP = ROOT / "tests" / "e2e" / "apps" / "login_app" / "streamlit_app.py"
REAL_APP = ROOT / "streamlit_app.py"
APPS = [
    pytest.param(TINY_APP, id="tiny_app"),
    pytest.param(REAL_APP, id="real_app", marks=pytest.mark.skipif(not REAL_APP.is_file(), reason="no app yet")),
]
ALLOWED_DOMAINS = ["example.com"]
ALLOWED_EMAIL = "Alice@Example.com"  # mixed case on purpose
REFUSED_EMAIL = "mallory@evil-example.com"
# Text that only the tiny app's pages render; the real app is checked structurally (nothing outside the gate).
CONTENT_MARKERS = {"": "HOME-CONTENT-7f3a", "secret": "SECRET-CONTENT-91c2", "Other_page": "OTHER-CONTENT-c5d0"}

# Elements rendered in main/sidebar that are not part of the gate screens (page content leaking past the gate).
_OUTSIDE_GATE_JS = """() => {
  const gates = [...document.querySelectorAll('.st-key-heatmap_auth_gate, .st-key-heatmap_auth_refused')];
  const sel = '[data-testid=stMain] [data-testid=stElementContainer],'
            + ' [data-testid=stSidebarUserContent] [data-testid=stElementContainer]';
  return [...document.querySelectorAll(sel)]
    .filter(e => !gates.some(g => g.contains(e) || e.contains(g)))
    .map(e => (e.innerText || e.getAttribute('data-testid') || '?').slice(0, 80));
}"""


def page_url_paths(entrypoint: Path) -> list[str]:
    """URL paths of a legacy `pages/` app, derived exactly as Streamlit's `_mpa_v1` does ("" = the entrypoint)."""
    pages = [
        p for p in (entrypoint.parent / "pages").glob("*.py") if not p.name.startswith(".") and p.name != "__init__.py"
    ]
    return ["", *sorted(page_icon_and_name(p)[1] for p in pages)]


def test_page_url_paths_follow_streamlit_naming() -> None:
    assert page_url_paths(TINY_APP) == ["", "Other_page", "secret"]


# ---- helpers ----------------------------------------------------------------------------------------------------
def shot(page: Page, app: Path, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    label = "tiny" if app == TINY_APP else "real"
    page.screenshot(path=str(ARTIFACTS / f"{label}-{re.sub(r'[^A-Za-z0-9_-]+', '_', name)}.png"))


def assert_gated(page: Page, url_path: str) -> None:
    gate = page.locator(".st-key-heatmap_auth_gate")
    expect(gate.get_by_role("button", name=re.compile("^Log in"))).to_be_visible()
    expect(gate).to_contain_text("ログイン")
    assert page.evaluate(_OUTSIDE_GATE_JS) == [], f"/{url_path}: content rendered outside the login gate"
    html = page.content()
    assert not any(m in html for m in CONTENT_MARKERS.values()), f"/{url_path}: page content reached the browser"
    expect(page.locator(".st-key-heatmap_auth_sidebar")).to_have_count(0)


def assert_refused(page: Page, url_path: str, email: str) -> None:
    refused = page.locator(".st-key-heatmap_auth_refused")
    expect(refused.get_by_test_id("stAlertContentError")).to_contain_text(f"Your account {email} is not allowed")
    assert page.evaluate(_OUTSIDE_GATE_JS) == [], f"/{url_path}: content rendered next to the refusal"
    assert not any(m in page.content() for m in CONTENT_MARKERS.values())


def assert_content(page: Page, app: Path, url_path: str, email: str) -> None:
    expect(page.locator(".st-key-heatmap_auth_sidebar")).to_contain_text(email)
    expect(page.locator(".st-key-heatmap_auth_gate")).to_have_count(0)
    expect(page.locator(".st-key-heatmap_auth_refused")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    if app == TINY_APP:
        expect(page.get_by_text(CONTENT_MARKERS[url_path])).to_be_visible()


def log_in(page: Page) -> None:
    page.locator(".st-key-heatmap_auth_gate").get_by_role("button", name=re.compile("^Log in")).click()
    # /auth/login → IdP /authorize → /oauth2callback → / ; the next stable state is the logged-in app
    expect(page.locator(".st-key-heatmap_auth_gate")).to_have_count(0, timeout=30_000)
    wait_for_app_run(page)


# ---- fixtures ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def idp() -> Iterator[FakeIdP]:
    with FakeIdP() as provider:
        yield provider


@pytest.fixture(scope="module")
def chromium(chromium_browser: Browser) -> Browser:
    """Module-scoped, through its own Playwright (tests/fixtures/browser.py), so other modules' sync API works."""
    return chromium_browser


@pytest.fixture(scope="module", params=APPS)
def server(request: pytest.FixtureRequest, idp: FakeIdP, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with streamlit_with_auth(request.param, idp, tmp_path_factory.mktemp("st"), ALLOWED_DOMAINS) as srv:
        yield request.param, srv
    assert "Traceback" not in srv.log_text(), srv.log_text()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})  # fresh cookies per test
    yield context.new_page()
    context.close()


# ---- tests ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("app", APPS)
def test_deep_links_on_fresh_server_hit_the_gate(app: Path, idp: FakeIdP, page: Page, tmp_path: Path) -> None:
    with streamlit_with_auth(app, idp, tmp_path, ALLOWED_DOMAINS) as srv:  # nothing has requested "/" yet
        paths = page_url_paths(app)
        for url_path in [*paths[1:], ""]:  # every page first, the entrypoint last
            page.goto(f"{srv.base_url}/{url_path}")
            wait_for_app_run(page)
            shot(page, app, f"gate-{url_path or 'home'}")
            assert_gated(page, url_path)
        assert "Traceback" not in srv.log_text(), srv.log_text()


def test_allowed_email_logs_in_and_out(server: tuple[Path, StreamlitServer], idp: FakeIdP, page: Page) -> None:
    app, srv = server
    idp.set_user(ALLOWED_EMAIL)
    idp.events.clear()
    paths = page_url_paths(app)
    start = paths[-1]  # log in from a deep-linked page; Streamlit returns to "/" afterwards
    page.goto(f"{srv.base_url}/{start}")
    wait_for_app_run(page)
    assert_gated(page, start)
    log_in(page)
    assert_content(page, app, "", ALLOWED_EMAIL)
    shot(page, app, "allowed-home")
    authorize = next(e for e in idp.events if e["event"] == "authorize")
    assert authorize["code_challenge_method"] == "S256" and authorize["nonce"]  # PKCE + nonce really used
    for url_path in paths[1:]:  # the identity cookie opens every page
        page.goto(f"{srv.base_url}/{url_path}")
        wait_for_app_run(page)
        assert_content(page, app, url_path, ALLOWED_EMAIL)
        shot(page, app, f"allowed-{url_path}")
    page.locator(".st-key-heatmap_auth_sidebar").get_by_role("button", name=re.compile("^Log out")).click()
    expect(page.locator(".st-key-heatmap_auth_gate")).to_be_visible(timeout=30_000)
    wait_for_app_run(page)
    assert_gated(page, "")
    shot(page, app, "after-logout")
    assert any(e["event"] == "logout" for e in idp.events)  # went through end_session_endpoint
    page.goto(f"{srv.base_url}/{paths[-1]}")  # the cookie is gone: deep links are gated again
    wait_for_app_run(page)
    assert_gated(page, paths[-1])


def test_disallowed_email_is_refused(server: tuple[Path, StreamlitServer], idp: FakeIdP, page: Page) -> None:
    app, srv = server
    idp.set_user(REFUSED_EMAIL)
    page.goto(srv.base_url)
    wait_for_app_run(page)
    log_in(page)
    assert_refused(page, "", REFUSED_EMAIL)
    shot(page, app, "refused-home")
    for url_path in page_url_paths(app)[1:]:
        page.goto(f"{srv.base_url}/{url_path}")
        wait_for_app_run(page)
        assert_refused(page, url_path, REFUSED_EMAIL)
    page.locator(".st-key-heatmap_auth_refused").get_by_role("button", name=re.compile("^Log out")).click()
    expect(page.locator(".st-key-heatmap_auth_gate")).to_be_visible(timeout=30_000)
    wait_for_app_run(page)
    assert_gated(page, "")
    idp.set_user("alice@example.com")
