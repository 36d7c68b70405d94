"""`python -m heatmap`: the headless twin of the app (docs/cli.md). Bad input: one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from heatmap import allocator
from heatmap.config import DEFAULT_HOME, Settings
from heatmap.engines import ENGINES
from heatmap.engines.base import Engine
from heatmap.errors import DataError, HeatmapError
from heatmap.ingest.catalog import Catalog
from heatmap.query import parse_where
from heatmap.stores import open_store
from heatmap.templates import Templates
from heatmap.text import LANGUAGES
from heatmap.usecases import pictures
from heatmap.usecases.numbers import Numbers, numbers
from heatmap.usecases.sources import open_engine
from heatmap.usecases.view import (
    DEFAULT_DAYS,
    KINDS,
    LAYERS,
    RAMPS,
    SETTING_RANGES,
    CompareView,
    MapSettings,
    can_share_page_views,
    last_days,
    same_selection,
)
from heatmap.usecases.view import View as ViewSpec


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _setting(name: str) -> Callable[[str], float]:
    """A map setting's argument type: a number inside the range a link or the app accepts."""
    low, high, decimals = SETTING_RANGES[name]

    def parse(text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= number <= high or (decimals == 0 and not number.is_integer()):
            kind = "a whole number" if decimals == 0 else "a number"
            raise argparse.ArgumentTypeError(f"{text} is not {kind} from {low:g} to {high:g}")
        return number

    return parse


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\rloading exports: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def add_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="s3://bucket/prefix/ or a folder (default: HEATMAP_SOURCE, else the demo)")
    parser.add_argument("--cache-dir", help="columnar cache folder (default: HEATMAP_CACHE_DIR)")
    parser.add_argument("--no-cache", action="store_true", help="parse every export again")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--engine", choices=ENGINES, help="who answers: local, duckdb or athena (default: HEATMAP_ENGINE, else local)"
    )


def add_view_args(parser: argparse.ArgumentParser) -> None:
    add_source_args(parser)
    parser.add_argument("--page", required=True, help="page path as exported, e.g. /pricing, or a page template's name")
    parser.add_argument(
        "--from", dest="start", type=_iso_date, help=f"first day, YYYY-MM-DD (default: {DEFAULT_DAYS} days)"
    )
    parser.add_argument("--to", dest="end", type=_iso_date, help="last day, YYYY-MM-DD (default: last day with data)")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="DIM=VALUE",
        help="segment filter, e.g. deviceCategory=mobile (aliases: device, channel, visitor, layout); repeatable",
    )
    parser.add_argument(
        "--clicks",
        dest="layer",
        choices=LAYERS,
        default="all",
        help="which clicks count: all, rage, dead, or those on fixed and sticky elements",
    )


def load_settings() -> Settings:
    try:
        return Settings.load()
    except ValueError as exc:
        raise HeatmapError(f"bad configuration: {exc}") from None


def load_source(args: argparse.Namespace) -> tuple[Settings, Engine]:
    settings = load_settings()
    if args.source:
        settings = replace(settings, source=args.source)
    if args.cache_dir:
        settings = replace(settings, cache_dir=args.cache_dir)
    source = settings.source or str(demo_folder())
    cache_dir = None if args.no_cache else settings.cache_dir
    name = args.engine or settings.engine
    dry_run = bool(getattr(args, "show_sql", False))
    if dry_run and name == "local":
        raise HeatmapError("--show-sql prints the SQL of the athena or duckdb engine: add --engine athena")
    return settings, open_engine(name, source, settings, cache_dir, _progress, dry_run=dry_run)


def demo_folder() -> Path:
    from heatmap.demo import ensure_demo

    return ensure_demo(DEFAULT_HOME / "demo")


@dataclass(frozen=True)
class Selected:
    """A view the engine answered: what was asked (dates filled in) and its numbers."""

    catalog: Catalog
    spec: ViewSpec
    nums: Numbers

    @property
    def page(self) -> str:
        return str(self.spec.page)

    @property
    def start(self) -> date:
        assert self.spec.start is not None
        return self.spec.start

    @property
    def end(self) -> date:
        assert self.spec.end is not None
        return self.spec.end

    @property
    def where(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.spec.where.items()}


def view_dates(args: argparse.Namespace, catalog: Catalog) -> tuple[date, date]:
    """--from/--to, or the app's default period (the last days with data)."""
    if not catalog.days:
        raise DataError(f"no export rows found in {catalog.source}")
    end = args.end or catalog.days[-1]
    start = args.start or last_days(end, catalog.days[0])[0]
    return start, end


