"""The map viewer's page (heatmap/ui/viewer.py): what it carries to the browser, and that data stays data."""

from __future__ import annotations

import numpy as np

from heatmap.drawing.render import Legend
from heatmap.ui.figures import Placement
from heatmap.ui.viewer import Layer, Mark, config_of, payload_bytes, viewer_html

PLACE = Placement(css_width=1440, map_height=3000, total_height=3200, data_top=0)


def layer(title: str = "A", **changes: object) -> Layer:
    values = {
        "title": title,
        "jpeg": b"\xff\xd8jpeg",
        "place": PLACE,
        "band_height": 100,
        "template": "%{customdata[0]}",
    }
    return Layer(**(values | changes))  # type: ignore[arg-type]


def test_the_config_round_trips_with_hover_numbers_per_band_and_cell() -> None:
    rows = np.array([[0, 1.5], [1, np.nan]])
    cells = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    page = viewer_html([layer(rows=rows, cells=cells)], [Mark(1000, "Average fold")], {"fit": "Fit width"})
    config = config_of(page)
    (shown,) = config["layers"]
    assert shown["src"].startswith("data:image/jpeg;base64,")
    assert (shown["bands"], shown["rowWidth"], shown["columns"], shown["cellWidth"]) == (2, 2, 3, 2)
    assert shown["rows"] == [0, 1.5, 1, 0]  # NaN cannot travel as JSON: 0
    assert shown["cells"] == list(range(12))
    assert config["marks"] == [{"depth": 1000, "label": "Average fold"}] and config["labels"]["fit"] == "Fit width"
    assert payload_bytes(page) == len(page.encode())


def test_tiny_adjusted_p_values_are_not_rounded_away() -> None:
    config = config_of(viewer_html([layer(rows=np.array([[3e-9]]))]))
    assert config["layers"][0]["rows"] == [3e-9]


def test_a_forged_title_stays_data() -> None:
    forged = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    page = viewer_html([layer(forged)], [Mark(0, forged)], name='x"><b>')
    assert "<script>alert(1)" not in page and "<img src=x" not in page and 'data-name="x&quot;&gt;&lt;b&gt;"' in page
    config = config_of(page)
    assert config["layers"][0]["title"] == forged and config["marks"][0]["label"] == forged
    assert "innerHTML" not in page  # the script writes text with textContent only


def test_the_start_spot_link_and_memory_key_travel_as_data() -> None:
    forged = "http://x/?page=</script><script>alert(1)</script>"
    page = viewer_html([layer()], name="x_map", start={"at": 4200, "zoom": None}, link=forged, remember="/求人")
    config = config_of(page)
    assert config["start"] == {"at": 4200}  # unset parts of the spot are left to the viewer's defaults
    assert config["link"] == forged and "<script>alert(1)" not in page
    assert config["memory"] == "heatmap-viewer:x_map:/求人"  # per frame and page: another page opens at its top
    assert config_of(viewer_html([layer()]))["start"] is None


def test_the_legend_travels_as_data_with_where_each_band_sits() -> None:
    forged = "<img src=x onerror=alert(3)>"
    legend = Legend(
        title="Attention",
        facts=("1 Oct – 28 Oct", forged),
        low="0 s",
        high="12.5 s",
        colours=("#000000", "#ffffff"),
        positions=np.array([0.25, np.nan, 1.0]),
    )
    page = viewer_html([layer(legend=legend), layer("B")])
    with_legend, without = config_of(page)["layers"]
    assert with_legend["legend"] == {
        "title": "Attention",
        "facts": ["1 Oct – 28 Oct", forged],
        "low": "0 s",
        "high": "12.5 s",
        "colours": ["#000000", "#ffffff"],
        "columns": 1,
        "positions": [0.25, -1.0, 1.0],  # -1: a band with nothing painted has no place on the bar
    }
    assert without["legend"] is None and "<img src=x" not in page
    regions = Legend("B − A", (), "−", "+", ("#0000ff",), np.array([[0.5, np.nan], [0.9, 0.1]]))
    assert config_of(viewer_html([layer(legend=regions)]))["layers"][0]["legend"]["columns"] == 2
    clicks = Legend("Clicks", (), "0", "max", ("#0000ff",), None)  # a density between cells: no band positions
    assert config_of(viewer_html([layer(legend=clicks)]))["layers"][0]["legend"]["positions"] == []


def test_where_the_maps_open_without_a_link_or_memory() -> None:
    assert config_of(viewer_html([layer()], opening=1900))["opening"] == {"at": 1900}
    assert config_of(viewer_html([layer()]))["opening"] is None
    assert config_of(viewer_html([layer()], opening=-5))["opening"] is None


def test_maps_on_the_same_picture_carry_it_once() -> None:
    picture = b"\xff\xd8" + bytes(range(256)) * 400
    shared = config_of(viewer_html([layer("A", jpeg=picture), layer("B", jpeg=picture), layer("C")]))["layers"]
    assert shared[0]["src"].startswith("data:image/jpeg;base64,") and shared[0]["srcOf"] is None
    assert shared[1]["src"] == "" and shared[1]["srcOf"] == 0, "B points at A's picture"
    assert shared[2]["src"].startswith("data:image/jpeg;base64,") and shared[2]["srcOf"] is None, "another picture"
    apart = viewer_html([layer("A", jpeg=picture), layer("B", jpeg=picture + b"x")])
    together = viewer_html([layer("A", jpeg=picture), layer("B", jpeg=picture)])
    assert payload_bytes(apart) - payload_bytes(together) > len(picture)
    blank = config_of(viewer_html([layer("A", jpeg=b""), layer("B", jpeg=b"")]))["layers"]
    assert [each["srcOf"] for each in blank] == [None, None], "no picture: nothing to point at"
