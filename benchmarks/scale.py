"""Scale benchmark (docs/contract.md, docs/performance.md, docs/engines.md, issue "Memory follows the view"): 2.5 M vs 25 M export rows.

    .venv/bin/python benchmarks/scale.py --data /work/bench-data    # 2.5 M and 25 M rows (about 0.9 + 9 GB JSON)
    .venv/bin/python benchmarks/scale.py --quick                     # 0.2 M and 2 M rows in a temp folder (CI)

Same 3,000 pages with Zipf-like traffic (the busiest page holds about 11 % of the rows) at both sizes; the
large source has 10x the days. Everything is measured through stable public entry points only, each in its own
process, so the figures mean the same before and after the data layer changes:

- `python -m heatmap coverage --source S --cache-dir C --json`: cold (empty C) and warm (same C again);
- `python -m heatmap bands ... --page P --from FIRST --to LAST --json`, warm, for the busiest page and a
  mid-traffic page (rank 100);
- the app (`streamlit run streamlit_app.py`, driven by chromium) with three pages' Explore links opened one
  after the other: the server's resident memory (children included) after each;
- a fresh server with a shared store: HEATMAP_SHARED_STORE=on, `coverage` once with cache dir A (fills
  <output>/store/), then `bands` with a new empty cache dir B and the same output, against `bands` with an empty
  cache and HEATMAP_SHARED_STORE=off (parse all the JSON again);
- baseline: pandas.read_json(lines=True, dtype=False) + concat of a ~600 MB subset of the same files.

Peak RSS of a process is its own (os.wait4 rusage of that child), not the maximum over all children so far.
Figures are printed with the issue's budgets next to them; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

FILE_MB = 48
PAGES = 3_000
ZIPF = 1.0  # page i gets weight 1/(i+1)^ZIPF: the busiest of 3,000 pages holds about 11.5 % of the rows
MID_RANK = 100
TAIL_RANK = 1_000
LAST_DAY = date(2026, 11, 29)
DEVICES = ("desktop", "mobile", "tablet")
CHANNELS = ("Organic Search", "Direct", "Paid Search", "Referral", "Email", "Organic Social", "Unassigned")
VISITORS = ("new", "returning")
MAX_BAND = 150
MAX_Y = 750  # click y is CSS px / 20: 750 = 15,000 px, the height of band 150
DWELL_SHARE = 0.7
VIEWS_PER_ROW = 2.5  # page views per export row over the whole site: 80,645 rows a day = about 200,000 views
GENERATOR_VERSION = 2
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass(frozen=True)
class Size:
    name: str
    days: int
    rows_per_day: int

    @property
    def first_day(self) -> date:
        return LAST_DAY - timedelta(days=self.days - 1)

    @property
    def rows(self) -> int:
        return self.days * self.rows_per_day


FULL = (Size("small", 31, 80_645), Size("large", 313, 80_645))  # 2.5 M and 25.2 M rows
QUICK = (Size("small", 31, 6_452), Size("large", 313, 6_452))  # 0.2 M and 2.0 M rows


def page_paths() -> list[str]:
    return ["/"] + [f"/articles/{i:04d}-how-we-choose-the-right-plan" for i in range(1, PAGES)]


def page_weights() -> Any:
    import numpy as np

    weights = 1.0 / np.arange(1, PAGES + 1) ** ZIPF
    return weights / weights.sum()


# ---------------------------------------------------------------------------------------------------------------
# Data: one execution per day, GA4 JSON Lines in the AppFlow layout, every value a string.


def day_frame(day: date, rows: int, seed: int) -> Any:
    """One GA day of report rows. Keys are unique within the day, as in a real GA4 report: dwell rows take
    distinct (band, segment) combinations per page (band 000 in every segment first, deeper bands less often),
    click rows distinct (x, y, segment) cells."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng([seed, day.toordinal()])
    n_seg = len(DEVICES) * len(CHANNELS) * len(VISITORS)
    n_combo = (MAX_BAND + 1) * n_seg
    page = np.searchsorted(np.cumsum(page_weights()), rng.random(rows), side="right").clip(0, PAGES - 1)
    dwell = rng.random(rows) < DWELL_SHARE

    # Rank of each row within its (page, event) group, to hand out distinct dwell combinations.
    key = page * 2 + dwell
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    lengths = np.diff(np.r_[starts, rows])
    rank = np.empty(rows, dtype=np.int64)
    rank[order] = np.arange(rows) - np.repeat(starts, lengths)
    dwell &= rank < n_combo  # a page busier than all combinations: the rest are clicks

    # A few orders of the combinations for the day: all segments of band 0 first, then a weighted random order
    # (exponential race) in which deeper bands come later.
    k = 16
    combo_band = np.arange(n_combo) // n_seg
    race = rng.exponential(size=(k, n_combo)) * np.exp(combo_band / 35.0)
    race[:, combo_band == 0] = -1.0 - rng.random((k, n_seg))
    orders = np.argsort(race, axis=1)
    combo = orders[page % k, np.minimum(rank, n_combo - 1)]
    band = combo // n_seg
    seg = np.where(dwell, combo % n_seg, rng.integers(0, n_seg, rows))
    device = seg % len(DEVICES)
    channel = (seg // len(DEVICES)) % len(CHANNELS)
    visitor = seg // (len(DEVICES) * len(CHANNELS))

    x = rng.integers(0, 100, rows)
    y = np.minimum(rng.exponential(120.0, rows).astype(np.int64), MAX_Y)
    # Page views of the page in one segment that day follow the page's traffic; deeper bands are seen by fewer.
    views = VIEWS_PER_ROW * rows * page_weights()[page] / n_seg * rng.gamma(4.0, 0.25, rows)
    events = np.where(dwell, np.maximum(1, np.round(views * np.exp(-band / 40.0))), 1 + rng.poisson(views * 0.02, rows))
    seconds = np.where(dwell, np.round(events * rng.gamma(2.0, 4.0, rows), 1), 0.0)

    frame = pl.DataFrame(
        {
            "page": page.astype(np.int32),
            "dwell": dwell,
            "band": band.astype(np.int32),
            "x": x.astype(np.int32),
            "y": y.astype(np.int32),
            "device": device.astype(np.int8),
            "channel": channel.astype(np.int8),
            "visitor": visitor.astype(np.int8),
            "events": events.astype(np.int64),
            "seconds": seconds,
        }
    )
    clicks = frame.filter(~pl.col("dwell")).unique(["page", "x", "y", "device", "channel", "visitor"], keep="first")
    frame = pl.concat([frame.filter(pl.col("dwell")), clicks]).sample(fraction=1.0, shuffle=True, seed=day.toordinal())

    def lookup(values: Sequence[str], column: str) -> pl.Expr:
        return pl.col(column).replace_strict(list(range(len(values))), list(values), return_dtype=pl.String)

    not_set = pl.lit("(not set)")
    is_dwell = pl.col("dwell")
    return frame.select(
        pl.lit(day.strftime("%Y%m%d")).alias("date"),
        pl.col("page").replace_strict(list(range(PAGES)), page_paths(), return_dtype=pl.String).alias("pagePath"),
        pl.when(is_dwell).then(pl.lit("hm_dwell")).otherwise(pl.lit("hm_click")).alias("eventName"),
        pl.when(is_dwell)
        .then(pl.col("band").cast(pl.String).str.zfill(3))
        .otherwise(not_set)
        .alias("customEvent:hm_band"),
        pl.when(is_dwell).then(not_set).otherwise(pl.col("x").cast(pl.String)).alias("customEvent:hm_x"),
        pl.when(is_dwell).then(not_set).otherwise(pl.col("y").cast(pl.String)).alias("customEvent:hm_y"),
        lookup(DEVICES, "device").alias("deviceCategory"),
        lookup(CHANNELS, "channel").alias("sessionDefaultChannelGroup"),
        lookup(VISITORS, "visitor").alias("newVsReturning"),
        pl.col("events").cast(pl.String).alias("eventCount"),
        pl.when(is_dwell)
        .then(pl.col("seconds").cast(pl.String))
        .otherwise(pl.lit("0"))
        .alias("customEvent:hm_seconds"),
    )


def write_day(source: Path, day: date, rows: int, seed: int) -> tuple[int, int]:
    """The execution that exported `day` (run the next morning): part files of at most ~48 MB."""
    frame = day_frame(day, rows, seed)
    run = day + timedelta(days=1)
    execution = source / "flow" / run.strftime("%Y/%m/%d") / str(uuid.uuid5(uuid.NAMESPACE_URL, f"scale/{day}"))
    execution.mkdir(parents=True, exist_ok=True)
    data = frame.write_ndjson().encode()
    written, part, start = 0, 0, 0
    while start < len(data):
        end = (
            len(data)
            if len(data) - start <= FILE_MB * 1_000_000
            else data.index(b"\n", start + FILE_MB * 1_000_000) + 1
        )
        (execution / f"part-{part:05d}.jsonl").write_bytes(data[start:end])
        written += end - start
        part, start = part + 1, end
    return frame.height, written


def _write_days(args: tuple[str, list[date], int, int]) -> tuple[int, int]:
    source, days, rows, seed = args
    totals = [write_day(Path(source), day, rows, seed) for day in days]
    return sum(t[0] for t in totals), sum(t[1] for t in totals)


def ensure_source(root: Path, size: Size, seed: int = 11) -> tuple[Path, dict[str, Any]]:
    """`root/<name>-<rows>` with the exports, reused when its marker (written last, beside it) matches."""
    source = root / f"{size.name}-{size.rows}"
    marker = root / f"{source.name}.generated.json"
    params = {"version": GENERATOR_VERSION, "seed": seed, **asdict(size), "last_day": LAST_DAY.isoformat()}
    if marker.exists() and source.exists():
        info = json.loads(marker.read_text())
        if info.get("params") == params:
            print(f"  reusing {source} ({info['rows']:,} rows, {info['bytes'] / 1e6:,.0f} MB)", flush=True)
            return source, info
    shutil.rmtree(source, ignore_errors=True)
    marker.unlink(missing_ok=True)
    started = time.perf_counter()
    days = [size.first_day + timedelta(days=i) for i in range(size.days)]
    workers = max(1, min(os.cpu_count() or 1, 4))
    chunks = [(str(source), days[i::workers], size.rows_per_day, seed) for i in range(workers)]
    if workers > 1 and size.days > 4:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            totals = list(pool.map(_write_days, chunks))
    else:
        totals = [_write_days(chunk) for chunk in chunks]
    info = {"params": params, "rows": sum(t[0] for t in totals), "bytes": sum(t[1] for t in totals)}
    marker.write_text(json.dumps(info))
    seconds = time.perf_counter() - started
    print(f"  generated {source}: {info['rows']:,} rows, {info['bytes'] / 1e6:,.0f} MB in {seconds:.0f} s", flush=True)
    return source, info


# ---------------------------------------------------------------------------------------------------------------
# Measuring processes.


@dataclass
class Run:
    seconds: float
    peak_mb: float
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError:
            return None


def child_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEATMAP_")}
    env.update({"HEATMAP_HOME": str(home), "HEATMAP_OUTPUT": str(home / "out"), "HEATMAP_SHARED_STORE": "off"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra or {})
    return env


def measure(cmd: Sequence[str], env: Mapping[str, str], logs: Path) -> Run:
    """Run `cmd` to its end: wall time from start to exit and its own peak RSS (os.wait4 rusage)."""
    logs.mkdir(parents=True, exist_ok=True)
    name = f"{time.monotonic_ns()}"
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=ROOT, env=dict(env), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    run = Run(seconds, usage.ru_maxrss / 1024, proc.returncode, out_path.read_text(), err_path.read_text())
    if run.code != 0:
        print(f"  ! exit {run.code}: {' '.join(cmd[:4])} ...: {run.stderr.strip()[-400:]}", flush=True)
    return run


def same_answer(a: Any, b: Any) -> bool:
    """Equal JSON answers, floats to 1e-9 (sums in another order differ in the last digits)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_answer(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_answer(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-9)
    return a == b


def heatmap_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "heatmap", *args]


def du_mb(path: Path) -> float | None:
    if not path.exists():
        return None
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


PANDAS_BASELINE = """
import sys, pandas as pd
frames = [pd.read_json(path, lines=True, dtype=False) for path in sys.argv[1:]]
print(len(pd.concat(frames, ignore_index=True)))
"""


def pandas_baseline(source: Path, target_mb: float, logs: Path, env: Mapping[str, str]) -> dict[str, float]:
    files, total = [], 0
    for path in sorted(source.rglob("*.jsonl")):
        files.append(str(path))
        total += path.stat().st_size
        if total >= target_mb * 1e6:
            break
    run = measure([sys.executable, "-c", PANDAS_BASELINE, *files], env, logs)
    mb = total / 1e6
    print(
        f"  pandas baseline: {mb:,.0f} MB in {len(files)} files, {run.seconds:.1f} s, peak {run.peak_mb:,.0f} MB",
        flush=True,
    )
    return {"mb": mb, "files": len(files), "seconds": run.seconds, "peak_mb": run.peak_mb, "rate": mb / run.seconds}


# ---------------------------------------------------------------------------------------------------------------
# The app.


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its children, MB (nan once it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
    return total / 2**20


@contextlib.contextmanager
def streamlit_server(
    env: Mapping[str, str], logs: Path, timeout: float = 120
) -> Iterator[tuple[str, subprocess.Popen, dict]]:
    """`streamlit run streamlit_app.py` on a free port; yields (base URL, process, a dict that gets its peak RSS
    once it has been stopped), stopped by its own PID."""
    port = free_port()
    logs.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true",
        "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
    ]  # fmt: skip
    log_path = logs / f"streamlit-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    after: dict[str, float] = {}
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit not healthy after {timeout} s: {log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base, proc, after
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                time.sleep(0.1)
            else:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            after["peak_mb"] = usage.ru_maxrss / 1024
        if "Traceback" in log_path.read_text(errors="replace"):
            print(f"  ! traceback in the app log {log_path}", flush=True)


def wait_for_app_run(page: Any, timeout_ms: float) -> None:
    """Until the app is connected, its script has finished and no skeleton is left (streamlit's e2e signal)."""
    from playwright.sync_api import expect

    page.wait_for_timeout(250)
    app = page.get_by_test_id("stApp")
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout_ms)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_ms)
    expect(page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=timeout_ms)


def measure_app(env: Mapping[str, str], pages: Sequence[str], size: Size, logs: Path) -> dict[str, Any]:
    """Open three pages' Explore links one after the other; resident memory of the server after each."""
    if not Path(CHROMIUM).exists():
        print(f"  app: skipped, no chromium at {CHROMIUM}", flush=True)
        return {}
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {"rss_mb": [], "seconds": [], "errors": 0}
    with streamlit_server(env, logs) as (base, proc, after), sync_playwright() as playwright:
        result["idle_mb"] = tree_rss_mb(proc.pid)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000})
            for path in pages:
                query = {"page": path, "from": size.first_day.isoformat(), "to": LAST_DAY.isoformat()}
                started = time.perf_counter()
                tab.goto(f"{base}/?{urllib.parse.urlencode(query)}", timeout=60_000)
                wait_for_app_run(tab, timeout_ms=30 * 60_000)
                result["seconds"].append(time.perf_counter() - started)
                tab.wait_for_timeout(1000)
                result["rss_mb"].append(tree_rss_mb(proc.pid))
                result["errors"] += tab.get_by_test_id("stException").count()
                print(
                    f"  app: {path} shown in {result['seconds'][-1]:.1f} s, server RSS {result['rss_mb'][-1]:,.0f} MB",
                    flush=True,
                )
        finally:
            browser.close()
    result["peak_mb"] = after.get("peak_mb")
    if result["errors"]:
        print(f"  ! the app showed {result['errors']} exception(s)", flush=True)
    return result