def select_view(args: argparse.Namespace, engine: Engine, templates: Templates) -> Selected:
    """The view `--page` (a path, or a page template's name), `--from`/`--to` and `--where` name."""
    catalog = engine.catalog
    start, end = view_dates(args, catalog)
    where = parse_where(catalog.segments, args.where)
    where_spec = {k: tuple(v) for k, v in where.items()}
    spec = ViewSpec(page=args.page, start=start, end=end, where=where_spec, layer=args.layer)
    nums = numbers(engine, spec, templates)
    if not nums.has_rows:
        pages = ", ".join(page for page, _ in catalog.pages()[:5]) or "none"
        names = [rule.name for rule in templates.rules] + [n for n in catalog.declared if not templates.named(n)]
        named = f"; templates: {', '.join(names)}" if names else ""
        raise DataError(
            f"no data for page {args.page!r} from {start} to {end} with that segment; busiest pages: {pages}{named}"
        )
    return Selected(catalog, spec, nums)


def _print(payload: dict[str, Any], as_json: bool) -> None:
    """Strict JSON (docs/cli.md): a NaN or infinity reaching here is a bug, refused loudly rather than printed."""
    print(json.dumps(payload, ensure_ascii=False, allow_nan=False, indent=None if as_json else 2))


def cmd_demo(args: argparse.Namespace) -> int:
    from heatmap.demo import write_demo

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise HeatmapError(f"{out} is not empty; choose a new folder for the demo data")
    root = write_demo(out)
    screenshots = sorted(str(p) for p in (root / "screenshots").glob("*.png"))
    _print({"source": str(root), "screenshots": screenshots}, args.json)
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    _settings, engine = load_source(args)
    _print(engine.catalog.coverage(), args.json)
    return 0


def cmd_bands(args: argparse.Namespace) -> int:
    if args.show_sql:
        return show_sql(args)
    settings, engine = load_source(args)
    view = select_view(args, engine, settings.templates)
    payload = view.nums.bands.to_json_dict()
    payload["ga_folded_share"] = view.nums.ga_folded
    _print(payload, args.json)
    return 0


