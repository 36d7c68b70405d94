"""The fake OIDC provider speaks enough OIDC for Authlib: discovery, PKCE, signed ID token with nonce, logout."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.fake_idp.idp import FakeIdP

pytest_plugins = ["tests.fake_idp.fixtures"]

REDIRECT = "http://127.0.0.1:1/oauth2callback"
VERIFIER = "v" * 50
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()


def _code(client: httpx.Client, idp: FakeIdP, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": idp.client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": "st4te",
        "nonce": "n0nce",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **extra,
    }
    r = client.get("/authorize", params=params)
    assert r.status_code == 302 and r.headers["location"].startswith(REDIRECT)
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["state"] == ["st4te"]
    return query["code"][0]


def _token(client: httpx.Client, idp: FakeIdP, code: str, verifier: str = VERIFIER, secret: str = "") -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    return client.post("/token", data=data, auth=(idp.client_id, secret or idp.client_secret))


def test_discovery_token_and_logout(fake_idp: FakeIdP) -> None:
    with httpx.Client(base_url=fake_idp.issuer) as client:
        meta = client.get("/.well-known/openid-configuration").json()
        assert meta["issuer"] == fake_idp.issuer and "S256" in meta["code_challenge_methods_supported"]
        assert meta["end_session_endpoint"] == f"{fake_idp.issuer}/logout"

        fake_idp.set_user("bob@example.com")
        r = _token(client, fake_idp, _code(client, fake_idp))
        assert r.status_code == 200, r.text
        keys = KeySet.import_key_set(client.get("/jwks").json())
        claims = jwt.decode(r.json()["id_token"], keys, algorithms=["RS256"]).claims
        assert claims["iss"] == fake_idp.issuer and claims["aud"] == fake_idp.client_id
        assert claims["email"] == "bob@example.com" and claims["nonce"] == "n0nce" and claims["email_verified"]
        info = client.get("/userinfo", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
        assert info["email"] == "bob@example.com"

        hinted = _token(client, fake_idp, _code(client, fake_idp, login_hint="carol@example.org"))
        assert jwt.decode(hinted.json()["id_token"], keys).claims["email"] == "carol@example.org"

        r = client.get("/logout", params={"post_logout_redirect_uri": REDIRECT, "client_id": fake_idp.client_id})
        assert r.status_code == 302 and r.headers["location"].startswith(REDIRECT)
        assert [e["event"] for e in fake_idp.events] == ["authorize", "token", "authorize", "token", "logout"]


def test_rejects_bad_pkce_secret_and_code_reuse(fake_idp: FakeIdP) -> None:
    with httpx.Client(base_url=fake_idp.issuer) as client:
        assert _token(client, fake_idp, _code(client, fake_idp), verifier="wrong").status_code == 400
        assert _token(client, fake_idp, _code(client, fake_idp), secret="wrong").status_code == 401
        code = _code(client, fake_idp)
        assert _token(client, fake_idp, code).status_code == 200
        assert _token(client, fake_idp, code).status_code == 400  # codes are single use
        assert client.get("/authorize", params={"client_id": "someone-else"}).status_code == 400


def test_user_switch_endpoint(fake_idp: FakeIdP) -> None:
    r = httpx.post(f"{fake_idp.issuer}/_fake/user", json={"email": "dave@example.net", "email_verified": False})
    assert r.json() == {"email": "dave@example.net"} and fake_idp.email_verified is False