# ---------------------------------------------------------------------------------------------------------------
# One size.


def measure_size(size: Size, data_root: Path, work: Path, skip_app: bool) -> dict[str, Any]:
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\n== {size.name}: {size.rows:,} rows over {size.days} days (load average {load}) ==", flush=True)
    source, info = ensure_source(data_root, size)
    json_mb = info["bytes"] / 1e6
    pages = page_paths()
    busiest, mid, tail = pages[0], pages[MID_RANK - 1], pages[TAIL_RANK - 1]
    home = work / size.name
    logs = home / "logs"
    env = child_env(home)
    r: dict[str, Any] = {
        "rows_generated": info["rows"],
        "json_mb": json_mb,
        "files": len(list(source.rglob("*.jsonl"))),
    }

    cache = home / "cache"
    source_args = ["--source", str(source), "--json"]
    cold = measure(heatmap_cmd("coverage", *source_args, "--cache-dir", str(cache)), env, logs)
    coverage = cold.json() or {}
    r["rows"] = sum(day["rows"] for day in coverage.get("days", {}).values())
    r["excluded"] = coverage.get("excluded_rows")
    r["cold_s"], r["cold_peak_mb"], r["cold_rate"] = cold.seconds, cold.peak_mb, json_mb / cold.seconds
    print(f"  cold coverage: {cold.seconds:.1f} s, peak {cold.peak_mb:,.0f} MB, {r['rows']:,} rows", flush=True)
    warm = measure(heatmap_cmd("coverage", *source_args, "--cache-dir", str(cache)), env, logs)
    r["warm_s"], r["warm_peak_mb"] = warm.seconds, warm.peak_mb
    print(f"  warm coverage: {warm.seconds:.1f} s, peak {warm.peak_mb:,.0f} MB", flush=True)
    r["cache_mb"] = du_mb(cache)

    span = ["--from", size.first_day.isoformat(), "--to", LAST_DAY.isoformat()]
    for label, page in (("busiest", busiest), ("mid", mid)):
        run = measure(heatmap_cmd("bands", *source_args, "--cache-dir", str(cache), "--page", page, *span), env, logs)
        answer = run.json() or {}
        r[f"{label}_s"], r[f"{label}_peak_mb"] = run.seconds, run.peak_mb
        r[f"{label}_views"] = answer.get("page_views")
        print(
            f"  bands {page}: {run.seconds:.1f} s, peak {run.peak_mb:,.0f} MB, {answer.get('page_views')} page views",
            flush=True,
        )

    if not skip_app:
        app_env = {
            **env,
            "HEATMAP_SOURCE": str(source),
            "HEATMAP_CACHE_DIR": str(cache),
            "HEATMAP_OUTPUT": str(home / "app-out"),
        }
        try:
            app = measure_app(app_env, [busiest, mid, tail], size, logs)
        except Exception as exc:  # the rest of the figures still count
            print(f"  ! app measurement failed: {type(exc).__name__}: {str(exc)[:600]}", flush=True)
            app = {}
        if app.get("rss_mb"):
            r["app_rss_mb"] = app["rss_mb"]
            r["app_max_mb"] = max(app["rss_mb"])
            r["app_peak_mb"] = app.get("peak_mb")
            r["app_first_s"] = app["seconds"][0]
            r["app_idle_mb"] = app.get("idle_mb")

    # A fresh server with a shared store under the output location vs parsing the JSON again.
    shared_out = home / "shared-out"
    shared = {"HEATMAP_SHARED_STORE": "on", "HEATMAP_OUTPUT": str(shared_out)}
    fill = measure(heatmap_cmd("coverage", *source_args, "--cache-dir", str(home / "cache-a")), {**env, **shared}, logs)
    r["fill_s"], r["fill_peak_mb"] = fill.seconds, fill.peak_mb
    bands_args = ["bands", *source_args, "--page", busiest, *span]
    fresh = measure(heatmap_cmd(*bands_args, "--cache-dir", str(home / "cache-b")), {**env, **shared}, logs)
    reparse = measure(
        heatmap_cmd(*bands_args, "--cache-dir", str(home / "cache-c")),
        {**env, "HEATMAP_SHARED_STORE": "off", "HEATMAP_OUTPUT": str(home / "out-c")},
        logs,
    )
    r["fresh_s"], r["fresh_peak_mb"], r["reparse_s"] = fresh.seconds, fresh.peak_mb, reparse.seconds
    r["shared_speedup"] = reparse.seconds / fresh.seconds
    r["store_mb"] = du_mb(shared_out / "store")
    same = same_answer(fresh.json(), reparse.json())
    print(
        f"  shared store: fill {fill.seconds:.1f} s; fresh server bands {fresh.seconds:.1f} s vs re-parse "
        f"{reparse.seconds:.1f} s; same answer: {same}; store {fmt(r['store_mb'])} MB",
        flush=True,
    )
    for folder in ("cache-a", "cache-b", "cache-c", "shared-out", "out-c"):
        shutil.rmtree(home / folder, ignore_errors=True)
    return r