def show_sql(args: argparse.Namespace) -> int:
    """Print the view's SQL for the Athena console and run nothing (a query not cached yet is printed instead)."""
    from heatmap.engines.athena import NotRun
    from heatmap.engines.sql_engine import SqlEngine

    try:
        settings, engine = load_source(args)
    except NotRun as missing:
        print(missing.sql)
        print("-- the winning export objects come from this query's result: run it once (e.g. `coverage --engine "
              "athena`), then --show-sql prints the view's query", file=sys.stderr)  # fmt: skip
        return 0
    assert isinstance(engine, SqlEngine)
    catalog = engine.catalog
    start, end = view_dates(args, catalog)
    queries = engine.view_queries(
        settings.templates.page(args.page, catalog.declared), start, end, parse_where(catalog.segments, args.where)
    )
    for number, query in enumerate(queries, start=1):
        if len(queries) > 1:  # too many runs for one query text: the view is the sum of the parts' rows
            print(f"-- part {number} of {len(queries)}; the view sums the parts' rows per event, band, y and x")
        print(engine.sql_text(query) + (";" if len(queries) > 1 else ""))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from heatmap.images import load_screenshot
    from heatmap.locations import check_separate, parse_location
    from heatmap.runs import save_run
    from heatmap.statistics.metrics import check_enough
    from heatmap.usecases.saving import params_for

    settings, engine = load_source(args)
    output = args.output or settings.output
    check_separate(parse_location(engine.catalog.source), parse_location(output))  # refuse before any work or write
    try:
        shot = load_screenshot(Path(args.screenshot).read_bytes(), page_shape=True)
    except OSError as exc:
        raise HeatmapError(f"cannot read the screenshot {args.screenshot}: {exc.strerror}") from None
    view = select_view(args, engine, settings.templates)
    bands = view.nums.bands
    check_enough(bands.page_views, settings.min_page_views if args.min_page_views is None else args.min_page_views)
    clicks = view.nums.clicks if args.kind == "clicks" else None
    settings_of_map = MapSettings(dpr=args.dpr, shift=int(args.shift), ramp=args.ramp, opacity=args.opacity)
    spec = replace(view.spec, kind=args.kind, display=settings_of_map)
    legend = pictures.caption(spec, view.nums, args.lang)
    alignment = settings_of_map.alignment(shot.width, shot.height)
    rendered = pictures.draw(shot.image, alignment, spec, view.nums, legend)
    params = params_for(spec, shot, args.name, args.note)
    png, thumbnail = rendered.saved()
    record = save_run(
        open_store(output, settings.s3), view.catalog.source, params, png, bands, screenshot=shot,
        clicks=clicks, exports=view.catalog.inputs(view.start, view.end), warnings=rendered.warnings, output=output,
        thumbnail=thumbnail,
    )  # fmt: skip
    for warning in rendered.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print({"run_id": record.run_id, "objects": record.objects}, args.json)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Selection A vs B of one page, per band (docs/statistics.md): every number the Compare page shows for `--type`.

    Two segments (`--a-where` / `--b-where`, over `--from`..`--to`) or two periods (`--b-from`..`--b-to`, with the
    shared `--where`). A side without data is an error; sides that can share page views get a warning on stderr.
    """
    from heatmap.statistics.compare import compare_bands

    if (args.b_start is None) != (args.b_end is None):
        raise HeatmapError("give both --b-from and --b-to (period B), or neither (B covers the dates of A)")
    settings, engine = load_source(args)
    a_args = argparse.Namespace(**{**vars(args), "where": [*args.where, *args.a_where]})
    side_a = select_view(a_args, engine, settings.templates)
    b_dates = {"start": args.b_start or side_a.start, "end": args.b_end or side_a.end}
    b_args = argparse.Namespace(**{**vars(args), **b_dates, "where": [*args.where, *args.b_where]})
    side_b = select_view(b_args, engine, settings.templates)
    if same_selection(side_a.spec, side_b.spec):
        raise HeatmapError("A and B are the same selection: add --a-where/--b-where or --b-from/--b-to")
    if can_share_page_views(side_a.spec, side_b.spec):
        print("warning: A and B can share page views; the tests assume two separate groups", file=sys.stderr)
    fdr = settings.fdr if args.fdr is None else args.fdr
    if not 0 < fdr < 1:
        raise HeatmapError(f"--fdr must be between 0 and 1, not {fdr}")
    min_views = settings.min_band_views if args.min_band_views is None else args.min_band_views
    if min_views < 2:
        raise HeatmapError(f"--min-band-views must be at least 2, not {min_views}")
    a, b = side_a.nums, side_b.nums
    comparison = compare_bands(a.bands, b.bands, fdr, clicks_a=a.clicks, clicks_b=b.clicks, min_views=min_views)

    def side(view: Selected) -> dict[str, Any]:
        return {"from": view.start.isoformat(), "to": view.end.isoformat(), "where": view.where}

    payload = comparison.cli_json(args.kind)
    payload.update(page=side_a.page, a=side(side_a), b=side(side_b))
    _print(payload, args.json)
    return 0


def cmd_flow_runs(args: argparse.Namespace) -> int:
    """The last runs of an AppFlow flow, newest first (docs/cli.md, docs/operations.md)."""
    from heatmap.flows import list_runs, make_client

    settings = load_settings()
    flow = args.flow or settings.daily_flow
    if not flow:
        raise HeatmapError("no flow given: pass --flow NAME (or set HEATMAP_DAILY_FLOW)")
    if not 1 <= args.limit <= 1000:
        raise HeatmapError(f"--limit must be between 1 and 1000, not {args.limit}")
    runs = list_runs(make_client(settings.appflow), flow, args.limit)
    _print({"flow": flow, "runs": [run.to_json() for run in runs]}, args.json)
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Pull days again through the on-demand flow: UpdateFlow (date filter), StartFlow, follow with --wait.

    A run that ends in Error is a result, not a usage error: the JSON is printed, one line goes to stderr, exit 1.
    """
    from heatmap.flows import make_client
    from heatmap.flows.backfill import BackfillProgress, backfill

    settings = load_settings()
    flow = args.flow or settings.backfill_flow
    if not flow:
        raise HeatmapError("no flow given: pass --flow NAME (or set HEATMAP_BACKFILL_FLOW)")

    shown: list[str] = []

    def progress(step: BackfillProgress) -> None:
        run = f" {step.execution_id} {step.status or ''}".rstrip() if step.execution_id else ""
        line = f"[{step.part}/{step.parts}] {step.start}..{step.end} {step.step}{run}"
        if sys.stderr.isatty() and not args.json and line not in shown[-1:]:  # a line when something changes
            shown.append(line)
            print(line, file=sys.stderr)

    result = backfill(
        make_client(settings.appflow), flow, args.start, args.end, wait=args.wait,
        first_day=settings.bounds.first_day, days_per_run=args.days_per_run,
        poll_seconds=settings.appflow.poll_seconds, timeout=args.timeout * 60, progress=progress,
    )  # fmt: skip
    _print(result.to_json(), args.json)
    failure = result.failure()
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m heatmap", description="Page heatmaps from AppFlow exports of GA4 reports.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    demo = commands.add_parser("demo", help="write the demo exports (AppFlow layout) and screenshots")
    demo.add_argument("--out", required=True, help="an empty or new folder")
    demo.add_argument("--json", action="store_true")
    demo.set_defaults(run=cmd_demo)
    coverage = commands.add_parser("coverage", help="days present, missing and re-exported; errors; exclusions")
    add_source_args(coverage)
    coverage.set_defaults(run=cmd_coverage)
    bands = commands.add_parser("bands", help="page views, scroll reach and attention per band")
    add_view_args(bands)
    bands.add_argument("--show-sql", action="store_true", help="print the view's SQL (athena, duckdb) and run nothing")
    bands.set_defaults(run=cmd_bands)
    render = commands.add_parser("render", help="draw a heatmap on a screenshot and save it as a new run")
    add_view_args(render)
    render.add_argument("--screenshot", required=True, metavar="FILE", help="PNG, JPEG or WebP of the page")
    render.add_argument("--output", help="s3://bucket/prefix/ or a folder for runs (default: HEATMAP_OUTPUT)")
    render.add_argument("--type", dest="kind", choices=KINDS, default=ViewSpec().kind)
    render.add_argument("--ramp", choices=RAMPS, default=MapSettings().ramp)
    render.add_argument("--opacity", type=_setting("opacity"), default=MapSettings().opacity)
    render.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the legend burned into the PNG")
    render.add_argument(
        "--dpr", type=_setting("dpr"), default=MapSettings().dpr, help="device-pixel ratio of the screenshot"
    )
    render.add_argument(
        "--shift", type=_setting("shift"), default=MapSettings().shift, help="move the data down by this many CSS px"
    )
    render.add_argument("--min-page-views", type=int, help="low-data guard (default: HEATMAP_MIN_PAGE_VIEWS, 100)")
    render.add_argument("--name", default="", help="what to call the saved run (Saved runs lists it by this)")
    render.add_argument("--note", default="", help="why it was saved, what to look at")
    render.set_defaults(run=cmd_render)
    comp = commands.add_parser("compare", help="A vs B per band: the tested differences of the Compare page")
    add_view_args(comp)
    comp.add_argument("--type", dest="kind", choices=KINDS, default=CompareView().kind)
    comp.add_argument("--a-where", action="append", default=[], metavar="DIM=VALUE", help="segment A (repeatable)")
    comp.add_argument("--b-where", action="append", default=[], metavar="DIM=VALUE", help="segment B (repeatable)")
    comp.add_argument("--b-from", dest="b_start", type=_iso_date, help="period B: first day (default: A's dates)")
    comp.add_argument("--b-to", dest="b_end", type=_iso_date, help="period B: last day")
    comp.add_argument("--fdr", type=float, help="Benjamini–Hochberg false discovery rate (default: HEATMAP_FDR, 0.05)")
    comp.add_argument(
        "--min-band-views", type=int, help="attention: page views per band and side to test (default: 30)"
    )
    comp.set_defaults(run=cmd_compare)
    capture = commands.add_parser("capture", help="capture a page of the site as the screenshot (docs/capture.md)")
    add_source_args(capture)
    target = capture.add_mutually_exclusive_group(required=True)
    target.add_argument("--page", help="a page path on HEATMAP_SITE_URL, or a page template (its busiest path)")
    target.add_argument("--url", help="the full URL (its host must be on HEATMAP_CAPTURE_HOSTS)")
    capture.add_argument("--width", type=int, required=True, metavar="CSS_PX", help="the layout's CSS width")
    capture.add_argument("--dpr", type=int, choices=(1, 2), default=1, help="device pixel ratio of the picture")
    capture.add_argument("--output", help="s3://bucket/prefix/ or a folder (default: HEATMAP_OUTPUT)")
    capture.set_defaults(run=cmd_capture)
    # AppFlow operations (docs/operations.md): the runs of a flow, and backfilling days through the on-demand flow.
    flow_runs = commands.add_parser("flow-runs", help="the last runs of an AppFlow flow, newest first")
    flow_runs.add_argument("--flow", help="flow name (default: HEATMAP_DAILY_FLOW)")
    flow_runs.add_argument("--limit", type=int, default=10, help="how many runs (default 10)")
    flow_runs.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    flow_runs.set_defaults(run=cmd_flow_runs)
    fill = commands.add_parser("backfill", help="pull days again through the on-demand AppFlow flow")
    fill.add_argument("--flow", help="the on-demand flow (default: HEATMAP_BACKFILL_FLOW)")
    fill.add_argument("--from", dest="start", type=_iso_date, required=True, help="first day, YYYY-MM-DD")
    fill.add_argument("--to", dest="end", type=_iso_date, required=True, help="last day, YYYY-MM-DD")
    fill.add_argument("--wait", action="store_true", help="follow the (last) run until Successful or Error")
    fill.add_argument("--days-per-run", type=int, default=30, help="split longer ranges into runs of N days (1-30)")
    fill.add_argument("--timeout", type=float, default=120, help="minutes to follow one run (default 120)")
    fill.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    fill.set_defaults(run=cmd_backfill)
    route = commands.add_parser("plan", help="which route fits: GA4's report or the event route through BigQuery")
    add_source_args(route)
    route.add_argument("--page-views-per-day", type=float, help="stated traffic (default: the source's average)")
    route.add_argument("--pages", type=int, help="pages with traffic (default: the source's)")
    route.add_argument("--depth", type=float, default=5000.0, help="typical page height, CSS px (default 5000)")
    route.add_argument("--clicks-per-view", type=float, default=1.0, help="clicks per page view (default 1)")
    route.set_defaults(run=cmd_plan)
    return parser


