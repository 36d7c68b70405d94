"""Engines benchmark (DESIGN §13): the local engine against the DuckDB engine (the Athena SQL run here).

    .venv/bin/python benchmarks/engines.py --data /work/bench-data/large-25241885    # a source folder
    .venv/bin/python benchmarks/engines.py --quick                                   # a small generated one (CI)

For each engine, in its own process (so peak RSS is its own): opening the source as it was before its last run
(catalog; the local engine's parts are built first, untimed, as a server that has run before has them), opening
it again once that run has landed (what each morning costs; the SQL engines read only what changed), the
first view of the busiest page,
a change to another page, and a segment change on that page. Also the bytes an Athena view would scan: the JSON
of every export object (the table reads its flows in full; results are cached per view afterwards).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(engine_name: str, source: str, cache: str) -> dict[str, float]:
    from heatmap.config import Settings
    from heatmap.engines import open_engine
    from heatmap.ingest.build import list_exports
    from heatmap.statistics.metrics import band_table
    from heatmap.stores import LocalStore

    settings = Settings(source=source, cache_dir=cache)
    listing = list_exports(LocalStore(source))
    last_run = max(o.key.split("/")[1:4] for o in listing)  # <flow>/<yyyy>/<mm>/<dd>/: the day a flow ran
    before = [o for o in listing if o.key.split("/")[1:4] < last_run]  # the source as it was the day before
    started = time.perf_counter()
    engine = open_engine(engine_name, source, settings, cache, objects=before)
    timings = {"open_s": time.perf_counter() - started}
    scans = [engine.scope_bytes(scope) for scope in getattr(engine, "catalog_scopes", [])]
    started = time.perf_counter()
    engine = open_engine(engine_name, source, settings, cache, objects=listing)  # the next morning's run landed
    timings["open_after_a_new_run_s"] = time.perf_counter() - started
    if hasattr(engine, "catalog_scopes"):  # the SQL engines: what building the catalog read (Athena's bill)
        timings["catalog_scan"] = sum(scans)
        timings["catalog_scan_after_a_new_run"] = sum(engine.scope_bytes(s) for s in engine.catalog_scopes)
    catalog = engine.catalog
    pages = [page for page, _ in catalog.pages()]
    start, end = catalog.days[0], catalog.days[-1]
    for label, page, where in (
        ("first_view_s", pages[0], {}),
        ("page_change_s", pages[min(100, len(pages) - 1)], {}),
        ("segment_change_s", pages[min(100, len(pages) - 1)], {"deviceCategory": ["mobile"]}),
    ):
        started = time.perf_counter()
        band_table(engine.view(page, start, end, where))
        timings[label] = time.perf_counter() - started
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if hasattr(engine, "scanned_bytes"):  # the SQL engines: what the same view would read on Athena
        for days in (1, 7, 30, len(catalog.days)):
            read, _total = engine.scanned_bytes(max(start, end - timedelta(days=days - 1)), end)
            timings[f"athena_{days}"] = read
    return timings


def run(engine_name: str, source: str, cache: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", engine_name, "--data", source, "--cache", cache],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="a source folder of AppFlow JSON Lines exports")
    parser.add_argument("--quick", action="store_true", help="a small generated source (CI)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.data, args.cache)))
        return
    work = Path(tempfile.mkdtemp(prefix="engines-bench-"))
    source = args.data
    if not source:
        from ingest import generate

        source = str(work / "exports")
        generate(Path(source), 40 if args.quick else 400)
    json_bytes = sum(p.stat().st_size for p in Path(source).rglob("*") if p.is_file())
    from heatmap.ingest.build import load_dataset
    from heatmap.stores import LocalStore

    load_dataset(LocalStore(source), cache_dir=work / "local")  # parts built once, as on a server that ran before
    results = {name: run(name, source, str(work / name)) for name in ("local", "duckdb")}
    print(f"source: {source}, {json_bytes / 1e6:,.0f} MB of JSON")
    print(f"{'figure':24s} {'local':>10s} {'duckdb':>10s}  duckdb/local")
    for key in ("open_s", "open_after_a_new_run_s", "first_view_s", "page_change_s", "segment_change_s", "peak_rss_mb"):
        local, duck = results["local"][key], results["duckdb"][key]
        print(f"{key:24s} {local:10.2f} {duck:10.2f}  {duck / max(local, 1e-9):8.1f}x")
    for key, when in (("catalog_scan", "from scratch"), ("catalog_scan_after_a_new_run", "after a new run")):
        read = results["duckdb"][key]
        print(
            f"bytes Athena's catalog queries scan {when}: {read / 1e9:6.2f} GB = ${read / 1e12 * 5:.4f} at $5/TB "
            f"({read / json_bytes:.1%} of the exports)"
        )
    scans = {int(k.split("_")[1]): v for k, v in results["duckdb"].items() if k.startswith("athena_")}
    for days, read in sorted(scans.items()):
        print(
            f"bytes an Athena view of the last {days:3d} days scans with run-date folders: {read / 1e9:6.2f} GB "
            f"= ${read / 1e12 * 5:.4f} at $5/TB ({read / json_bytes:.0%} of the exports)"
        )
    print(f"without run-date folders every view scans all exports: {json_bytes / 1e9:.2f} GB = "
          f"${json_bytes / 1e12 * 5:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