# ---------------------------------------------------------------------------------------------------------------
# The table.


def fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}" if abs(value) >= 1 else f"{value:.2f}"
    else:
        text = f"{value:,}"
    return text + unit


def ratio(a: Any, b: Any) -> float | None:
    if a is None or b is None or not b or a != a or b != b:
        return None
    return a / b


def verdict(ok: bool | None) -> str:
    return "" if ok is None else "ok" if ok else "MISS"


def report(sizes: Sequence[Size], results: Mapping[str, dict[str, Any]], baseline: dict[str, float]) -> None:
    small, large = (results.get(s.name, {}) for s in sizes)

    def both(key: str) -> tuple[Any, Any]:
        return small.get(key), large.get(key)

    for r in (small, large):
        if r:
            r["speed_x"] = ratio(r.get("cold_rate"), baseline.get("rate"))
            r["cache_x"] = ratio(r.get("cache_mb"), r.get("json_mb"))
            r["store_x"] = ratio(r.get("store_mb"), r.get("json_mb"))

    def le(limit: float) -> Any:
        return lambda a, b: None if a is None and b is None else all(v is None or v <= limit for v in (a, b))

    def ge(limit: float) -> Any:
        return lambda a, b: None if a is None and b is None else all(v is None or v >= limit for v in (a, b))

    def growth(limit: float, also: float | None = None) -> Any:
        def check(s: Any, big: Any) -> bool | None:
            q = ratio(big, s)
            if q is None:
                return None
            return q <= limit and (also is None or big <= also)

        return check

    # (label, key, unit, budget text, check on (small, large) values)
    rows: list[tuple[str, str, str, str, Any]] = [
        ("export rows (coverage)", "rows", "", "", None),
        ("JSON on disk, MB", "json_mb", "", "", None),
        ("cold ingest time, s", "cold_s", "", "", None),
        ("cold ingest speed, MB/s", "cold_rate", "", "", None),
        ("cold ingest vs pandas speed", "speed_x", "x", ">= 10x", ge(10)),
        ("cold ingest peak RSS, MB", "cold_peak_mb", "", "<= 1,536; large/small <= 1.5", growth(1.5, 1536)),
        ("warm coverage time, s", "warm_s", "", "", None),
        ("warm coverage peak RSS, MB", "warm_peak_mb", "", "", None),
        ("one-page query busiest: time, s", "busiest_s", "", "", None),
        ("one-page query busiest: peak RSS, MB", "busiest_peak_mb", "", "<= 600", le(600)),
        ("one-page query mid (rank 100): time, s", "mid_s", "", "", None),
        ("one-page query mid (rank 100): peak RSS, MB", "mid_peak_mb", "", "large/small <= 1.5", growth(1.5)),
        ("app RSS idle (before any page), MB", "app_idle_mb", "", "", None),
        ("app RSS after 3 pages (max), MB", "app_max_mb", "", "<= 1,024", le(1024)),
        ("app server peak RSS, MB", "app_peak_mb", "", "", None),
        ("app first page shown, s", "app_first_s", "", "", None),
        ("fresh server + shared store: bands, s", "fresh_s", "", "", None),
        ("re-parse (empty cache, no shared store), s", "reparse_s", "", "", None),
        ("fresh server speed-up vs re-parse", "shared_speedup", "x", ">= 10x", ge(10)),
        ("cache dir on disk, MB", "cache_mb", "", "", None),
        ("cache dir / JSON", "cache_x", "x", "<= 0.5x", le(0.5)),
        ("shared store on disk, MB", "store_mb", "", "", None),
        ("shared store / JSON", "store_x", "x", "<= 0.5x", le(0.5)),
    ]
    header = ("figure", sizes[0].name, sizes[1].name, "large/small", "budget", "")
    lines = []
    for label, key, unit, budget, check in rows:
        s, big = both(key)
        check_result = check(s, big) if check else None
        lines.append((label, fmt(s, unit), fmt(big, unit), fmt(ratio(big, s), "x"), budget, verdict(check_result)))
    widths = [max(len(str(row[i])) for row in [header, *lines]) for i in range(len(header))]
    print()
    print(
        f"pandas.read_json(lines=True, dtype=False) + concat baseline: {baseline.get('mb', 0):,.0f} MB in "
        f"{baseline.get('files', 0)} files, {baseline.get('seconds', 0):.1f} s = {baseline.get('rate', 0):.1f} MB/s, "
        f"peak RSS {baseline.get('peak_mb', 0):,.0f} MB"
    )
    for row in [header, tuple("-" * w for w in widths), *lines]:
        cells = [str(row[0]).ljust(widths[0])] + [str(c).rjust(w) for c, w in zip(row[1:4], widths[1:4], strict=True)]
        cells += [str(row[4]).ljust(widths[4]), str(row[5])]
        print("  ".join(cells).rstrip())
    for name, r in (("small", small), ("large", large)):
        if r.get("app_rss_mb"):
            print(f"app RSS after each page ({name}): {', '.join(fmt(v) for v in r['app_rss_mb'])} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="0.2 M and 2 M rows (CI)")
    parser.add_argument("--data", help="generate the exports here and reuse them next time (default: a temp folder)")
    parser.add_argument("--work", help="folder for caches and logs (default: a temp folder, removed afterwards)")
    parser.add_argument("--skip-app", action="store_true", help="do not start the app")
    parser.add_argument("--json-out", help="also write the figures to this JSON file")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    temp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    try:
        data_root = Path(args.data) if args.data else temp / "data"
        data_root.mkdir(parents=True, exist_ok=True)
        work = Path(args.work) if args.work else temp / "work"
        print(f"data: {data_root}; work: {work}; python: {sys.executable}", flush=True)
        results = {size.name: measure_size(size, data_root, work, args.skip_app) for size in sizes}
        small_source, _ = ensure_source(data_root, sizes[0])
        baseline = pandas_baseline(small_source, 60 if args.quick else 600, work / "logs", child_env(work))
        report(sizes, results, baseline)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps({"results": results, "baseline": baseline}, indent=2))
    finally:
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
