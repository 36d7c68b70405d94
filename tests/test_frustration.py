"""Rage and dead clicks (docs/contract.md "Rage and dead clicks"): flagged clicks are read from either route by
every engine as their own cells, never moving a click, and a view's click map can show one flag alone."""

from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image

from heatmap.drawing import live, render
from heatmap.engines.local import load_dataset
from heatmap.statistics.metrics import click_grid
from heatmap.stores import LocalStore
from heatmap.table import ViewSums
from heatmap.usecases.numbers import numbers
from heatmap.usecases.view import Options, View, compare_query, parse_compare, parse_view, view_query
from tests.exports import click, dwell, jsonl, write
from tests.test_engines import every_engine, rewritten

RUN = "flow/2026/01/08/0b7a1c3e-0000-4000-8000-00000000000b"
START, END = date(2026, 1, 1), date(2026, 1, 31)


def flagged(event: str, day: str, page: str, x: int | str, y: int | str, count: int, **segment: str) -> dict:
    return {**click(day, page, x, y, count, **segment), "eventName": event}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """/pricing: 20 page views, 9 clicks in two cells, of which 4 rage (two cells) and 2 dead; 4 clicks on a
    sticky header; a forged flag row."""
    folder = tmp_path_factory.mktemp("src")
    records = [
        dwell("20260105", "/pricing", 0, 12, 30),
        dwell("20260106", "/pricing", 0, 8, 20, deviceCategory="desktop"),
        click("20260105", "/pricing", 40, 12, 5),
        click("20260106", "/pricing", 40, 12, 1, deviceCategory="desktop"),
        click("20260105", "/pricing", 70, 3, 3),
        flagged("hm_rage", "20260105", "/pricing", 40, 12, 3),
        flagged("hm_rage", "20260106", "/pricing", 70, 3, 1, deviceCategory="desktop"),
        flagged("hm_dead", "20260105", "/pricing", 70, 3, 2),
        flagged("hm_dead", "20260105", "/pricing", 140, 3, 50),  # x beyond 99: forged, left out like a click
        flagged("hm_fixed", "20260105", "/pricing", 95, 2, 4),  # a sticky header, at its place on the screen
    ]
    write(folder, f"{RUN}/p0.jsonl", jsonl(records), modified=datetime(2026, 1, 8, 2))
    return folder


def cells(grid) -> dict[tuple[int, int], int]:
    return {(int(y), int(x)): int(grid.counts[y, x]) for y, x in zip(*grid.counts.nonzero(), strict=True)}


def test_flags_are_their_own_cells_and_every_click_stays_a_click(source, tmp_path):
    local = load_dataset(LocalStore(source), cache_dir=tmp_path / "local")
    nums = numbers(local, View(page="/pricing", start=START, end=END))
    assert nums.n == 20
    assert cells(nums.clicks) == {(12, 40): 6, (3, 70): 3}  # the flags add no clicks
    assert cells(nums.flags["rage"]) == {(12, 40): 3, (3, 70): 1}
    assert cells(nums.flags["dead"]) == {(3, 70): 2}
    assert cells(nums.flags["fixed"]) == {(2, 95): 4}  # not among the page's clicks
    assert any("click x is not a whole percent" in i.reason for i in local.catalog.excluded_samples)
    rage = numbers(local, View(page="/pricing", start=START, end=END, layer="rage"))
    assert cells(rage.clicks) == {(12, 40): 3, (3, 70): 1} and rage.n == 20  # rates stay per page view
    desktop = numbers(local, View(page="/pricing", start=START, end=END, where={"deviceCategory": ("desktop",)}))
    assert cells(desktop.flags["rage"]) == {(3, 70): 1} and desktop.n == 8


@pytest.mark.parametrize("shape", ["jsonl", "parquet-events"])
def test_duckdb_and_the_athena_sql_read_the_flags_as_the_local_engine(source, tmp_path, shape):
    folder = source if shape == "jsonl" else rewritten(source, tmp_path / "src", shape)
    local, duck, athena, _fake = every_engine(folder, tmp_path)
    for layer in ("all", "rage", "dead", "fixed"):
        view = View(page="/pricing", start=START, end=END, layer=layer)
        ours = numbers(local, view)
        for engine in (duck, athena):
            theirs = numbers(engine, view)
            assert cells(theirs.clicks) == cells(ours.clicks), (engine, layer)
            assert {k: cells(g) for k, g in theirs.flags.items()} == {k: cells(g) for k, g in ours.flags.items()}


def test_links_carry_the_layer_and_ignore_an_unknown_one():
    options = Options(pages=("/pricing",), first_day=START, last_day=END)
    view = View(page="/pricing", start=START, end=END, kind="clicks", layer="dead")
    query = view_query(view)
    assert query["clicks"] == ["dead"]
    assert parse_view(query, options)[0].layer == "dead"
    assert "clicks" not in view_query(view.with_(layer="all"))
    again, problems = parse_view({**query, "clicks": ["angry"]}, options)
    assert again.layer == "all" and [p.key for p in problems] == ["clicks"]
    compared, _ = parse_compare({"page": ["/pricing"], "type": ["clicks"], "clicks": ["rage"]}, options)
    assert compared.layer == "rage" and all(side.layer == "rage" for side in compared.sides())
    assert compare_query(compared)["clicks"] == ["rage"]


