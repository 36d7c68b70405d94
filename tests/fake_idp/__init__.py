"""Offline OpenID Connect provider for `st.login` tests. Fixtures: `tests.fake_idp.fixtures`."""

from tests.fake_idp.idp import FakeIdP

__all__ = ["FakeIdP"]
