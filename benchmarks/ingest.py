"""Ingest benchmark (docs/performance.md): cold parse vs pandas.read_json(lines=True), warm re-open, peak memory.

    .venv/bin/python benchmarks/ingest.py              # about 1 GB of JSON Lines
    .venv/bin/python benchmarks/ingest.py --quick      # about 40 MB, for CI
    .venv/bin/python benchmarks/ingest.py --one-core   # also both whole processes on one CPU: the ratio per core

Each phase runs in its own process so its peak RSS is its own. Budgets: cold ≥ 10x read_json and
≥ 250 MB/s; warm re-open ≥ 20x faster than cold; peak memory growth ≤ 3x the canonical table.

Also whole processes, start to exit, as a user meets them (issue "Memory follows the view"): a cold
`python -m heatmap coverage` against `pandas.read_json(lines=True, dtype=False)` + concat of the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FILE_MB = 48


def generate(folder: Path, target_mb: int, seed: int = 7) -> int:
    """Day-by-day executions of realistic GA4 records (string values, `customEvent:` keys), split into files."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    pages = [f"/jobs/{i}" for i in range(60)] + ["/", "/pricing", "/求人/detail"]
    devices, channels = (
        ["desktop", "mobile", "tablet"],
        ["Organic Search", "Direct", "Paid Search", "Referral", "Email"],
    )
    rows_per_mb = 3000
    days = max(3, min(90, target_mb // 11))
    per_day = target_mb * rows_per_mb // days
    total = 0
    for offset in range(days):
        day = date(2026, 1, 1) + timedelta(days=offset)
        dwell = rng.random(per_day) < 0.7
        band = rng.integers(0, 120, per_day)
        frame = pl.DataFrame(
            {
                "date": [day.strftime("%Y%m%d")] * per_day,
                "pagePath": rng.choice(pages, per_day),
                "eventName": np.where(dwell, "hm_dwell", "hm_click"),
                "customEvent:hm_band": np.where(dwell, np.char.zfill(band.astype(str), 3), "(not set)"),
                "customEvent:hm_x": np.where(dwell, "(not set)", rng.integers(0, 100, per_day).astype(str)),
                "customEvent:hm_y": np.where(dwell, "(not set)", rng.integers(0, 600, per_day).astype(str)),
                "deviceCategory": rng.choice(devices, per_day),
                "sessionDefaultChannelGroup": rng.choice(channels, per_day),
                "newVsReturning": rng.choice(["new", "returning"], per_day),
                "eventCount": rng.integers(1, 400, per_day).astype(str),
                "customEvent:hm_seconds": np.where(dwell, np.round(rng.gamma(2, 300, per_day), 1).astype(str), "0"),
            }
        )
        execution = folder / "flow" / day.strftime("%Y/%m/%d") / f"{offset:08x}-0000-4000-8000-000000000000"
        execution.mkdir(parents=True, exist_ok=True)
        chunk = FILE_MB * rows_per_mb
        for part, start in enumerate(range(0, per_day, chunk)):
            path = execution / f"part-{part:05d}.jsonl"
            frame.slice(start, chunk).write_ndjson(path)
            total += path.stat().st_size
    return total


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def phase(name: str, data: Path, cache: Path) -> dict[str, float]:
    """One measured step in this process: its time, its peak RSS and its RSS before it started."""
    import polars as pl  # noqa: F401 - imported before the baseline RSS is read

    from heatmap.engines.local import load_dataset
    from heatmap.stores import LocalStore

    files = sorted(data.rglob("*.jsonl"))
    base = _rss_mb()
    started = time.perf_counter()
    result: dict[str, float] = {}
    if name == "resident":
        # What the app holds once loaded: the catalog from the cache and one view (the busiest page) computed.
        from heatmap.statistics.metrics import band_table

        engine = load_dataset(LocalStore(data), cache_dir=cache)
        page = engine.catalog.pages()[0][0]
        band_table(engine.view(page, engine.catalog.days[0], engine.catalog.days[-1]))
        result["rows"] = sum(engine.catalog.rows_per_day.values())
        result["rss_now_mb"] = _rss_mb()
    elif name == "pandas":
        import pandas as pd

        rows = 0
        for path in files:
            rows += len(pd.read_json(path, lines=True))
        result["rows"] = rows
    else:
        engine = load_dataset(LocalStore(data), cache_dir=None if name == "nocache" else cache)
        result["rows"] = sum(engine.catalog.rows_per_day.values())
        result["store_mb"] = engine.parts.size_bytes() / 1e6
    result["seconds"] = time.perf_counter() - started
    result["rss_base_mb"] = base
    result["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


POLARS_PARSE_ONLY = """
import sys, polars as pl
names = ["date", "pagePath", "eventName", "customEvent:hm_band", "customEvent:hm_x", "customEvent:hm_y",
         "deviceCategory", "sessionDefaultChannelGroup", "newVsReturning", "eventCount", "customEvent:hm_seconds"]
print(sum(pl.read_ndjson(path, schema=dict.fromkeys(names, pl.String)).height for path in sys.argv[1:]))
"""

PANDAS_WHOLE = """
import sys, pandas as pd
frames = [pd.read_json(path, lines=True, dtype=False) for path in sys.argv[1:]]
print(len(pd.concat(frames, ignore_index=True)))
"""


def whole_process(cmd: list[str], home: Path, cpus: str | None = None) -> float:
    """Seconds from start to exit of `cmd`, with no HEATMAP_* setting but a home of its own; pinned to the CPUs
    `cpus` (taskset's list, e.g. "0") when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEATMAP_")}
    if cpus is not None:
        cmd = ["taskset", "-c", cpus, *cmd]
        env["POLARS_MAX_THREADS"] = str(len(cpus.split(",")))
    env.update({"HEATMAP_HOME": str(home), "HEATMAP_OUTPUT": str(home / "out"), "HEATMAP_SHARED_STORE": "off"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def _one_core_lines(cli: float, pandas: float, pandas_two: float, ceiling: tuple[float, float]) -> list[str]:
    """Per core, and the ceiling: a process that only parses the JSON (polars.read_ndjson), nothing else."""
    return [
        f"whole processes on one CPU (taskset -c 0): coverage {cli:.2f} s, pandas {pandas:.2f} s; "
        f"ratio per core {pandas / cli:.2f}x",
        f"a process that only parses the JSON (polars.read_ndjson, no checks, no parts): {ceiling[0]:.2f} s = "
        f"{pandas_two / ceiling[0]:.1f}x pandas on all CPUs, {ceiling[1]:.2f} s = {pandas / ceiling[1]:.1f}x on one",
    ]


def run_phase(name: str, data: Path, cache: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", name, "--data", str(data), "--cache", str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="about 40 MB (CI)")
    parser.add_argument(
        "--one-core", action="store_true", help="also both whole processes pinned to one CPU: the ratio per core"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--data", help="reuse exports already generated in this folder")
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, Path(args.data), Path(args.cache))))
        return
    work = Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    try:
        data = Path(args.data) if args.data else work / "exports"
        if not args.data:
            size = generate(data, 40 if args.quick else args.size_mb)
        else:
            size = sum(p.stat().st_size for p in data.rglob("*.jsonl"))
        mb = size / 1e6
        cache = work / "cache"
        cold = run_phase("cold", data, cache)  # parses everything and fills the cache
        warm = run_phase("warm", data, cache)  # same exports, cache present
        resident = run_phase("resident", data, cache)
        pandas = run_phase("pandas", data, cache)
        files = [str(path) for path in sorted(data.rglob("*.jsonl"))]
        cli = [sys.executable, "-m", "heatmap", "coverage", "--source", str(data), "--json"]
        cli_cold = whole_process([*cli, "--cache-dir", str(work / "cli-cache")], work / "home")
        pandas_whole = whole_process([sys.executable, "-c", PANDAS_WHOLE, *files], work / "home")
        if args.one_core:
            one_cli = whole_process([*cli, "--cache-dir", str(work / "cli-cache-1")], work / "home", cpus="0")
            one_pandas = whole_process([sys.executable, "-c", PANDAS_WHOLE, *files], work / "home", cpus="0")
            parse_only = [sys.executable, "-c", POLARS_PARSE_ONLY, *files]  # the JSON tokenizer alone: the ceiling
            ceiling = (whole_process(parse_only, work / "home"), whole_process(parse_only, work / "home", cpus="0"))
        growth = cold["rss_peak_mb"] - cold["rss_base_mb"]
        cold_rate, pandas_rate = mb / cold["seconds"], mb / pandas["seconds"]
        lines = [
            f"exports: {mb:,.0f} MB JSON Lines in {len(list(data.rglob('*.jsonl')))} files, {pandas['rows']:,.0f} records",
            f"canonical rows: {cold['rows']:,.0f}; parts on disk {cold['store_mb']:.1f} MB"
            f" = {cold['store_mb'] / mb:.2f}x the JSON   (budget <= 0.5x)",
            f"cold ingest:  {cold['seconds']:.2f} s = {cold_rate:,.0f} MB/s   (budget >= 250 MB/s)",
            f"pandas.read_json(lines=True): {pandas['seconds']:.2f} s = {pandas_rate:,.0f} MB/s",
            f"ratio cold / pandas: {cold_rate / pandas_rate:.1f}x   (budget >= 10x)",
            f"whole processes: `python -m heatmap coverage` cold {cli_cold:.2f} s = {mb / cli_cold:,.0f} MB/s; "
            f"pandas.read_json(lines=True, dtype=False) + concat {pandas_whole:.2f} s; "
            f"ratio {pandas_whole / cli_cold:.1f}x   (budget >= 10x)",
            *(_one_core_lines(one_cli, one_pandas, pandas_whole, ceiling) if args.one_core else []),
            f"warm re-open: {warm['seconds'] * 1000:.0f} ms; ratio cold / warm: {cold['seconds'] / warm['seconds']:.0f}x"
            "   (budget >= 20x)",
            f"peak RSS growth during cold ingest: {growth:,.0f} MB for {mb:,.0f} MB of JSON (streams object by object;"
            f" process baseline {cold['rss_base_mb']:.0f} MB)",
            f"resident after opening from the catalog and computing one view of the busiest page: "
            f"{resident['rss_now_mb']:,.0f} MB RSS, peak {resident['rss_peak_mb']:,.0f} MB   (app budget < 1 GB)",
        ]
        print("\n".join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", str(os.cpu_count() or 2))
    main()
