"""Optional login gate (docs/security.md): OIDC through `st.login` plus an email-domain allowlist.

Configuration (secrets.toml, never committed):

    [auth]                                   # present → every page requires login; absent → open app
    redirect_uri = "https://<app>/oauth2callback"
    cookie_secret = "<long random string>"
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

    [heatmap]
    allowed_email_domains = ["example.com", "*.example.org"]   # missing/empty → any logged-in account

Domain rules: comparison is case-insensitive and exact, so `evil-example.com` and `example.com.evil.net` never pass
for `example.com`, and neither does `sub.example.com`. A `*.example.org` entry allows every subdomain of
example.org (not example.org itself; list both if both are wanted). An ID token whose `email_verified` claim is
false is always refused.

Every page calls `require_login(st.secrets)` (through `heatmap.ui.page.setup`) before rendering anything, so a deep
link to any `pages/` URL meets the gate too. A secrets file that exists but cannot be parsed locks the app rather
than silently opening it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import streamlit as st

from heatmap.ui.i18n import LANGUAGES, Translator, markdown_literal

ALLOWLIST_SECTION = "heatmap"
ALLOWLIST_KEY = "allowed_email_domains"
_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
_NO_SECRETS_ID = "no-secrets-found"  # error_id of StreamlitSecretNotFoundError when no secrets file exists at all


class AuthConfigError(RuntimeError):
    """The secrets source exists but could not be read, so whether login is required is unknown."""


def _auth_section(secrets: Mapping[str, Any]) -> Mapping[str, Any] | None:
    try:
        if "auth" not in secrets:
            return None
        section = secrets["auth"]
    except FileNotFoundError as exc:  # StreamlitSecretNotFoundError subclasses FileNotFoundError
        error_id = getattr(exc, "error_id", None)
        if error_id in (None, _NO_SECRETS_ID):
            return None
        raise AuthConfigError(str(exc)) from exc
    return section if isinstance(section, Mapping) else {}


def auth_configured(secrets: Mapping[str, Any]) -> bool:
    """True when secrets hold an `[auth]` section; False when there is no secrets file or no such section.

    Raises AuthConfigError when a secrets file exists but is unreadable (e.g. a TOML syntax error).
    """
    return _auth_section(secrets) is not None


def providers(secrets: Mapping[str, Any]) -> list[str | None]:
    """Login providers: None for a flat `[auth]` (st.login()), plus one name per `[auth.<name>]` subsection."""
    section = _auth_section(secrets) or {}
    found: list[str | None] = [None] if any(k in section for k in _PROVIDER_KEYS) else []
    found += [
        str(name)
        for name, value in section.items()
        if isinstance(value, Mapping) and any(k in value for k in _PROVIDER_KEYS)
    ]
    return found or [None]


def _normalise_domain(entry: str) -> str:
    return entry.strip().lower().lstrip("@").rstrip(".")


def allowed_domains(secrets: Mapping[str, Any]) -> list[str]:
    """The `[heatmap] allowed_email_domains` list (a TOML list or a comma/space separated string), normalised."""
    try:
        section = secrets.get(ALLOWLIST_SECTION) or {}
    except FileNotFoundError:
        return []
    raw = section.get(ALLOWLIST_KEY) if isinstance(section, Mapping) else None
    if raw is None:
        return []
    items: Iterable[Any] = raw.replace(",", " ").split() if isinstance(raw, str) else raw
    return [d for d in (_normalise_domain(str(item)) for item in items) if d]


def email_domain(email: str) -> str | None:
    """Lower-cased domain of an address, or None when it is not a plausible single address."""
    email = email.strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(c.isspace() or c in '@,;<>()[]\\"' for c in domain):
        return None
    return domain


def email_allowed(email: str | None, domains: Iterable[str]) -> bool:
    """Whether `email` may use the app. An empty allowlist admits every address, even a missing one."""
    domains = [d for d in (_normalise_domain(x) for x in domains) if d]
    if not domains:
        return True
    domain = email_domain(email or "")
    if domain is None:
        return False
    for entry in domains:
        if entry.startswith("*."):
            parent = entry[2:]
            if parent and domain.endswith("." + parent):
                return True
        elif domain == entry:
            return True
    return False


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def user_allowed(user: Mapping[str, Any], domains: Iterable[str]) -> bool:
    """Allowlist check on an `st.user`-like mapping; an explicitly unverified email is always refused."""
    if _is_false(user.get("email_verified")):
        return False
    email = user.get("email")
    return email_allowed(email if isinstance(email, str) else None, domains)


def both(key: str, separator: str = " / ", **values: object) -> str:
    """A text in English and Japanese at once: before login there is no language choice yet."""
    return separator.join(Translator(lang)(key, **values) for lang in LANGUAGES)


def _login_screen(secrets: Mapping[str, Any]) -> None:
    with st.container(key="heatmap_auth_gate"):
        st.title(both("app.name", " · "))
        st.write(both("auth.prompt", "  \n"))
        for provider in providers(secrets):
            label = both("auth.login") if provider is None else both("auth.login_with", provider=provider)
            st.button(
                label,
                key=f"heatmap_auth_login_{provider or 'default'}",
                type="primary",
                on_click=st.login,
                args=() if provider is None else (provider,),
            )


def _refused_screen(email: str) -> None:
    email = markdown_literal(email)
    with st.container(key="heatmap_auth_refused"):
        st.error(both("auth.refused", "  \n", email=email))
        st.button(both("auth.logout"), key="heatmap_auth_refused_logout", on_click=st.logout)


def require_login(secrets: Mapping[str, Any]) -> None:
    """Gate the current page. Returns only when the app is open or the user is logged in and allowed.

    Otherwise renders the login (or refusal) screen and calls st.stop(), so nothing after this call runs.
    """
    try:
        configured = auth_configured(secrets)
    except AuthConfigError as exc:
        st.error(f"{both('auth.secrets_broken')}: {exc}")
        st.stop()
    if not configured:
        return
    user: dict[str, Any] = dict(st.user.to_dict())  # a missing is_logged_in counts as logged out (fail closed)
    if user.get("is_logged_in") is not True:
        _login_screen(secrets)
        st.stop()
    email = str(user.get("email") or "")
    if not user_allowed(user, allowed_domains(secrets)):
        _refused_screen(email or "(no email)")
        st.stop()
    with st.sidebar.container(key="heatmap_auth_sidebar"):
        if email:
            st.caption(f"{both('auth.logged_in_as')}: {markdown_literal(email)}")
        st.button(both("auth.logout"), key="heatmap_auth_logout", on_click=st.logout)
