"""Page templates (docs/templates.md): the rules as configured, and every engine applying the same rule to data
already collected, report-route JSON and event-route Parquet alike."""

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from heatmap.config import Settings
from heatmap.engines.local import load_dataset
from heatmap.engines.sql import text
from heatmap.errors import ConfigError
from heatmap.statistics.metrics import band_table, click_grid
from heatmap.stores import LocalStore
from heatmap.templates import glob_pattern, parse_templates
from heatmap.ui.widgets import _options
from heatmap.usecases.numbers import numbers
from heatmap.usecases.view import View
from tests.exports import click, dwell, jsonl, write
from tests.test_engines import every_engine, rewritten, same_numbers

RULES = "job detail=/jobs/*; job apply=/jobs/*/apply\nsearch=re:^/search(/.*)?$\n# a comment\nall jobs=/jobs/**"
PATHS = ["/jobs/1", "/jobs/2", "/jobs/2/apply", "/jobs", "/jobs/3/apply/done", "/search", "/search/tokyo",
         "/searching", "/", "/求人/1", "/jobs/1/"]  # fmt: skip


def test_a_path_belongs_to_its_first_matching_rule():
    templates = parse_templates(RULES)
    assert [rule.name for rule in templates.rules] == ["job detail", "job apply", "search", "all jobs"]
    assert {path: templates.of(path) for path in PATHS} == {
        "/jobs/1": "job detail",
        "/jobs/2": "job detail",
        "/jobs/2/apply": "job apply",
        "/jobs": "all jobs",  # ** is any number of segments, none included
        "/jobs/3/apply/done": "all jobs",
        "/search": "search",
        "/search/tokyo": "search",
        "/searching": None,
        "/": None,
        "/求人/1": None,
        "/jobs/1/": "all jobs",  # * is one segment: an empty one after a slash is another path
    }


def test_each_engines_form_of_a_rule_selects_the_same_paths():
    """Python (the picker's counts), polars (the local engine) and the SQL (DuckDB, Athena) read one expression."""
    import duckdb
    import sqlglot
    from sqlglot import exp

    templates = parse_templates(RULES + ";odd=/a.b/[x]/(y)+/*$")
    paths = [*PATHS, "/a.b/[x]/(y)+/z$", "/aXb/[x]/(y)+/z$", "/a.b/x/y/z", "/it's"]
    frame = pl.DataFrame({"i": range(len(paths)), "page": paths})
    with duckdb.connect() as con:
        for rule in templates.rules:
            python = [path for path in paths if rule.holds(path)]
            polars = frame.filter(rule.polars_condition())["page"].to_list()
            trino = " AND ".join(
                [f"REGEXP_LIKE(page, {exp.convert(rule.pattern).sql('trino')})"]
                + [f"NOT REGEXP_LIKE(page, {exp.convert(p).sql('trino')})" for p in rule.before]
            )
            (sql,) = sqlglot.transpile(f"SELECT page FROM frame WHERE {trino} ORDER BY i", read="trino", write="duckdb")
            duck = [row[0] for row in con.execute(sql).fetchall()]
            assert python == polars == duck, rule.name
    assert templates.of("/a.b/[x]/(y)+/z$") == "odd" and templates.of("/aXb/[x]/(y)+/z$") is None


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("/jobs/*", ["/jobs/1", "/jobs/"], ["/jobs", "/jobs/1/2", "/jobsx/1"]),
        ("/jobs/**", ["/jobs", "/jobs/1", "/jobs/1/2/3"], ["/jobsx", "/job"]),
        ("/**/apply", ["/apply", "/jobs/1/apply"], ["/jobs/1/apply/x"]),
        ("/p-*.html", ["/p-1.html"], ["/p-1xhtml", "/p-/1.html"]),
    ],
)
def test_globs(glob, yes, no):
    pattern = glob_pattern(glob)
    assert all(pl.Series([p]).str.contains(pattern).item() for p in yes)
    assert not any(pl.Series([p]).str.contains(pattern).item() for p in no)


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        ("jobs", "expected NAME=PATTERN"),
        ("=/jobs/*", "expected NAME=PATTERN"),
        ("/jobs=/jobs/*", "not starting with '/'"),
        ("jobs=/jobs/*;jobs=/job/*", "named twice"),
        ("jobs=jobs/*", "starts with '/'"),
        ("jobs=re:^/jobs/(?!apply)", "look-around"),
        ("jobs=re:^/(a)\\1$", "back-references"),
        ("jobs=re:^/jobs/(", "is not a regular expression"),
        ("jobs=re:" + "a" * 600, "longer than"),
        (";".join(f"t{i}=/t{i}/*" for i in range(201)), "more than 200"),
    ],
)
def test_a_bad_rule_is_refused_in_one_sentence_naming_it(rules, says):
    with pytest.raises(ConfigError) as raised:
        parse_templates(rules)
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_settings_read_the_rules_from_the_environment(monkeypatch):
    monkeypatch.setenv("HEATMAP_PAGE_TEMPLATES", "job detail=/jobs/*")
    assert [rule.name for rule in Settings.load().templates.rules] == ["job detail"]
    monkeypatch.setenv("HEATMAP_PAGE_TEMPLATES", "job detail=jobs")
    with pytest.raises(ConfigError):
        Settings.load()


