"""Legends in English and Japanese: every phrase in both, and Japanese wraps without spaces."""

from typing import Any

import numpy as np
import polars as pl
from PIL import Image

from heatmap.drawing.captions import LEGEND, legend_text
from heatmap.drawing.legend import legend_font, wrap
from heatmap.drawing.render import Caption, Display, render_map
from heatmap.statistics.metrics import band_table
from heatmap.table import schema


def test_every_phrase_exists_in_both_languages():
    assert set(LEGEND["en"]) == set(LEGEND["ja"])
    assert legend_text("ja", "page_views", n=1234) == "n = 1,234 ページビュー"
    assert legend_text("xx", "page", page="/a") == "Page: /a"  # unknown language: English


def test_japanese_wraps_between_characters_and_english_between_words():
    font = legend_font(16)
    japanese = wrap("スクロール到達率：各深さまで到達したページビューの割合", font, 200)
    assert len(japanese) > 1 and "".join(japanese) == "スクロール到達率：各深さまで到達したページビューの割合"
    assert all(font.getlength(line) <= 200 for line in japanese)
    english = wrap("Scroll reach: share of page views that reached each depth", font, 200)
    assert " ".join(english) == "Scroll reach: share of page views that reached each depth"
    assert wrap("unbreakableveryveryverylongword x", font, 50)[0] == "unbreakableveryveryverylongword"


def _bands():
    rows = pl.DataFrame(
        {"date": [None] * 3, "page": ["/a"] * 3, "event": ["dwell"] * 3, "band": [0, 1, 2], "x": [None] * 3,
         "y": [None] * 3, "events": [10, 8, 4], "seconds": [50.0, 20.0, 5.0], "seconds_sq": [None] * 3},
        schema_overrides={"date": pl.Date, "seconds_sq": pl.Float64},
    )  # fmt: skip
    return band_table(rows.cast(schema(())))  # type: ignore[arg-type]


def _made(lines: bool) -> dict[str, Any]:
    shot = Image.new("RGB", (400, 400), (255, 255, 255))
    return {
        language: render_map(shot, Display(kind="attention", lines=lines), Caption("/a", "2026-01-01", "2026-01-31",
                                                                                   language=language), _bands())
        for language in ("en", "ja")
    }  # fmt: skip


def test_the_legend_follows_the_caption_language_and_the_map_does_not():
    made = _made(lines=False)
    en, ja = (np.asarray(made[lang].image) for lang in ("en", "ja"))
    rows = made["en"].map_height
    assert (en[:rows] == ja[:rows]).all()  # the painted map is the same
    assert en.shape[0] > rows and not np.array_equal(en[rows:], ja[rows : rows + en.shape[0] - rows])


def test_the_labels_on_the_map_are_in_the_legend_language():
    """A Japanese PNG is wholly Japanese: the reach lines and the fold are labelled in it too."""
    assert legend_text("ja", "line.reached", level=0.5) == "50% 到達" and legend_text("ja", "line.fold") != "fold"
    made = _made(lines=True)
    en, ja = (np.asarray(made[lang].image) for lang in ("en", "ja"))
    rows = made["en"].map_height
    differs = np.nonzero((en[:rows] != ja[:rows]).any(axis=2))
    assert differs[0].size, "the labels differ"
    assert differs[1].max() < 200, "only the label boxes at the left differ, not the painted bands"
