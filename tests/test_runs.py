"""Saved runs: new objects only, run.json last, round trip, listing, races, and the source/output rule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import heatmap
from heatmap.drawing.render import Alignment, Display
from heatmap.errors import AlreadyExists, LocationError, NotFound, StoreError
from heatmap.images import screenshot_from_image
from heatmap.runs import RunParams, is_run_id, list_runs, load_run, new_run_id, run_ids, run_prefix, save_run
from heatmap.statistics.metrics import band_table, click_grid
from heatmap.stores import LocalStore, MemoryStore
from heatmap.stores.base import ObjectInfo, Store
from heatmap.usecases.view import MapSettings
from tests.exports import canonical_frame, click, dwell, jsonl, write

SOURCE = "s3://ga-exports/appflow/"
ROWS = canonical_frame(
    [
        (date(2025, 6, 1), "/jobs", "dwell", 0, None, None, 120, 300.0),
        (date(2025, 6, 1), "/jobs", "dwell", 1, None, None, 90, 150.0),
        (date(2025, 6, 1), "/jobs", "click", None, 40, 3, 12, 0.0),
    ],
    (),
)
BANDS = band_table(ROWS)
CLICKS = click_grid(ROWS, BANDS.page_views)
SHOT = screenshot_from_image(Image.new("RGB", (40, 300), (200, 210, 220)))
PNG = b"\x89PNG\r\n\x1a\nfake-map"
PARAMS = RunParams(
    page="/jobs",
    start=date(2025, 6, 1),
    end=date(2025, 6, 30),
    where={"deviceCategory": ["mobile", "tablet"]},
    display=Display(kind="clicks", ramp="viridis", opacity=0.5, scale="p99"),
    alignment=Alignment(dpr=2.0, shift_px=-12.5),
    view={"page": "/jobs", "from": "2025-06-01", "kind": "clicks", "where": ["deviceCategory=mobile"]},
)
EXPORTS = [
    {"key": "appflow/flow/exec-1/part-0.jsonl", "etag": "abc123", "size": 1024, "last_modified": datetime(2025, 7, 1)}
]


def output_of(store: Store) -> str:
    return "s3://heatmap-output/runs-out/" if isinstance(store, MemoryStore) else store.uri


def save(store: Store, **overrides: object) -> heatmap.runs.RunRecord:
    options: dict = {
        "screenshot": SHOT,
        "clicks": CLICKS,
        "exports": EXPORTS,
        "warnings": ["a warning"],
        "output": output_of(store),
    }
    options.update(overrides)
    return save_run(store, SOURCE, PARAMS, PNG, BANDS, **options)


def test_run_ids() -> None:
    moment = datetime(2025, 1, 31, 23, 59, 58, 123456, tzinfo=UTC)
    run_id = new_run_id(moment)
    assert run_id.startswith("20250131T235958.123Z-") and is_run_id(run_id)
    assert run_prefix(run_id) == f"runs/2025/01/31/{run_id}/"
    for bad in ("", "../../etc", "20250131T235958Z-zz", "x" * 200):
        with pytest.raises(NotFound):
            run_prefix(bad)


def test_saved_run_loads_back_equal(store_factory) -> None:
    store = store_factory()
    record = save(store)
    assert load_run(store, record.run_id) == record
    assert record.version == heatmap.__version__
    assert record.page == "/jobs" and record.start == "2025-06-01" and record.end == "2025-06-30"
    assert record.where == {"deviceCategory": ["mobile", "tablet"]}
    assert record.heatmap_type == "clicks"
    assert record.display["ramp"] == "viridis" and record.alignment["shift_px"] == -12.5
    assert record.view["where"] == ["deviceCategory=mobile"]
    assert record.exports == [{**EXPORTS[0], "last_modified": "2025-07-01T00:00:00"}]
    assert record.screenshot == {
        "sha256": SHOT.sha256,
        "key": f"screenshots/{SHOT.sha256}.png",
        "format": "png",
        "width": 40,
        "height": 300,
    }
    stats = record.statistics
    assert stats["page_views"] == 120 and stats["bands"] == BANDS.to_json_dict()["bands"] and stats["clicks"] == 12
    prefix = run_prefix(record.run_id)
    assert record.objects == [
        prefix + "heatmap.png",
        prefix + "bands.csv",
        prefix + "clicks.csv",
        SHOT.key,
        prefix + "run.json",
    ]
    assert store.read(prefix + "heatmap.png") == PNG
    assert store.read(prefix + "bands.csv") == BANDS.to_csv()
    assert store.read(SHOT.key) == SHOT.data


def test_saving_twice_makes_two_runs_newest_first() -> None:
    store = MemoryStore("s3://out/")
    t0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    first = save(store, now=t0)
    second = save(store, now=t0 + timedelta(days=1))
    third = save(store, now=t0 + timedelta(days=1))  # same millisecond: a different random suffix
    assert len({first.run_id, second.run_id, third.run_id}) == 3
    assert run_ids(store)[-1] == first.run_id
    assert sorted(run_ids(store), reverse=True) == run_ids(store)
    assert len([i for i in store.list("screenshots/")]) == 1  # one picture, stored once


def test_list_runs_paginates_and_filters() -> None:
    store = MemoryStore("s3://out/")
    t0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    ids = []
    for i in range(5):
        params = PARAMS if i % 2 == 0 else RunParams(page="/about", start="2025-06-01", end="2025-06-02")
        ids.append(save_run(store, SOURCE, params, PNG, BANDS, output="s3://out/", now=t0 + timedelta(hours=i)).run_id)
    newest_first = ids[::-1]
    page1 = list_runs(store, limit=2)
    assert [r.run_id for r in page1.runs] == newest_first[:2] and page1.next_before == newest_first[1]
    page2 = list_runs(store, limit=2, before=page1.next_before)
    assert [r.run_id for r in page2.runs] == newest_first[2:4]
    page3 = list_runs(store, limit=2, before=page2.next_before)
    assert [r.run_id for r in page3.runs] == newest_first[4:] and page3.next_before is None
    jobs = list_runs(store, page="/jobs")
    assert [r.run_id for r in jobs.runs] == [ids[4], ids[2], ids[0]]


class FailingStore(MemoryStore):
    """Fails every write whose key ends with `fail_on`."""

    def __init__(self, fail_on: str) -> None:
        super().__init__("s3://out/")
        self.fail_on = fail_on

    def create(self, key: str, data: bytes, content_type: str | None = None, last_modified=None) -> None:
        if key.endswith(self.fail_on):
            raise StoreError(f"simulated failure writing {key}")
        super().create(key, data, content_type)


def test_run_json_is_written_last() -> None:
    store = FailingStore("bands.csv")
    with pytest.raises(StoreError):
        save(store)
    keys = [info.key for info in store.list()]
    assert any(k.endswith("heatmap.png") for k in keys)
    assert not any(k.endswith("run.json") for k in keys)
    assert run_ids(store) == [] and list_runs(store).runs == []  # the half-written run is not listed


def test_output_inside_source_is_refused_before_any_write(tmp_path: Path) -> None:
    store = MemoryStore("s3://ga-exports/appflow/heatmaps/")
    with pytest.raises(LocationError, match="inside it"):
        save_run(store, SOURCE, PARAMS, PNG, BANDS, screenshot=SHOT)
    assert list(store.list()) == []
    enclosing = MemoryStore("s3://ga-exports/")
    with pytest.raises(LocationError, match="contains the source"):
        save_run(enclosing, SOURCE, PARAMS, PNG, BANDS, screenshot=SHOT)
    assert list(enclosing.list()) == []
    source = tmp_path / "exports"
    (source / "out").mkdir(parents=True)
    local = LocalStore(source / "out")
    with pytest.raises(LocationError):
        save_run(local, str(source), PARAMS, PNG, BANDS, screenshot=SHOT)
    assert list(local.list()) == []


def test_two_saves_race_for_the_same_screenshot(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "out")
    (tmp_path / "out").mkdir()
    barrier = threading.Barrier(4)
    results: list = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(save(store))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(results) == 4
    assert [info.key for info in store.list("screenshots/")] == [SHOT.key]
    assert store.read(SHOT.key) == SHOT.data
    assert sorted(run_ids(store)) == sorted(r.run_id for r in results)
    with pytest.raises(AlreadyExists):  # and the store stays create-only afterwards
        store.create(SHOT.key, b"something else")
    assert store.read(SHOT.key) == SHOT.data


def test_a_taken_run_id_is_never_overwritten(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore("s3://out/")
    ids: Iterator[str] = iter(["20250601T000000.000Z-00000001"] * 2 + ["20250601T000000.000Z-00000002"])
    monkeypatch.setattr(heatmap.runs, "new_run_id", lambda now=None: next(ids))
    first = save(store)
    second = save(store)  # first attempt collides on heatmap.png, second id is used
    assert (first.run_id, second.run_id) == ("20250601T000000.000Z-00000001", "20250601T000000.000Z-00000002")
    assert load_run(store, first.run_id) == first


def test_missing_run() -> None:
    store = MemoryStore("s3://out/")
    with pytest.raises(NotFound, match="no saved run"):
        load_run(store, "20250601T000000.000Z-0badc0de")
    with pytest.raises(NotFound, match="not a saved-run id"):
        load_run(store, "../secrets")


def test_objects_listed_are_the_runs_keys() -> None:
    store = MemoryStore("s3://out/")
    record = save(store, screenshot=None, clicks=None)
    keys = {info.key for info in store.list()}
    assert set(record.objects) == keys and record.screenshot is None
    assert all(isinstance(info, ObjectInfo) for info in store.list())


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEATMAP_HOME": str(home)}
    env.pop("HEATMAP_SOURCE", None)
    env.pop("HEATMAP_OUTPUT", None)
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "heatmap", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, env=env, timeout=300)


def test_cli_render_saves_a_run(tmp_path: Path) -> None:
    source = tmp_path / "exports"
    records = [dwell("20260105", "/p", 0, 150, 300), dwell("20260105", "/p", 1, 90, 90)]
    records += [click("20260105", "/p", 30, 2, 12)]
    write(source, "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a/p0.jsonl", jsonl(records))
    shot = tmp_path / "page.png"
    Image.new("RGB", (390, 880), (240, 240, 240)).save(shot)  # a phone-width page
    out = tmp_path / "output"
    common = ["--source", str(source), "--page", "/p", "--screenshot", str(shot), "--no-cache", "--json"]
    done = cli(
        "render", *common, "--output", str(out), "--type", "clicks", "--name", "Pricing, clicks", home=tmp_path / "home"
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"run_id", "objects"}
    store = LocalStore(out)
    assert sorted(result["objects"]) == sorted(info.key for info in store.list())
    record = load_run(store, result["run_id"])
    assert (
        record.heatmap_type == "clicks" and record.statistics["page_views"] == 150 and record.name == "Pricing, clicks"
    )
    assert record.display["opacity"] == MapSettings().opacity, "the CLI draws with the app's default opacity"
    assert record.view["type"] == ["clicks"] and record.view["page"] == ["/p"], "the run reopens as a link"
    assert [e["key"] for e in record.exports] == ["flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a/p0.jsonl"]
    assert Image.open(out / record.png_key).size[1] > 220  # map plus legend

    inside = source / "runs"
    done = cli("render", *common, "--output", str(inside), home=tmp_path / "home")
    assert done.returncode != 0 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "inside" in done.stderr
    assert not inside.exists()

    done = cli("render", *common, "--output", str(out), "--min-page-views", "500", home=tmp_path / "home")
    assert done.returncode == 1 and done.stderr.startswith("error: Only 150 page views")


def test_a_run_has_a_thumbnail_of_the_top_of_its_map() -> None:
    import io

    store = MemoryStore()
    tall = Image.new("RGB", (1440, 20000), (200, 30, 30))
    buffer = io.BytesIO()
    tall.save(buffer, format="PNG", compress_level=1)
    record = save_run(store, SOURCE, PARAMS, buffer.getvalue(), BANDS, output=output_of(store))
    with Image.open(io.BytesIO(store.read(record.thumbnail_key))) as thumb:
        assert thumb.format == "JPEG" and thumb.width == 320 and thumb.height == 480  # the top 2160 px, scaled
        assert abs(thumb.getpixel((10, 10))[0] - 200) < 8


def test_a_thumbnail_made_from_the_rendered_image_is_the_one_made_from_its_png() -> None:
    """The app and the CLI hand save_run the thumbnail of the image they rendered instead of decoding the PNG."""

    from heatmap.drawing.encode import encode_png, thumbnail_jpeg

    rng = np.random.default_rng(4)
    picture = Image.fromarray(rng.integers(0, 256, (3000, 800, 3), dtype=np.uint8))
    png = encode_png(picture)
    assert thumbnail_jpeg(picture) == thumbnail_jpeg(png)
    store = MemoryStore()
    record = save_run(store, SOURCE, PARAMS, png, BANDS, output=output_of(store), thumbnail=thumbnail_jpeg(picture))
    assert store.read(record.thumbnail_key) == thumbnail_jpeg(png)


def test_a_map_pillow_cannot_read_saves_without_a_thumbnail() -> None:
    store = MemoryStore()
    record = save_run(store, SOURCE, PARAMS, b"not a png", BANDS, output=output_of(store))
    with pytest.raises(NotFound):
        store.read(record.thumbnail_key)
    assert load_run(store, record.run_id) == record


def test_a_run_keeps_a_name_and_note_within_bounds_and_old_runs_load_without() -> None:
    from dataclasses import replace

    from heatmap.runs import MAX_NAME_CHARS, MAX_NOTE_CHARS

    store = MemoryStore()
    params = replace(PARAMS, name="  Pricing,\n mobile  ", note="x" * 5000)
    record = save_run(store, SOURCE, params, b"not a png", BANDS, output=output_of(store))
    assert record.name == "Pricing, mobile" and len(record.note) == MAX_NOTE_CHARS
    assert load_run(store, record.run_id) == record
    huge = save_run(store, SOURCE, replace(PARAMS, name="n" * 500), b"png", BANDS, output=output_of(store))
    assert len(huge.name) == MAX_NAME_CHARS
    old = json.loads(record.to_json())
    del old["name"], old["note"]
    from heatmap.runs import RunRecord

    assert RunRecord.from_json(json.dumps(old).encode()).name == "", "a run saved before names still opens"
