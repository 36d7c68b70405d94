"""Engines benchmark (docs/engines.md): the local engine against the DuckDB engine (the Athena SQL run here).

    .venv/bin/python benchmarks/engines.py --data /work/bench-data/large-25241885    # a source folder
    .venv/bin/python benchmarks/engines.py --quick                                   # a small generated one (CI)

For each engine, in its own process (so peak RSS is its own): opening the source as it was before its last run
(catalog; the local engine's parts are built first, untimed, as a server that has run before has them), opening
it again once that run has landed (what each morning costs; the SQL engines read only what changed), the
first view of the busiest page,
a change to another page, and a segment change on that page. Also the bytes an Athena view would scan: the
objects of the run-date folders it names, whole. Each figure twice: on the JSON Lines source and on the same rows
as Parquet (what the shipped flows can write), with the local engine's first ingest of each and the ratios.
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
    from heatmap.ingest.build import list_exports
    from heatmap.statistics.metrics import band_table
    from heatmap.stores import LocalStore
    from heatmap.usecases.sources import open_engine

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
    timings["peak_rss_mb"] = own_peak_mb()
    if hasattr(engine, "scanned_bytes"):  # the SQL engines: what the same view would read on Athena
        for days in (1, 7, 30, len(catalog.days)):
            read, _total = engine.scanned_bytes(max(start, end - timedelta(days=days - 1)), end)
            timings[f"athena_{days}"] = read
    return timings


def own_peak_mb() -> float:
    """This process's peak RSS since its exec (VmHWM). Not ru_maxrss: Linux keeps that across exec, so a child
    would report the parent's peak whenever the parent's was higher."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    sources = {"json": source, "parquet": as_parquet(Path(source), work / "parquet-exports")}
    sizes = {
        shape: sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        for shape, folder in sources.items()
    }
    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore

    results: dict[str, dict[str, dict[str, float]]] = {}
    for shape, folder in sources.items():
        started = time.perf_counter()
        load_dataset(
            LocalStore(folder), cache_dir=work / "caches" / shape / "local"
        )  # parts built once, as on a server that ran before
        ingest = time.perf_counter() - started
        results[shape] = {name: run(name, folder, str(work / "caches" / shape / name)) for name in ("local", "duckdb")}
        results[shape]["local"]["ingest_s"] = ingest
    print(
        f"source: {source}; {sizes['json'] / 1e6:,.0f} MB of JSON Lines, the same rows as {sizes['parquet'] / 1e6:,.0f} MB of Parquet"
    )
    for shape, folder in sources.items():
        print(f"\n{shape}: {folder}")
        print(f"{'figure':24s} {'local':>10s} {'duckdb':>10s}  duckdb/local")
        for key in (
            "open_s",
            "open_after_a_new_run_s",
            "first_view_s",
            "page_change_s",
            "segment_change_s",
            "peak_rss_mb",
        ):
            local, duck = results[shape]["local"][key], results[shape]["duckdb"][key]
            print(f"{key:24s} {local:10.2f} {duck:10.2f}  {duck / max(local, 1e-9):8.1f}x")
    print(f"\n{'figure':34s} {'json':>10s} {'parquet':>10s}  parquet/json")
    for engine, key in (
        ("local", "ingest_s"),
        ("duckdb", "open_s"),
        ("duckdb", "first_view_s"),
        ("duckdb", "page_change_s"),
        ("duckdb", "peak_rss_mb"),
    ):
        a, b = results["json"][engine][key], results["parquet"][engine][key]
        print(f"{engine + ' ' + key:34s} {a:10.2f} {b:10.2f}  {b / max(a, 1e-9):8.2f}x")
    for shape in sources:
        total = sizes[shape]
        for key, when in (("catalog_scan", "from scratch"), ("catalog_scan_after_a_new_run", "after a new run")):
            read = results[shape]["duckdb"][key]
            print(
                f"{shape}: bytes Athena's catalog queries scan {when}: {read / 1e6:9.2f} MB = ${read / 1e12 * 5:.5f} "
                f"at $5/TB ({read / total:.1%} of the exports)"
            )
        scans = {int(k.split("_")[1]): v for k, v in results[shape]["duckdb"].items() if k.startswith("athena_")}
        for days, read in sorted(scans.items()):
            print(
                f"{shape}: bytes an Athena view of the last {days:3d} days scans with run-date folders: "
                f"{read / 1e6:9.2f} MB = ${read / 1e12 * 5:.5f} at $5/TB ({read / total:.0%} of the exports)"
            )
        print(f"{shape}: without run-date folders every view scans all exports: {total / 1e6:.2f} MB = "
              f"${total / 1e12 * 5:.5f}")  # fmt: skip


def as_parquet(source: Path, out: Path) -> str:
    """The same exports as a flow set to Parquet writes them: one file per JSON Lines file, same folder and time,
    string columns (the GA4 connector types every field as a string). A view reads every column of these files
    (each is a field the SQL needs), so Athena's bill for a Parquet view is its files' compressed size."""
    import os

    import polars as pl

    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        frame = pl.read_ndjson(path, infer_schema_length=None)
        target = (out / path.relative_to(source)).with_suffix(".parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.cast(pl.String).write_parquet(target)
        os.utime(target, (path.stat().st_atime, path.stat().st_mtime))
    return str(out)


if __name__ == "__main__":
    main()
