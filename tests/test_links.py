"""Short links (heatmap/usecases/links.py): readable content-addressed ids, stored create-only, opened as ?s=, and
anything else under that key refused with a sentence."""

from __future__ import annotations

import pytest

from heatmap.stores.memory import MemoryStore
from heatmap.usecases import links
from tests.fixtures.browser import AppEnv
from tests.test_app_explore import assert_clean, qp, run, texts

VIEW = {"page": ["/pricing"], "from": ["2026-10-05"], "to": ["2026-11-01"], "device": ["mobile"], "type": ["clicks"]}


def test_an_id_is_readable_and_names_exactly_its_parameters() -> None:
    ident = links.link_id(VIEW)
    assert ident.startswith("pricing-mobile-") and links.ID.match(ident) and len(ident) <= links.MAX_ID
    assert links.link_id(dict(reversed(list(VIEW.items())))) == ident, "the order of the keys does not matter"
    assert links.link_id({**VIEW, "type": ["reach"]}) != ident
    assert links.link_id({"page": ["/"]}).startswith("home-")


def test_making_a_link_twice_writes_once_and_reads_back() -> None:
    store = MemoryStore()
    first = links.store_link(store, VIEW)
    assert links.store_link(store, VIEW) == first
    assert [o.key for o in store.list(links.PREFIX)] == [f"links/{first}.json"]
    assert links.read_link(store, first) == VIEW


def test_a_taken_id_with_other_parameters_is_an_error_not_the_wrong_view() -> None:
    store = MemoryStore()
    store.create(f"links/{links.link_id(VIEW)}.json", b'{"page": ["/other"]}')
    with pytest.raises(links.LinkError, match="other parameters"):
        links.store_link(store, VIEW)


@pytest.mark.parametrize(
    ("ident", "body", "message"),
    [
        ("../../runs/x", None, "not a short link"),
        ("a" * 80 + "-abcdefghij", None, "not a short link"),
        ("home-abcdefghij", None, "could not be read"),
        ("home-abcdefghij", b"x" * (links.MAX_BYTES + 10), "larger"),
        ("home-abcdefghij", b"{not json", "not JSON"),
        ("home-abcdefghij", b'{"page": "/"}', "parameters"),
        ("home-abcdefghij", b'[["page", "/"]]', "parameters"),
    ],
)
def test_anything_else_is_refused(ident: str, body: bytes | None, message: str) -> None:
    store = MemoryStore()
    if body is not None:
        store.create(f"links/{ident}.json", body)
    with pytest.raises(links.LinkError, match=message):
        links.read_link(store, ident)


def test_the_app_makes_a_short_link_that_reopens_the_view(app_env: AppEnv) -> None:
    at = run({"page": "/pricing", "device": "mobile", "type": "clicks", "from": "2026-10-15", "to": "2026-11-01"})
    assert_clean(at)
    full = qp(at)
    at.button(key="x_short").click().run()
    assert_clean(at)
    (short,) = [c.value for c in at.code if "?s=" in c.value]
    ident = short.rsplit("=", 1)[1]
    assert ident.startswith("pricing-mobile-") and (app_env.output / "links" / f"{ident}.json").is_file()

    opened = run({"s": ident})
    assert_clean(opened)
    assert not opened.warning, texts(opened.warning)
    assert qp(opened) == full, "the address bar holds the whole view again"
    assert opened.radio(key="x_kind").value == "clicks"


def test_an_unknown_short_link_says_so_and_opens_the_default_view(app_env: AppEnv) -> None:
    at = run({"s": "home-aaaaaaaaaa"})
    assert_clean(at)
    assert any("short link not found" in w for w in texts(at.warning)), texts(at.warning)
    assert at.title[0].value == "/"
