"""A local, auto-approving OpenID Connect provider for offline `st.login` tests (Starlette + uvicorn + joserfc).

Endpoints: discovery document, JWKS, /authorize (auth code, PKCE S256/plain), /token (client_secret_basic or
client_secret_post), /userinfo, /logout (end_session_endpoint) and POST /_fake/user to switch the identity when the
provider runs in another process. In-process, set `idp.email` (or `idp.set_user(...)`) directly. `?login_hint=` on
/authorize also chooses the email for that one login.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route


def _redirect(url: str, **params: str) -> RedirectResponse:
    sep = "&" if "?" in url else "?"
    return RedirectResponse(f"{url}{sep}{urlencode(params)}", status_code=302)


@dataclass
class FakeIdP:
    client_id: str = "heatmap-test-client"
    client_secret: str = "heatmap-test-secret"
    email: str = "alice@example.com"
    name: str = "Alice Example"
    email_verified: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)  # what the IdP saw, for assertions
    _codes: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _tokens: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "fake-idp-1", "use": "sig"}), repr=False
    )
    _server: uvicorn.Server | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    # ---- public API -------------------------------------------------------------------------------------------
    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def set_user(self, email: str, name: str | None = None, email_verified: bool = True) -> None:
        self.email, self.email_verified = email, email_verified
        self.name = name or email.split("@")[0].title()

    def auth_secrets(self, redirect_uri: str, cookie_secret: str = "x" * 48) -> dict[str, str]:
        """An `[auth]` section for secrets.toml pointing Streamlit at this provider."""
        return {
            "redirect_uri": redirect_uri,
            "cookie_secret": cookie_secret,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "server_metadata_url": self.metadata_url,
        }

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
                Route("/userinfo", self._userinfo, methods=["GET", "POST"]),
                Route("/logout", self._logout),
                Route("/_fake/user", self._fake_user, methods=["POST"]),
            ]
        )

    def start(self) -> FakeIdP:
        """Serve in a daemon thread on host:port (0 → a free port, bound before the thread starts)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(self.app(), log_level="warning", lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake IdP did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None

    def __enter__(self) -> FakeIdP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- endpoints --------------------------------------------------------------------------------------------
    async def _discovery(self, request: Request) -> Response:
        i = self.issuer
        return JSONResponse(
            {
                "issuer": i,
                "authorization_endpoint": f"{i}/authorize",
                "token_endpoint": f"{i}/token",
                "userinfo_endpoint": f"{i}/userinfo",
                "jwks_uri": f"{i}/jwks",
                "end_session_endpoint": f"{i}/logout",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "claims_supported": ["sub", "email", "email_verified", "name"],
            }
        )

    async def _jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [{**self._key.as_dict(private=False), "alg": "RS256", "use": "sig"}]})

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        self.events.append({"event": "authorize", **q})
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") != self.client_id or not redirect_uri.startswith(("http://", "https://")):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("response_type") != "code" or "openid" not in q.get("scope", "").split():
            return _redirect(redirect_uri, error="unsupported_response_type", state=q.get("state", ""))
        code = secrets.token_urlsafe(24)
        email = q.get("login_hint") or self.email
        self._codes[code] = {
            "redirect_uri": redirect_uri,
            "nonce": q.get("nonce"),
            "challenge": q.get("code_challenge"),
            "method": q.get("code_challenge_method", "plain"),
            "user": {"email": email, "name": self.name, "email_verified": self.email_verified},
        }
        return _redirect(redirect_uri, code=code, state=q.get("state", ""))

    def _client_ok(self, request: Request, form: Any) -> bool:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            cid, _, sec = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            cid, sec = form.get("client_id", ""), form.get("client_secret", "")
        return unquote(cid) == self.client_id and unquote(sec) == self.client_secret

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        self.events.append({"event": "token", **{k: v for k, v in form.items() if k != "client_secret"}})
        if not self._client_ok(request, form):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        grant = self._codes.pop(str(form.get("code", "")), None)  # single use
        if form.get("grant_type") != "authorization_code" or grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant", "error_description": "redirect_uri"}, status_code=400)
        if grant["challenge"]:
            verifier = str(form.get("code_verifier", ""))
            if grant["method"] == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if verifier != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
        user = grant["user"]
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": hashlib.sha256(user["email"].lower().encode()).hexdigest()[:20],
            "iat": now,
            "exp": now + 3600,
            **user,
        }
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        id_token = jwt.encode({"alg": "RS256", "kid": self._key.kid}, claims, self._key)
        access_token = "at-" + secrets.token_urlsafe(16)
        self._tokens[access_token] = {"user": user, "sub": claims["sub"]}
        return JSONResponse(
            {"access_token": access_token, "token_type": "Bearer", "expires_in": 3600, "id_token": id_token}
        )

    async def _userinfo(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        grant = self._tokens.get(token)
        if grant is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": grant["sub"], **grant["user"]})

    async def _logout(self, request: Request) -> Response:
        q = request.query_params
        self.events.append({"event": "logout", **q})
        target = q.get("post_logout_redirect_uri")
        if target:
            return _redirect(target, **({"state": q["state"]} if "state" in q else {}))
        return HTMLResponse("<p>Logged out of the fake IdP.</p>")

    async def _fake_user(self, request: Request) -> Response:
        body = await request.json()
        self.set_user(body["email"], body.get("name"), bool(body.get("email_verified", True)))
        return JSONResponse({"email": self.email})


def main() -> None:  # python -m tests.fake_idp --port 9000 --email bob@example.com
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--email", default="alice@example.com")
    args = parser.parse_args()
    idp = FakeIdP(port=args.port, email=args.email).start()
    print(f"fake IdP at {idp.metadata_url} (client_id={idp.client_id}, client_secret={idp.client_secret})")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        idp.stop()