A = "flow/2026/01/06/0b7a1c3e-0000-4000-8000-00000000000a"
B = "flow/2026/01/08/0b7a1c3e-0000-4000-8000-00000000000b"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three job pages and an apply page, segments, clicks, and a re-export that replaces a day of /jobs/1."""
    folder = tmp_path_factory.mktemp("src")
    first = [dwell("20260105", "/jobs/1", 0, 99, 99), dwell("20260105", "/jobs/1", 1, 99, 99)]
    write(folder, f"{A}/p0.jsonl", jsonl(first), modified=datetime(2026, 1, 6, 2))
    records = [
        dwell("20260105", "/jobs/1", 0, 10, 50),
        dwell("20260105", "/jobs/1", 1, 6, 20),
        dwell("20260105", "/jobs/2", 0, 4, 12.5, deviceCategory="desktop"),
        dwell("20260105", "/jobs/2", 2, 1, 3),
        dwell("20260107", "/jobs/3", 0, 7, 21),
        dwell("20260107", "/jobs/3/apply", 0, 5, 5),
        dwell("20260107", "/about", 0, 30, 60),
        click("20260105", "/jobs/1", 40, 12, 4),
        click("20260107", "/jobs/3", 40, 12, 2, deviceCategory="desktop"),
        click("20260107", "/jobs/3/apply", 10, 1, 9),
    ]
    write(folder, f"{B}/p0.jsonl", jsonl(records), modified=datetime(2026, 1, 8, 2))
    return folder


TEMPLATES = parse_templates("job detail=/jobs/*;job apply=/jobs/*/apply")
START, END = date(2026, 1, 1), date(2026, 1, 31)


def summed(local, paths, where):
    """A template's numbers by hand: the local engine's views of each path, added."""
    parts = [local.view(path, START, END, where) for path in paths]
    dwell = pl.concat([p.dwell for p in parts]).group_by("band").agg(pl.all().sum()).sort("band")
    clicks = pl.concat([p.clicks for p in parts]).group_by("y", "x").agg(pl.all().sum()).sort("y", "x")
    return dwell, clicks


@pytest.mark.parametrize("where", [{}, {"deviceCategory": ["desktop"]}])
def test_a_template_is_the_sum_of_its_paths_on_the_local_engine(source, tmp_path, where):
    local = load_dataset(LocalStore(source), cache_dir=tmp_path / "local")
    view = local.view(TEMPLATES.named("job detail"), START, END, where)
    dwell, clicks = summed(local, ["/jobs/1", "/jobs/2", "/jobs/3"], where)
    ours = view.dwell.sort("band")
    assert ours["band"].to_list() == dwell["band"].to_list()
    assert ours["events"].to_list() == dwell["events"].to_list()
    assert ours["seconds"].to_list() == pytest.approx(dwell["seconds"].to_list())
    assert view.clicks.sort("y", "x")["events"].to_list() == clicks["events"].to_list()
    if not where:  # by hand: band 0 = 10 + 4 + 7 page views (the re-export's /jobs/1, not the first export's 99)
        assert band_table(view).page_views == 21


@pytest.mark.parametrize("shape", ["jsonl", "parquet-events"])
def test_duckdb_and_the_athena_sql_give_the_local_engines_template_sums(source, tmp_path, shape):
    """The report route's JSON and the event route's typed Parquet: the same rule in polars, DuckDB and the SQL
    Athena is sent (run here by a fake Athena on DuckDB)."""
    folder = source if shape == "jsonl" else rewritten(source, tmp_path / "src", shape)
    local, duck, athena, fake = every_engine(folder, tmp_path)
    for name in ("job detail", "job apply"):
        for where in ({}, {"deviceCategory": ["desktop"]}):
            template = TEMPLATES.named(name)
            ours = local.view(template, START, END, where)
            for engine in (duck, athena):
                theirs = engine.view(template, START, END, where)
                same_numbers(band_table(theirs).to_json_dict(), band_table(ours).to_json_dict())
                assert (click_grid(theirs, 1).counts == click_grid(ours, 1).counts).all()
    assert band_table(local.view(TEMPLATES.named("job apply"), START, END)).page_views == 5
    views_sent = [t for t in fake.started if "GROUP BY\n  1,\n  2,\n  3,\n  4" in t]
    assert len(views_sent) == 4 and all("REGEXP_LIKE(page, '^/jobs/[^/]*" in t for t in views_sent)
    (query,) = athena.view_queries(TEMPLATES.named("job apply"), START, END)
    assert "REGEXP_LIKE(page, '^/jobs/[^/]*/apply$')" in text(query)
    assert "NOT REGEXP_LIKE(page, '^/jobs/[^/]*$')" in text(query)  # the earlier rule wins its paths


def test_numbers_and_the_picker_know_templates_by_name(source, tmp_path):
    local = load_dataset(LocalStore(source), cache_dir=tmp_path / "local")
    rules = parse_templates("job detail=/jobs/*;job apply=/jobs/*/apply;careers=/careers/**")
    options, views = _options(local.catalog, rules)
    assert options.pages == (
        "job detail",
        "job apply",
        "/about",
        "/jobs/1",
        "/jobs/3",
        "/jobs/3/apply",
        "/jobs/2",
        "careers",
    )  # fmt: skip  (busiest first; a template without paths last)
    counts = {name: (sum(views for _path, views in paths), len(paths)) for name, paths in options.templates.items()}
    assert counts == {"job detail": (21, 3), "job apply": (5, 1), "careers": (0, 0)}
    assert options.templates["job detail"] == (("/jobs/1", 10), ("/jobs/3", 7), ("/jobs/2", 4))  # busiest first
    assert views["job detail"] == 21 and views["/about"] == 30
    view = View(page="job detail", start=START, end=END, where={})
    assert numbers(local, view, rules).n == 21
    assert numbers(local, View(page="/jobs/1", start=START, end=END, where={}), rules).n == 10


def test_the_cli_takes_a_template_name_for_page(source, tmp_path, monkeypatch, capsys):
    import json

    from heatmap.cli import main

    monkeypatch.setenv("HEATMAP_PAGE_TEMPLATES", "job detail=/jobs/*")
    monkeypatch.setenv("HEATMAP_CACHE_DIR", str(tmp_path / "cache"))
    args = ["bands", "--source", str(source), "--from", "2026-01-01", "--to", "2026-01-31", "--json"]
    assert main([*args, "--page", "job detail"]) == 0
    assert json.loads(capsys.readouterr().out)["page_views"] == 21
    assert main([*args, "--page", "jobs"]) != 0
    assert "templates: job detail" in capsys.readouterr().err


# --- templates the pages declare (the tag's hm_tpl, the event route's hm_template) -------------------------------


@pytest.fixture(scope="module")
def declaring(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Event-route Parquet where some page views declare a template: one against its path's rule, one as its rule
    says, and a template no rule names, over two unrelated paths."""
    folder = tmp_path_factory.mktemp("declaring")
    records = [
        dwell("20260105", "/jobs/1", 0, 10, 50, hm_template="(not set)"),
        dwell("20260105", "/jobs/1", 0, 3, 9, hm_template="job apply"),  # declared: wins over job detail's rule
        dwell("20260105", "/jobs/1", 1, 3, 6, hm_template="job apply"),
        dwell("20260105", "/jobs/2", 0, 4, 12, hm_template="job detail"),  # declared as its rule says
        dwell("20260107", "/jobs/3/apply", 0, 5, 5, hm_template="(not set)"),
        dwell("20260107", "/landing/spring", 0, 6, 18, hm_template="landing"),
        dwell("20260107", "/lp/x", 0, 2, 4, hm_template="landing", deviceCategory="desktop", hm_layout="1440-1919"),
        click("20260105", "/jobs/1", 40, 12, 4, hm_template="(not set)"),
        click("20260105", "/jobs/1", 40, 12, 1, hm_template="job apply"),
    ]
    write(folder, f"{B}/p0.jsonl", jsonl(records), modified=datetime(2026, 1, 8, 2))
    return rewritten(folder, tmp_path_factory.mktemp("declaring-events"), "parquet-events")


