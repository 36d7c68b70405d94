"""pytest plugin: an offline OIDC provider for `st.login` tests.

Enable with `pytest_plugins = ["tests.fake_idp.fixtures"]` in tests/conftest.py.

- `fake_idp_server` (session): a running FakeIdP on a free 127.0.0.1 port.
- `fake_idp` (function): the same provider, reset to alice@example.com with an empty event log.
  `fake_idp.set_user("mallory@evil-example.com")` changes who the next login returns.
- `streamlit_auth_app` (function): factory `start(app_path, allowed_domains=[...]) -> StreamlitServer`, a real
  `streamlit run` whose temporary secrets.toml holds `[auth]` for the fake IdP; stopped at teardown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_idp.idp import FakeIdP
from tests.fake_idp.streamlit_server import StreamlitServer, streamlit_with_auth


@pytest.fixture(scope="session")
def fake_idp_server() -> Iterator[FakeIdP]:
    with FakeIdP() as idp:
        yield idp


@pytest.fixture
def fake_idp(fake_idp_server: FakeIdP) -> FakeIdP:
    fake_idp_server.set_user("alice@example.com", "Alice Example")
    fake_idp_server.events.clear()
    return fake_idp_server


@pytest.fixture
def streamlit_auth_app(fake_idp: FakeIdP, tmp_path: Path) -> Iterator[Callable[..., StreamlitServer]]:
    with contextlib.ExitStack() as stack:

        def start(app: Path, allowed_domains: list[str] | None = None, **kwargs: Any) -> StreamlitServer:
            return stack.enter_context(
                streamlit_with_auth(Path(app), fake_idp, tmp_path, allowed_domains=allowed_domains, **kwargs)
            )

        yield start