def cmd_capture(args: argparse.Namespace) -> int:
    """Capture a page of the site at a layout's CSS width into the output store (docs/capture.md); a template's
    name captures its busiest path, and says which."""
    from heatmap.capture import capture_and_store

    settings = load_settings()
    capture = settings.capture
    if not capture.enabled and settings.uses_demo:  # the demo captures its own pages, served on loopback
        from heatmap.demo_site import demo_capture

        capture = demo_capture(capture.limits)
    if not capture.enabled:
        raise HeatmapError("no capture hosts: set HEATMAP_CAPTURE_HOSTS (docs/capture.md) to allow the site's host")
    page, template = args.page, None
    if page is not None and not page.startswith("/"):
        _settings, engine = load_source(args)
        catalog = engine.catalog
        paths = settings.templates.group(catalog.page_views, catalog.declared).get(page, ())
        if not paths:
            raise DataError(f"{page!r} is neither a page path (starting with /) nor a page template with data")
        page, template = paths[0][0], args.page
    url = args.url or capture.url_of(page)
    output = args.output or settings.output
    if settings.source:  # the source is read-only: never write a capture into it
        from heatmap.locations import check_separate, parse_location

        check_separate(parse_location(settings.source), parse_location(output))
    stored = capture_and_store(capture, url, args.width, args.dpr, open_store(output, settings.s3))
    payload = {"key": stored.key, "sha256": stored.sha256, "output": output, **stored.captured.provenance()}
    if template:
        payload["template"], payload["path"] = template, page
    _print(payload, args.json)
    if template and not args.json:
        print(f"captured {page}, the busiest path of {template!r}", file=sys.stderr)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from heatmap.plan import Traffic, plan

    page_views, pages = args.page_views_per_day, args.pages
    if args.source or page_views is None or pages is None:
        _settings, engine = load_source(args)
        catalog = engine.catalog
        if not catalog.days:
            raise DataError(f"no export rows found in {catalog.source}")
        if page_views is None:
            page_views = sum(catalog.page_views.values()) / len(catalog.days)
        if pages is None:
            pages = len(catalog.page_views)
    if page_views <= 0 or pages <= 0 or args.depth <= 0 or args.clicks_per_view < 0:
        raise HeatmapError("--page-views-per-day, --pages and --depth must be positive, --clicks-per-view not negative")
    traffic = Traffic(page_views, int(pages), args.depth, args.clicks_per_view)
    payload = plan(traffic)
    if args.json:
        _print(payload, True)
    else:
        print(f"{payload['route']} route: {payload['why']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    allocator.pin_mmap_threshold()  # full-size renders one after another: freed buffers go back
    try:
        return int(args.run(args))
    except HeatmapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("HEATMAP_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (set HEATMAP_DEBUG=1 for details)", file=sys.stderr)
        return 3