def test_a_declared_template_wins_over_the_rules_on_every_engine(declaring, tmp_path):
    """By hand: job detail = /jobs/1's 10 undeclared page views + /jobs/2's 4 that declare it; job apply =
    /jobs/1's 3 that declare it + /jobs/3/apply's 5 by its rule; landing (declared only) = 6 + 2."""
    local, duck, athena, _fake = every_engine(declaring, tmp_path)
    expected = {"job detail": (14, [0]), "job apply": (8, [0, 1]), "landing": (8, [0])}
    for engine in (local, duck, athena):
        declared = engine.catalog.declared
        assert declared == {"landing": {"/landing/spring": 6, "/lp/x": 2}, "job apply": {"/jobs/1": 3},
                            "job detail": {"/jobs/2": 4}}, engine.name  # fmt: skip
        for name, (views, bands) in expected.items():
            sums = engine.view(TEMPLATES.page(name, declared), START, END)
            assert band_table(sums).page_views == views, (engine.name, name)
            assert sums.dwell["band"].to_list() == bands
        clicks = {n: int(click_grid(engine.view(TEMPLATES.page(n, declared), START, END), 1).counts.sum())
                  for n in ("job detail", "job apply")}  # fmt: skip
        assert clicks == {"job detail": 4, "job apply": 1}
        assert band_table(engine.view("/jobs/1", START, END)).page_views == 13  # a path is every row of it
        desktop = engine.view(TEMPLATES.page("landing", declared), START, END, {"deviceCategory": ["desktop"]})
        assert band_table(desktop).page_views == 2
        wide = engine.view(TEMPLATES.page("landing", declared), START, END, {"hm_layout": ["1440-1919"]})
        assert band_table(wide).page_views == 2  # DuckDB read no event-route width before (its tables are JSON's)


def test_the_picker_counts_declared_page_views_where_they_belong(declaring, tmp_path):
    local = load_dataset(LocalStore(declaring), cache_dir=tmp_path / "local")
    options, views = _options(local.catalog, TEMPLATES)
    assert options.templates == {
        "job detail": (("/jobs/1", 10), ("/jobs/2", 4)),
        "job apply": (("/jobs/3/apply", 5), ("/jobs/1", 3)),
        "landing": (("/landing/spring", 6), ("/lp/x", 2)),
    }
    assert options.pages[:3] == ("job detail", "job apply", "landing")
    assert (views["job detail"], views["job apply"], views["landing"], views["/jobs/1"]) == (14, 8, 8, 13)
    assert "hm_template" not in options.segments  # chosen as the page, not as a segment
    assert numbers(local, View(page="landing", start=START, end=END, where={}), TEMPLATES).n == 8
    assert TEMPLATES.page("landing") == "landing"  # unknown to the rules and not declared: a path
