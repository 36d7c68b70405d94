"""`python -m heatmap`: the headless twin of the app (DESIGN §10). Bad input: one line on stderr, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NoReturn

from heatmap.config import DEFAULT_HOME, Settings
from heatmap.drawing.captions import LANGUAGES, legend_text
from heatmap.engines.base import Engine
from heatmap.errors import DataError, HeatmapError
from heatmap.ingest.build import load_dataset, shared_store_for
from heatmap.ingest.catalog import Catalog
from heatmap.query import parse_where
from heatmap.stores import open_store
from heatmap.table import ViewSums


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(2)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\rloading exports: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)


def add_source_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="s3://bucket/prefix/ or a folder (default: HEATMAP_SOURCE, else the demo)")
    parser.add_argument("--cache-dir", help="columnar cache folder (default: HEATMAP_CACHE_DIR)")
    parser.add_argument("--no-cache", action="store_true", help="parse every export again")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def add_view_args(parser: argparse.ArgumentParser) -> None:
    add_source_args(parser)
    parser.add_argument("--page", required=True, help="page path as exported, e.g. /pricing")
    parser.add_argument("--from", dest="start", type=_iso_date, help="first day, YYYY-MM-DD (default: 28 days)")
    parser.add_argument("--to", dest="end", type=_iso_date, help="last day, YYYY-MM-DD (default: last day with data)")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="DIM=VALUE",
        help="segment filter, e.g. deviceCategory=mobile (aliases: device, channel, visitor); repeatable",
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
    engine = load_dataset(
        open_store(source, settings.s3),
        settings.fields,
        cache_dir=cache_dir,
        progress=_progress,
        bounds=settings.bounds,
        shared=shared_store_for(settings, source),
    )
    return settings, engine


def demo_folder() -> Path:
    from heatmap.demo import ensure_demo

    return ensure_demo(DEFAULT_HOME / "demo")


@dataclass(frozen=True)
class View:
    catalog: Catalog
    page: str
    start: date
    end: date
    where: dict[str, list[str]]
    sums: ViewSums


def select_view(args: argparse.Namespace, engine: Engine) -> View:
    catalog = engine.catalog
    if not catalog.days:
        raise DataError(f"no export rows found in {catalog.source}")
    end = args.end or catalog.days[-1]
    start = args.start or max(catalog.days[0], end - timedelta(days=27))
    where = parse_where(catalog.segments, args.where)
    sums = engine.view(args.page, start, end, where)
    if sums.is_empty:
        pages = ", ".join(page for page, _ in catalog.pages()[:5]) or "none"
        raise DataError(
            f"no data for page {args.page!r} from {start} to {end} with that segment; busiest pages: {pages}"
        )
    return View(catalog, args.page, start, end, where, sums)


def _print(payload: dict[str, Any], as_json: bool) -> None:
    """Strict JSON (DESIGN §10): a NaN or infinity reaching here is a bug, refused loudly rather than printed."""
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
    from heatmap.statistics.metrics import band_table

    _settings, engine = load_source(args)
    view = select_view(args, engine)
    _print(band_table(view.sums).to_json_dict(), args.json)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from heatmap.drawing.render import Alignment, Caption, Display, render_map
    from heatmap.images import load_screenshot
    from heatmap.locations import check_separate, parse_location
    from heatmap.runs import RunParams, save_run
    from heatmap.statistics.metrics import band_table, check_enough, click_grid

    settings, engine = load_source(args)
    output = args.output or settings.output
    check_separate(parse_location(engine.catalog.source), parse_location(output))  # refuse before any work or write
    try:
        shot = load_screenshot(Path(args.screenshot).read_bytes())
    except OSError as exc:
        raise HeatmapError(f"cannot read the screenshot {args.screenshot}: {exc.strerror}") from None
    view = select_view(args, engine)
    bands = band_table(view.sums)
    check_enough(bands.page_views, settings.min_page_views if args.min_page_views is None else args.min_page_views)
    clicks = click_grid(view.sums, bands.page_views) if args.kind == "clicks" else None
    display = Display(kind=args.kind, ramp=args.ramp, opacity=args.opacity)
    alignment = Alignment(dpr=args.dpr, shift_px=args.shift)
    everyone = legend_text(args.lang, "all_visitors")
    segment = "; ".join(f"{k}={'|'.join(v)}" for k, v in view.where.items()) or everyone
    caption = Caption(view.page, view.start.isoformat(), view.end.isoformat(), segment, bands.page_views,
                      clicks.total if clicks else None, language=args.lang)  # fmt: skip
    rendered = render_map(shot.image, display, caption, bands, clicks, alignment)
    params = RunParams(view.page, view.start, view.end, view.where, display, alignment)
    record = save_run(
        open_store(output, settings.s3), view.catalog.source, params, rendered.png(), bands, screenshot=shot,
        clicks=clicks, exports=view.catalog.inputs(view.start, view.end), warnings=rendered.warnings, output=output,
    )  # fmt: skip
    for warning in rendered.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print({"run_id": record.run_id, "objects": record.objects}, args.json)
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
    bands.set_defaults(run=cmd_bands)
    render = commands.add_parser("render", help="draw a heatmap on a screenshot and save it as a new run")
    add_view_args(render)
    render.add_argument("--screenshot", required=True, metavar="FILE", help="PNG, JPEG or WebP of the page")
    render.add_argument("--output", help="s3://bucket/prefix/ or a folder for runs (default: HEATMAP_OUTPUT)")
    render.add_argument("--type", dest="kind", choices=("attention", "reach", "clicks"), default="attention")
    render.add_argument("--ramp", choices=("classic", "viridis", "cividis"), default="classic")
    render.add_argument("--opacity", type=float, default=0.6)
    render.add_argument("--lang", choices=LANGUAGES, default="en", help="language of the legend burned into the PNG")
    render.add_argument("--dpr", type=float, default=1.0, help="device-pixel ratio of the screenshot")
    render.add_argument("--shift", type=float, default=0.0, help="move the data down by this many CSS px")
    render.add_argument("--min-page-views", type=int, help="low-data guard (default: HEATMAP_MIN_PAGE_VIEWS, 100)")
    render.set_defaults(run=cmd_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
