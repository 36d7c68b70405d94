"""'Reload data' starts over: a new listing, a new store and a new engine, so a source that was broken and has
been fixed (a folder restored, credentials changed) is read again instead of the same failing engine."""

from heatmap.config import Settings
from heatmap.ui import data
from tests.exports import dwell, jsonl, write

KEY = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a/p0.jsonl"


def test_reload_data_opens_a_new_engine_for_an_unchanged_listing(tmp_path):
    write(tmp_path / "src", KEY, jsonl([dwell("20260105", "/p", 0, 10, 50)]))
    settings = Settings.load({}, env={"HEATMAP_CACHE_DIR": str(tmp_path / "cache")})
    uri = str(tmp_path / "src")
    first = data.load(uri, settings)
    assert data.load(uri, settings) is first  # an unchanged listing is never read again
    store = data.store_for(uri, settings.s3)
    data.forget_listing()
    again = data.load(uri, settings)
    assert again is not first and data.store_for(uri, settings.s3) is not store
    assert again.catalog.pages() == first.catalog.pages() == [("/p", 10)]