def test_the_cli_compares_a_layer(source, tmp_path, monkeypatch, capsys):
    import json

    from heatmap.cli import main

    monkeypatch.setenv("HEATMAP_CACHE_DIR", str(tmp_path / "cache"))
    args = ["compare", "--source", str(source), "--page", "/pricing", "--from", "2026-01-01", "--to", "2026-01-31",
            "--a-where", "device=desktop", "--b-where", "device=mobile", "--type", "clicks", "--json"]  # fmt: skip
    assert main([*args, "--clicks", "rage"]) == 0
    out = json.loads(capsys.readouterr().out)
    # by hand: desktop 8 page views, 1 rage click at y 60 px (band 0), x 70; mobile 12, 3 at 240 px (band 2), x 40
    regions = {(r["band"], r["x_from"]): (r["a"], r["b"]) for r in out["regions"]}
    assert (out["a_page_views"], out["b_page_views"]) == (8, 12)
    assert regions == {(0, 70): (1 / 8, 0.0), (2, 40): (0.0, 3 / 12)}


def test_a_layers_picture_says_which_clicks_it_counts(source, tmp_path):
    from heatmap.usecases.pictures import caption

    local = load_dataset(LocalStore(source), cache_dir=tmp_path / "local")
    view = View(page="/pricing", start=START, end=END, kind="clicks", layer="dead")
    nums = numbers(local, view)
    told = caption(view, nums, "en")
    assert (told.segment, told.layer) == ("all visitors", "dead clicks only")
    assert caption(view, nums, "ja", segment="モバイル").layer == "デッドクリックのみ"
    assert caption(view.with_(layer="all"), nums, "en").layer is None
    assert told.clicks == 2  # the layer's clicks
    # a click map says the layer; the same view's attention map (the viewer switches type in the browser) does not
    clicks_words = live.legends(told, 2)["clicks|max|0"]["facts"]
    attention_words = live.legends(told, 2)["attention|max|0"]["facts"]
    assert "Segment: all visitors · dead clicks only" in clicks_words
    assert "Segment: all visitors" in attention_words
    ja = caption(view, nums, "ja", segment="モバイル")
    assert any(
        "モバイル · デッドクリックのみ" in line for line in render.caption_lines(ja, render.Display(kind="clicks"))
    )


def test_the_fixed_layer_outlines_the_first_screen_instead_of_the_pages_depths():
    """Clicks at screen positions: the first screen (down to the average fold) is outlined, dark outside and light
    inside, on the saved picture and in the browser's spec; the 75/50/25 % reach lines of the page are not drawn."""
    from tests.test_render import bands_from

    # reach 1.00 .90 .70 .40 .20 (n = 100): the fold at 100 CSS px, 75/50/25 % lines at 200, 300, 400
    bands = bands_from([100, 90, 70, 40, 20])
    shot = Image.new("RGB", (200, 600), (128, 128, 128))
    grid = click_grid(ViewSums(dwell=pl.DataFrame(), clicks=pl.DataFrame(schema={"y": pl.Int32, "x": pl.Int16,
                                                                            "events": pl.Int64})), 100)  # fmt: skip
    caption = render.Caption(page="/", start="", end="", layer="clicks on fixed and sticky elements")
    fixed = render.render_map(shot, render.Display(kind="clicks", first_screen=True), caption, bands, grid)
    plain = render.render_map(shot, render.Display(kind="clicks"), caption, bands, grid)
    out = np.asarray(fixed.image)
    # thickness 2: the sides are 2 px dark at x 0-1, 2 px light at x 2-3, from the top down to the line at row 100
    assert out[50, 0].tolist() == list(render.LINE_COLOUR) and out[50, 1].tolist() == list(render.LINE_COLOUR)
    assert out[50, 2].tolist() == list(render.FOLD_COLOUR) and out[50, 199].tolist() == list(render.LINE_COLOUR)
    assert out[0, 100].tolist() == list(render.LINE_COLOUR) and out[2, 100].tolist() == list(render.FOLD_COLOUR)
    assert out[150, 0].tolist() == [128, 128, 128]  # below the first screen: the picture
    assert out[300, 190].tolist() == [128, 128, 128]  # no 50 % line (the plain map has one)
    assert np.asarray(plain.image)[300, 190].tolist() == list(render.LINE_COLOUR)
    spec = live.live_spec(shot.size, render.Alignment(), bands, grid, caption, first_screen=True)
    assert spec["clickLines"] == [{"row": 100, "label": "first screen: fixed and sticky clicks sit here",
                                   "fold": True, "box": True}]  # fmt: skip
    assert live.live_spec(shot.size, render.Alignment(), bands, grid, caption)["clickLines"] is None
