"""hm_seconds_sq from the export to the band table: summed like seconds (hm_dwell_more included), null where an
export does not send it, and treated as unknown where it is smaller than the row's seconds allow."""

from __future__ import annotations

import pytest

from heatmap import contract
from heatmap.fields import FieldMap
from heatmap.ingest.normalize import normalize
from heatmap.readers import read_export
from heatmap.statistics.metrics import band_table
from tests.exports import dwell, jsonl

SQ = f"customEvent:{contract.SECONDS_SQ_PARAM}"


def rows(*records: dict):
    return normalize(read_export(jsonl(list(records)), "f", set(FieldMap().column_roles())), "f", FieldMap()).table


def with_sq(record: dict, squares: str) -> dict:
    return {**record, SQ: squares}


def more(record: dict) -> dict:
    return {**record, "eventName": contract.DWELL_MORE_EVENT}


def test_seconds_squared_sum_with_hm_dwell_more_and_stay_null_when_not_sent() -> None:
    table = rows(
        with_sq(dwell("20260105", "/p", 0, 10, 50), "300"),  # 10 views, 50 s: Σs² ≥ 50²/10 = 250
        with_sq(more(dwell("20260105", "/p", 0, 2, 6)), "40"),  # 2 returns, 6 s more: adds s and s², not views
        dwell("20260105", "/p", 1, 4, 8),  # an older export row: no seconds²
    )
    bands = band_table(table)
    assert bands.bands["page_views"].to_list() == [10, 4]
    assert bands.bands["seconds"].to_list() == [56.0, 8.0]
    assert bands.bands["seconds_sq"].to_list() == [340.0, None]
    assert bands.bands["sq_missing"].to_list() == [0, 1]
    assert not bands.has_seconds_sq


@pytest.mark.parametrize(
    ("squares", "kept"),
    [
        ("250", True),  # every view 5 s: the smallest possible Σs²
        ("249.95", True),  # within the tag's rounding to 0.01 per event
        ("0", False),  # a GA4 report counting events of an older tag as 0
        ("120", False),  # less than (Σs)²/k: impossible
        ("(not set)", False),
    ],
)
def test_impossibly_small_seconds_squared_is_unknown(squares: str, kept: bool) -> None:
    table = rows(with_sq(dwell("20260105", "/p", 0, 10, 50), squares))
    assert table.height == 1, "the row itself stays: reach and seconds are fine"
    assert (table["seconds_sq"][0] is not None) is kept
    assert table["seconds"][0] == 50.0


def test_one_rule_for_every_engine_and_the_statistics() -> None:
    """table.seconds_sq_floor is the rule; the SQL carries its constants (tests/test_engines.py checks that the
    engines then decide alike row by row)."""
    import numpy as np

    from heatmap.engines.sql import Scope, _normalized
    from heatmap.table import SQ_RELATIVE, SQ_ROUNDING, seconds_sq_floor

    # 4 events, 20 s in all: Σs² ≥ 20² / 4 = 100, less 0.01 per event for GA's rounding
    assert seconds_sq_floor(20.0, 4.0, 4.0) == pytest.approx(100 * (1 - 1e-9) - 0.04)
    floors = seconds_sq_floor(np.array([20.0, 0.0]), np.array([4, 0]), np.maximum(np.array([4, 0]), 1))
    assert floors.tolist() == pytest.approx([99.96, 0.0])
    text = _normalized(FieldMap(), Scope())
    assert f"(1E0 - {SQ_RELATIVE:.0E})" in text and f"- {SQ_ROUNDING:.0E} * CAST(events AS DOUBLE)" in text
