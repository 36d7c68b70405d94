"""heatmap.ui.auth: allowlist rules (unit) and the login gate's four states (AppTest)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from streamlit.errors import StreamlitSecretNotFoundError
from streamlit.testing.v1 import AppTest

from heatmap.ui import auth
from heatmap.ui.i18n import markdown_literal

ROOT = Path(__file__).resolve().parents[1]
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 48,
    "client_id": "cid",
    "client_secret": "csecret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ALLOW = {"heatmap": {"allowed_email_domains": ["example.com"]}}


# ---- unit: allowlist --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("email", "domains", "ok"),
    [
        ("alice@example.com", ["example.com"], True),
        ("Alice@EXAMPLE.COM", ["example.com"], True),
        (" alice@example.com ", ["Example.com"], True),
        ("alice@example.com", ["@example.com"], True),
        ("mallory@evil-example.com", ["example.com"], False),
        ("mallory@example.com.evil.net", ["example.com"], False),
        ("mallory@notexample.com", ["example.com"], False),
        ("bob@sub.example.com", ["example.com"], False),  # exact match only …
        ("bob@sub.example.com", ["*.example.com"], True),  # … unless a wildcard entry allows subdomains
        ("bob@a.b.example.com", ["*.example.com"], True),
        ("alice@example.com", ["*.example.com"], False),  # the wildcard does not include the apex
        ("mallory@evil-example.com", ["*.example.com"], False),
        ("mallory@example.com@evil.net", ["example.com"], False),
        ("example.com", ["example.com"], False),
        ("@example.com", ["example.com"], False),
        ("", ["example.com"], False),
        (None, ["example.com"], False),
        ("x@other.org", ["example.com", "other.org"], True),
        ("anyone@anywhere.net", [], True),
        ("anyone@anywhere.net", ["", "  "], True),
        (None, [], True),
    ],
)
def test_email_allowed(email: str | None, domains: list[str], ok: bool) -> None:
    assert auth.email_allowed(email, domains) is ok


def test_unverified_email_is_refused_even_without_allowlist() -> None:
    assert not auth.user_allowed({"email": "a@example.com", "email_verified": False}, [])
    assert not auth.user_allowed({"email": "a@example.com", "email_verified": "false"}, ["example.com"])
    assert auth.user_allowed({"email": "a@example.com", "email_verified": True}, ["example.com"])
    assert auth.user_allowed({"email": "a@example.com"}, ["example.com"])


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        ({}, []),
        ({"heatmap": {}}, []),
        ({"heatmap": {"allowed_email_domains": []}}, []),
        ({"heatmap": {"allowed_email_domains": ["Example.COM", " @other.org "]}}, ["example.com", "other.org"]),
        ({"heatmap": {"allowed_email_domains": "example.com, other.org"}}, ["example.com", "other.org"]),
    ],
)
def test_allowed_domains(secrets: dict[str, Any], expected: list[str]) -> None:
    assert auth.allowed_domains(secrets) == expected


class _RaisingSecrets(Mapping[str, Any]):
    """Behaves like st.secrets when the secrets source is missing or broken."""

    def __init__(self, error_id: str) -> None:
        self.error_id = error_id

    def _raise(self) -> Any:
        raise StreamlitSecretNotFoundError("secrets problem", error_id=self.error_id)

    def __getitem__(self, key: str) -> Any:
        return self._raise()

    def __contains__(self, key: object) -> bool:
        return bool(self._raise())

    def __iter__(self) -> Iterator[str]:
        return iter(self._raise())

    def __len__(self) -> int:
        return int(self._raise())


def test_auth_configured() -> None:
    assert auth.auth_configured({"auth": AUTH})
    assert auth.auth_configured({"auth": {}})  # a bare [auth] still locks the app (fail closed)
    assert not auth.auth_configured({})
    assert not auth.auth_configured(ALLOW)
    assert not auth.auth_configured(_RaisingSecrets("no-secrets-found"))
    assert auth.allowed_domains(_RaisingSecrets("no-secrets-found")) == []
    with pytest.raises(auth.AuthConfigError):  # a secrets file that exists but does not parse
        auth.auth_configured(_RaisingSecrets("failed-parsing-secrets-file"))


def test_providers() -> None:
    assert auth.providers({"auth": AUTH}) == [None]
    named = {"redirect_uri": "r", "cookie_secret": "c", "google": dict(AUTH), "microsoft": dict(AUTH)}
    assert auth.providers({"auth": named}) == ["google", "microsoft"]
    assert auth.providers({"auth": {}}) == [None]


# ---- AppTest: the gate in a running script ----------------------------------------------------------------------
def _page() -> None:
    import streamlit as st

    from heatmap.ui.auth import require_login

    require_login(st.secrets)
    st.header("Explore")
    st.write("PAGE-CONTENT")


def _run(secrets: dict[str, Any], user: dict[str, Any]) -> AppTest:
    at = AppTest.from_function(_page, default_timeout=30)
    for key, value in secrets.items():
        at.secrets[key] = value
    at.user = user
    at.run()
    assert not at.exception, at.exception
    return at


def _texts(at: AppTest) -> str:
    return " ".join(str(m.value) for m in [*at.markdown, *at.header, *at.title, *at.error, *at.caption])


def test_no_auth_section_shows_content() -> None:
    at = _run(ALLOW, {"email": "test@example.com"})  # non-empty secrets so a local secrets.toml is not read
    assert "PAGE-CONTENT" in _texts(at)
    assert not at.button and not at.sidebar.button


def test_auth_not_logged_in_shows_only_login() -> None:
    at = _run({"auth": AUTH, **ALLOW}, {"is_logged_in": False})
    assert "PAGE-CONTENT" not in _texts(at)
    assert not at.header
    assert [b.label for b in at.button] == ["Log in / ログイン"]
    assert "ログイン" in _texts(at)
    assert not at.sidebar.button


def test_auth_missing_login_flag_counts_as_logged_out() -> None:
    at = _run({"auth": AUTH}, {"email": "test@example.com"})
    assert "PAGE-CONTENT" not in _texts(at)
    assert [b.label for b in at.button] == ["Log in / ログイン"]


def test_auth_named_providers_get_one_button_each() -> None:
    named = {"redirect_uri": AUTH["redirect_uri"], "cookie_secret": "c" * 40, "google": AUTH, "okta": AUTH}
    at = _run({"auth": named}, {"is_logged_in": False})
    assert [b.label for b in at.button] == [
        "Log in with google / google でログイン",
        "Log in with okta / okta でログイン",
    ]


@pytest.mark.parametrize("email", ["alice@example.com", "ALICE@Example.Com"])
def test_logged_in_allowed_domain_shows_content(email: str) -> None:
    at = _run({"auth": AUTH, **ALLOW}, {"is_logged_in": True, "email": email, "name": "Alice"})
    assert "PAGE-CONTENT" in _texts(at)
    assert not at.error
    assert [b.label for b in at.sidebar.button] == ["Log out / ログアウト"]
    assert markdown_literal(email) in " ".join(c.value for c in at.sidebar.caption)


def test_logged_in_without_allowlist_shows_content() -> None:
    at = _run({"auth": AUTH}, {"is_logged_in": True, "email": "someone@anywhere.net"})
    assert "PAGE-CONTENT" in _texts(at)


@pytest.mark.parametrize("email", ["mallory@evil-example.com", "bob@sub.example.com", "", "no-at-sign"])
def test_logged_in_wrong_domain_is_refused(email: str) -> None:
    at = _run({"auth": AUTH, **ALLOW}, {"is_logged_in": True, "email": email})
    assert "PAGE-CONTENT" not in _texts(at)
    assert not at.header
    assert len(at.error) == 1 and "is not allowed" in at.error[0].value
    assert markdown_literal(email or "(no email)") in at.error[0].value
    assert [b.label for b in at.button] == ["Log out / ログアウト"]
    assert not at.sidebar.button


def test_identity_claims_are_shown_as_literal_text() -> None:
    evil = "[click](javascript:alert(1))<b>x</b>@example.org"
    escaped = markdown_literal(evil)
    assert "[" not in escaped.replace("\\[", "") and "<" not in escaped.replace("\\<", "")
    at = _run({"auth": AUTH, **ALLOW}, {"is_logged_in": True, "email": evil})
    assert escaped in at.error[0].value


def test_unverified_email_is_refused_in_app() -> None:
    at = _run({"auth": AUTH, **ALLOW}, {"is_logged_in": True, "email": "a@example.com", "email_verified": False})
    assert "PAGE-CONTENT" not in _texts(at) and at.error


# ---- AppTest smoke over every page file: the tiny e2e app always, the real app once it exists ----------------
def _app_pages(entry: Path) -> list[Path]:
    return [entry, *sorted((entry.parent / "pages").glob("*.py"))] if entry.is_file() else []


PAGES = _app_pages(ROOT / "tests/e2e/apps/login_app/streamlit_app.py") + _app_pages(ROOT / "streamlit_app.py")


@pytest.mark.parametrize("script", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_page_is_gated(script: Path) -> None:
    at = AppTest.from_file(str(script), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["heatmap"] = ALLOW["heatmap"]
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == ["Log in / ログイン"], f"{script.name} is not gated"
    # only the gate's container may render: anything else is page content leaking past the gate
    assert len(at.main.children) == 1 and not at.sidebar.children, f"{script.name} renders more than the gate"
    assert "CONTENT" not in _texts(at)
