"""The rules a view and a comparison follow, written once (heatmap/usecases/view.py) and the same from the app, a
link and the CLI: the default period, the previous period, the same selection, selections that share page views,
and the defaults and ranges of the map settings."""

from datetime import date

import pytest

from heatmap.cli import build_parser
from heatmap.usecases.view import (
    DEFAULT_DAYS,
    CompareView,
    MapSettings,
    Options,
    View,
    can_share_page_views,
    last_days,
    parse_compare,
    previous_period,
    same_selection,
)
from tests.test_cli import run

D = date


def test_the_default_period_is_the_last_four_weeks_not_before_the_data() -> None:
    assert DEFAULT_DAYS == 28
    assert last_days(D(2026, 3, 31)) == (D(2026, 3, 4), D(2026, 3, 31))
    assert last_days(D(2026, 3, 31), first_day=D(2026, 3, 20)) == (D(2026, 3, 20), D(2026, 3, 31))
    assert Options(("/",), D(2026, 1, 1), D(2026, 3, 31)).default_range() == (D(2026, 3, 4), D(2026, 3, 31))


def test_the_previous_period_has_the_same_length_and_stops_at_the_first_day() -> None:
    assert previous_period(D(2026, 3, 8), D(2026, 3, 14)) == (D(2026, 3, 1), D(2026, 3, 7))
    assert previous_period(D(2026, 3, 8), D(2026, 3, 14), first_day=D(2026, 3, 4)) == (D(2026, 3, 4), D(2026, 3, 7))
    assert previous_period(D(2026, 3, 8), D(2026, 3, 14), first_day=D(2026, 3, 8)) is None, "nothing before it"


def test_a_link_in_periods_mode_at_the_first_day_does_not_make_a_reversed_period() -> None:
    options = Options(("/",), D(2026, 3, 1), D(2026, 3, 31))
    view, _problems = parse_compare({"mode": ["periods"], "from": ["2026-03-01"], "to": ["2026-03-07"]}, options)
    assert view.start is not None and view.end is not None and view.start <= view.end
    assert (view.start_b, view.end_b) == (D(2026, 3, 1), D(2026, 3, 7))
    assert view.same(), "no period before the data: A and B are the same, which the page says"


def test_same_selection_ignores_dimensions_with_nothing_chosen() -> None:
    a = View(page="/", start=D(2026, 3, 1), end=D(2026, 3, 7), where={"deviceCategory": ("mobile",)})
    assert same_selection(a, a.with_(where={"deviceCategory": ("mobile",), "newVsReturning": ()}))
    assert same_selection(a, a.with_(kind="clicks")), "the map type does not change the page views"
    assert not same_selection(a, a.with_(where={"deviceCategory": ("desktop",)}))
    assert not same_selection(a, a.with_(end=D(2026, 3, 8)))


@pytest.mark.parametrize(
    ("b_dates", "where_a", "where_b", "shared"),
    [
        ((D(2026, 3, 8), D(2026, 3, 14)), {}, {}, False),  # two periods that do not touch
        ((D(2026, 3, 7), D(2026, 3, 14)), {}, {}, True),  # one day in common
        ((D(2026, 3, 1), D(2026, 3, 7)), {"newVsReturning": ("new",)}, {"newVsReturning": ("returning",)}, False),
        ((D(2026, 3, 1), D(2026, 3, 7)), {"newVsReturning": ("new",)}, {"deviceCategory": ("mobile",)}, True),
        (
            (D(2026, 3, 1), D(2026, 3, 7)),
            {"deviceCategory": ("mobile", "tablet")},
            {"deviceCategory": ("tablet",)},
            True,
        ),
        ((D(2026, 3, 5), D(2026, 3, 9)), {"deviceCategory": ("mobile",)}, {"deviceCategory": ("desktop",)}, False),
    ],
)
def test_selections_share_page_views_when_dates_and_every_filtered_dimension_overlap(
    b_dates: tuple[date, date], where_a: dict, where_b: dict, shared: bool
) -> None:
    a = View(page="/", start=D(2026, 3, 1), end=D(2026, 3, 7), where=where_a)
    b = View(page="/", start=b_dates[0], end=b_dates[1], where=where_b)
    assert can_share_page_views(a, b) is shared
    assert can_share_page_views(b, a) is shared


def test_compare_views_use_the_same_rules_in_both_modes() -> None:
    segments = CompareView(
        mode="segments", start=D(2026, 3, 1), end=D(2026, 3, 7),
        where_a={"newVsReturning": ("new",)}, where_b={"newVsReturning": ("returning",)},
    )  # fmt: skip
    assert not segments.overlapping() and not segments.same()
    assert segments.with_(where_b={"newVsReturning": ("new",)}).same()
    periods = CompareView(
        mode="periods", start=D(2026, 3, 1), end=D(2026, 3, 7), start_b=D(2026, 3, 6), end_b=D(2026, 3, 12)
    )
    assert periods.overlapping() and not periods.same()


def _defaults(command: str) -> dict:
    parser = build_parser()
    args = parser.parse_args([command, "--page", "/"] + (["--screenshot", "x.png"] if command == "render" else []))
    return vars(args)


def test_the_cli_draws_with_the_app_defaults() -> None:
    render = _defaults("render")
    app = MapSettings()
    assert (render["opacity"], render["ramp"], render["dpr"], render["shift"]) == (
        app.opacity, app.ramp, app.dpr, app.shift
    )  # fmt: skip
    assert render["kind"] == View().kind
    assert _defaults("compare")["kind"] == CompareView().kind
    assert str(DEFAULT_DAYS) in build_parser()._subparsers._group_actions[0].choices["bands"].format_help()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("flag", "value"), [("--opacity", "1.5"), ("--opacity", "x"), ("--dpr", "0"), ("--shift", "2.5")]
)
def test_a_map_setting_outside_what_the_app_accepts_is_one_line(tmp_path, flag: str, value: str) -> None:
    result = run("render", "--page", "/", "--screenshot", str(tmp_path / "x.png"), flag, value, env_home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and flag in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_compare_this_view_keeps_page_segment_type_and_screenshot_and_compares_with_the_period_before() -> None:
    from heatmap.usecases.view import compare_from, compare_query, parse_compare

    options = Options(
        ("/", "/pricing"), D(2026, 9, 1), D(2026, 11, 1),
        {"deviceCategory": ("desktop", "mobile"), "sessionDefaultChannelGroup": ("Organic Search", "Direct")},
    )  # fmt: skip
    view = View(
        page="/pricing", start=D(2026, 10, 15), end=D(2026, 11, 1), kind="attention", shot="a" * 64,
        where={"deviceCategory": ("mobile",), "sessionDefaultChannelGroup": ("Organic Search",)},
        display=MapSettings(dpr=2.0, opacity=0.6),
    )  # fmt: skip
    compare = compare_from(view, options.first_day)
    assert (compare.mode, compare.page, compare.kind, compare.shot) == ("periods", "/pricing", "attention", "a" * 64)
    assert (compare.start_b, compare.end_b) == (view.start, view.end), "B is what the designer was looking at"
    assert (compare.start, compare.end) == (D(2026, 9, 27), D(2026, 10, 14)), "A: the 18 days before"
    assert dict(compare.where) == dict(view.where) and compare.display == view.display
    reopened, problems = parse_compare(compare_query(compare), options)
    assert problems == [] and reopened == compare, "the link Compare opens with is that comparison"
    at_start = compare_from(view.with_(start=D(2026, 9, 1)), options.first_day)
    assert at_start.same(), "nothing before the data: A = B, which Compare says"
