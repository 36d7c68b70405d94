"""Load benchmark (docs/performance.md): N designers at once on one real `streamlit run`, and one long session
(soak) in Chromium; the server's response time per interaction and its resident memory.

    .venv/bin/python benchmarks/load.py            # N = 1, 5, 10 (2 rounds each) and a 200-step soak, 20 uploads
    .venv/bin/python benchmarks/load.py --quick    # N = 1, 2 (1 round) and a 30-step soak, 4 uploads (CI)
    .venv/bin/python benchmarks/load.py --designers 1 5 --soak-steps 100   # a shorter full run
    .venv/bin/python benchmarks/load.py --think 5  # a designer looks at the page ~5 s between steps
    .venv/bin/python benchmarks/load.py --clients browser --nice-browsers   # every designer in Chromium, at nice 19

Clients (--clients): a team's browsers run on their own machines, so by default ("mixed") the first designer is a
Chromium on this machine (the whole path, painting included: N = 1 is a browser) and the others are tabs
(benchmarks/streamlit_client.py): the same steps as Streamlit's own websocket messages, uploads included, timed
until the server's run is over, at almost no CPU of their own. "browser" puts every designer in Chromium on the
server's cores (how this benchmark measured before: ten browsers used 8-10 times the server's CPU), "tabs" none.
The N-vs-one ratios compare designers of the same kind as N = 1's.
Think time (--think S): between two steps a designer waits 0.5-1.5 x S seconds (fixed per designer and step);
0, the default, is the burst: every designer's upload and save at the same moment.

The app runs as tests.fixtures.browser.streamlit_server runs it (a fresh temp HEATMAP_HOME with the demo data, a
fresh output folder and a fresh server for every N and for the soak, so memory figures are per N), through
benchmarks/timed_app.py, which runs streamlit_app.py unchanged and records each script run's time in the server
(printed per N: the server's own share of an interaction, without the browsers' rendering); Debian's
chromium (/usr/bin/chromium) is driven through Playwright's sync API, one thread and one browser context per
designer (or a tab). Every designer does the same scripted round, all starting together:

    open      Explore (`/?page=%2F&type=attention`; a designer's first one is the fresh server's first load)
    type      Heatmap -> Scroll reach, then -> Clicks (painted in the browser: timed until the viewer shows it)
    segment   Device -> desktop
    source    Screenshot from -> Upload
    upload    a 1440 x 20,000-px PNG, distinct per designer and round (PIL, sections, "text" and noisy "photos":
              about 15 MB, not trivially compressible), until the app says where it stored it
    save      Save run, until "Saved run"
    compare   Compare with the difference map on that upload (`/Compare?mode=segments&...&diff=1&shot=<sha>`)

(save comes before compare: opening Compare by its link starts a new session, which no longer has the upload.)
Then, on the same server, every designer does --views-rounds rounds of the same views, all together: Explore's
link, Heatmap -> Scroll reach -> Clicks, Device -> desktop and back. Every designer after the first gets that
view's numbers and preview from the server's cache, so this phase shows how far work is shared; its server run
times and CPU are printed apart.
The browsers run on the server's machine: each uses several times the server's CPU per round (Streamlit's page
rendered again on every run, the map painted), so with N of them on 2 cores (--clients browser) the figures are
mostly theirs. The CPU line says how much; --nice-browsers lowers their priority.
Each interaction is timed from the action to the app reporting its run finished, the signal the e2e tests wait
for (stApp's data-test-script-state back at notRunning): the page records the moment of each change of that state
on the machine's clock (RUN_WATCH, a MutationObserver added to every document), so the figure is the app's, not
the harness's (wait_for_app_run starts with a fixed 250 ms pause and Playwright polls ever more slowly, up to 1 s;
those are waited out but not counted). A step with no run of the app (the map type, painted in the browser) is
timed until the viewer shows it, as Playwright sees it (a tab only changes the address its next run sends, and
is not timed). A tab's step is timed from sending it to the session's status saying the run is over. A step that
fails or times out (--step-timeout) is counted and reported, and that designer's round stops there; the
benchmark goes on.

Memory: the streamlit process and its children (psutil RSS), sampled every 0.5 s in a thread during each N, plus
the kernel's high-water mark of the server process (VmHWM) at the end. CPU: the seconds the server and the
benchmark's browsers each used during each N, per designer's round, and the least time N rounds can take when
both share the machine's cores (what the browsers cost would be on the designers' own machines). Soak: one session, --soak-steps scripted
interactions with --soak-uploads distinct tall uploads spread over them, RSS after each step.

Budgets (from the issue), printed next to the figures; nothing is asserted:
- resident memory <= 1 GB at every sample for 10 concurrent designers with tall uploads;
- soak final <= start + the cache budget (HEATMAP_CACHE_BUDGET_MB, default 400 MB) + 100 MB;
- 10 designers on 2 cores: p95 <= 3 s per interaction;
- one designer: p95 <= 1 s per interaction, excluding the first load;
- five sessions on the same views <= 2.5x the time of one (p50 of a same-views round at N=5 / at N=1, same run).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scale import tree_rss_mb  # noqa: E402  (the same measure as the scale benchmark)
from benchmarks.streamlit_client import ClientError, StreamlitClient  # noqa: E402
from heatmap.ui import viewer as viewer_html  # noqa: E402
from tests.fixtures import map_viewer as viewer  # noqa: E402
from tests.fixtures.browser import (  # noqa: E402
    APP_ENV_KEYS,
    CHROMIUM,
    CHROMIUM_ARGS,
    Server,
    wait_for_app_run,
)
from tests.streamlit_process import streamlit_process  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

VIEWPORT: ViewportSize = {"width": 1440, "height": 2200}
KINDS = ("open", "type", "segment", "source", "upload", "save", "compare")
GB = 1024  # MB
CACHE_BUDGET_MB = int(os.environ.get("HEATMAP_CACHE_BUDGET_MB") or 400)
EXPLORE = "/?page=%2F&type=attention"
COMPARE = "/Compare?mode=segments&page=%2F&type=reach&a_device=desktop&b_device=mobile&diff=1"
RUN_TIMES = "run-times.jsonl"
RUN_WATCH = """
window.__runs = [];
new MutationObserver(changes => {
    for (const change of changes) {
        if (change.target.dataset.testid === 'stApp')
            window.__runs.push([change.target.dataset.testScriptState, Date.now()]);
    }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""  # each change of the app's script state, with the machine's clock (ms since the epoch), in every document
CLIENTS = {
    "mixed": "the first designer in Chromium, the others as tabs (Streamlit's messages; their browsers elsewhere)",
    "browser": "every designer in Chromium, on this machine's cores",
    "tabs": "every designer as a tab (Streamlit's messages, no browser)",
}
THINK = {"seconds": 0.0}  # --think
BROWSER = {"path": CHROMIUM}  # browser_launcher: a script that keeps chromium's priority at or below the server's


def browser_launcher(folder: Path, nice: bool) -> str:
    """The executable the benchmark starts Chromium with. Run as root, Chromium raises its display threads to nice
    -8, above the server (measured with ps: the server's threads then waited 123 s for a CPU while running 19 s at
    five designers); without CAP_SYS_NICE (setpriv) it cannot. `nice`: at nice 19 too, so the browsers use the
    cores only when the server leaves them idle, as if the designers' browsers ran on their own machines."""
    root = hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("setpriv") is not None
    if not root and not nice:
        return CHROMIUM
    script = folder / "chromium-launcher"
    parts = [*(["setpriv", "--bounding-set=-sys_nice"] if root else []), *(["nice", "-n", "19"] if nice else [])]
    script.write_text(f'#!/bin/sh\nexec {" ".join(parts)} "{CHROMIUM}" "$@"\n')
    script.chmod(0o755)
    return str(script)


def run_times(workdir: Path, since: float = 0.0, until: float = float("inf")) -> list[float]:
    """The server time of each finished script run of the server in `workdir` (benchmarks/timed_app.py) that
    started between `since` and `until` (time.time())."""
    import json

    path = workdir / RUN_TIMES
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [float(line["seconds"]) for line in lines if line.get("finished") and since <= line["started"] <= until]


# ---------------------------------------------------------------------------------------------------------------
# Figures.


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def secs(values: Sequence[float]) -> str:
    if not values:
        return "p50     -     p95     -     n=0"
    return f"p50 {statistics.median(values):6.2f} s   p95 {pct(values, 0.95):6.2f} s   n={len(values)}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER BUDGET"


@dataclass
class Sample:
    designer: int
    round: int
    kind: str
    seconds: float
    first_load: bool = False
    waited: float = 0.0  # until the harness saw it (its pauses and polling included)
    tab: bool = False  # a TabDesigner's (Streamlit's messages, no browser)
    ended: float = field(default_factory=time.time)


@dataclass
class Failure:
    designer: int
    round: int
    kind: str
    error: str


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the step finished but the page looked wrong
    skipped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Sample | Failure) -> None:
        with self.lock:
            if isinstance(item, Sample):
                self.samples.append(item)
            else:
                self.failures.append(item)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(text)

    def times(self, kind: str | None = None, first_load: bool | None = None, tab: bool | None = None) -> list[float]:
        return [
            s.seconds
            for s in self.samples
            if (kind is None or s.kind == kind)
            and (first_load is None or s.first_load == first_load)
            and (tab is None or s.tab == tab)
        ]


# ---------------------------------------------------------------------------------------------------------------
# Memory of the server.


def vm_hwm_mb(pid: int) -> float:
    """The kernel's peak resident size of the process itself (not its children), MB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class MemorySampler:
    """Samples tree_rss_mb(pid) every `every` seconds in a thread while in the `with` block, and the CPU time used
    meanwhile by the server (pid and its children) and by the benchmark's browsers (this process's other
    children: Chromium and Playwright's driver), read from each process's own counters."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.samples: list[float] = []
        self._cpu: dict[tuple[int, float], tuple[str, float]] = {}  # (pid, started) -> (whose, CPU s so far)
        self._before: dict[tuple[int, float], float] = {}
        self._own_before, self.own_cpu = 0.0, 0.0  # this process: the tabs, Playwright's Python side
        self._stop = threading.Event()
        self.stopped = float("inf")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._before = {key: used for key, (_, used) in self._cpu_now().items()}
        self._own_before = _own_cpu()
        while not self._stop.is_set():
            self.samples.append(tree_rss_mb(self.pid))
            self._cpu.update(self._cpu_now())
            self._stop.wait(self.every)

    def _cpu_now(self) -> dict[tuple[int, float], tuple[str, float]]:
        import psutil

        server = {self.pid, *(p.pid for p in _children(self.pid))}
        found = {}
        for proc in _children(os.getpid()):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                whose = "server" if proc.pid in server else "browsers"
                found[(proc.pid, proc.create_time())] = (whose, times.user + times.system)
        return found

    def cpu_seconds(self, whose: str) -> float:
        """CPU seconds `whose` ("server" or "browsers") used while sampled (a process's last 0.5 s may be missed)."""
        return sum(used - self._before.get(key, 0.0) for key, (who, used) in self._cpu.items() if who == whose)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(tree_rss_mb(self.pid))
        self.own_cpu = _own_cpu() - self._own_before
        self.stopped = time.time()

    @property
    def peak(self) -> float:
        return max(self.samples)


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _children(pid: int) -> list[Any]:
    import psutil

    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []


# ---------------------------------------------------------------------------------------------------------------
# Tall screenshots.


def tall_png(seed: int, width: int = 1440, height: int = 20_000) -> bytes:
    """A long landing page: header, sections in their own colours, rows of "text", noisy "photos" and buttons."""
    import io

    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(235, 256, 3)))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 90), fill=(30, 41, 59))
    top = 120
    while top < height - 200:
        tall = int(rng.integers(300, 900))
        draw.rectangle((80, top, width - 80, top + tall), fill=tuple(int(v) for v in rng.integers(180, 250, 3)))
        for y in range(top + 30, top + tall - 60, 28):  # lines of words
            x = 120
            while x < width // 2:
                word = int(rng.integers(20, 90))
                draw.rectangle((x, y, x + word, y + 12), fill=(40, 40, 48))
                x += word + int(rng.integers(8, 16))
        photo_height = min(tall - 60, 400)
        noise = rng.integers(0, 256, (photo_height // 4, 150, 3), dtype=np.uint8)
        image.paste(
            Image.fromarray(noise).resize((600, photo_height), Image.Resampling.BILINEAR), (width // 2 + 80, top + 30)
        )
        draw.rounded_rectangle((560, top + tall - 50, 880, top + tall - 10), radius=12, fill=(37, 99, 235))
        top += tall + 40
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Upload:
    path: Path
    sha256: str


def make_uploads(folder: Path, count: int) -> list[Upload]:
    folder.mkdir(parents=True, exist_ok=True)
    uploads = []
    started = time.perf_counter()
    for i in range(count):
        raw = tall_png(1000 + i)
        path = folder / f"tall-{i:02d}.png"
        path.write_bytes(raw)
        uploads.append(Upload(path, hashlib.sha256(raw).hexdigest()))
    size = sum(u.path.stat().st_size for u in uploads) / count / 1e6
    print(f"{count} distinct 1440x20000 PNGs, {size:.1f} MB each on average, in {time.perf_counter() - started:.0f} s")
    return uploads


# ---------------------------------------------------------------------------------------------------------------
# The app.


@dataclass(frozen=True)
class App:
    root: Path  # the checkout whose streamlit_app.py runs (--app-root; this repo by default)
    home: Path  # HEATMAP_HOME with the demo data written once


def prepare_home(app_root: Path, home: Path) -> None:
    """The demo data and its columnar cache, written once by the checkout under test (not timed)."""
    started = time.perf_counter()
    code = "import sys; from pathlib import Path; from heatmap.demo import ensure_demo; ensure_demo(Path(sys.argv[1]))"
    env = {k: v for k, v in os.environ.items() if k not in APP_ENV_KEYS}
    env["PYTHONPATH"] = str(app_root)
    subprocess.run([sys.executable, "-c", code, str(home / "demo")], cwd=app_root, env=env, check=True)
    with server_for(App(app_root, home), home / "warm-up") as server:  # the first run writes the cache
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=BROWSER["path"], args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT, locale="en-US")
            page.goto(server.base_url + EXPLORE)
            wait_for_app_run(page, timeout=300_000)
            browser.close()
    print(f"demo data and cache under {home} in {time.perf_counter() - started:.0f} s")


@contextlib.contextmanager
def server_for(app: App, workdir: Path) -> Iterator[Server]:
    """A fresh `streamlit run` of app.root/streamlit_app.py on the shared demo home, with its own output folder,
    through benchmarks/timed_app.py: each run's server time lands in workdir/run-times.jsonl (run_times)."""
    wrapper = workdir / "app"
    wrapper.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "benchmarks" / "timed_app.py", wrapper / "timed_app.py")
    with contextlib.suppress(FileExistsError):
        (wrapper / "pages").symlink_to(app.root / "pages", target_is_directory=True)
    env = {
        "HEATMAP_HOME": str(app.home),
        "HEATMAP_CACHE_DIR": str(app.home / "cache"),
        "HEATMAP_OUTPUT": str(workdir / "output"),
        "HEATMAP_TIMED_APP": str(app.root / "streamlit_app.py"),
        "HEATMAP_RUN_TIMES": str(workdir / RUN_TIMES),
    }
    with streamlit_process(
        wrapper / "timed_app.py", workdir, cwd=app.root, env=env, unset=APP_ENV_KEYS, timeout=120
    ) as server:
        yield server
    log = server.log_text()
    if "Traceback" in log:
        tail = log[log.index("Traceback") :].splitlines()[:40]
        print(f"  ! traceback in the server log of {workdir.name} (first of {log.count('Traceback')}):")
        print("\n".join(f"    | {line}" for line in tail))


# ---------------------------------------------------------------------------------------------------------------
# One designer's interactions. Each returns once the app's run has finished.


KIND_OF = {"Attention": "attention", "Scroll reach": "reach", "Clicks": "clicks"}  # Explore's map type labels


def designer_page(browser: Any) -> Any:
    """A page in a fresh context whose documents record the app's run states (RUN_WATCH)."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.add_init_script(RUN_WATCH)
    return context.new_page()


class Designer:
    """A designer in Chromium: every step as a person does it, timed until the app reports its run finished."""

    measures_paint = True  # a step with no run of the app (the map type) is timed until the browser painted it

    def __init__(self, page: Any, base_url: str, timeout_ms: float) -> None:
        self.page, self.base, self.timeout = page, base_url, timeout_ms

    def settle(self) -> None:
        wait_for_app_run(self.page, timeout=self.timeout)

    def finished_at(self, since: float) -> float | None:
        """When the app last reported a run finished after a run that began at or after `since` (epoch s)."""
        changes = self.page.evaluate("() => window.__runs || []")
        began = next((i for i, (state, ms) in enumerate(changes) if state == "running" and ms >= since * 1000), None)
        if began is None:
            return None
        ends = [ms for state, ms in changes[began:] if state == "notRunning"]
        return ends[-1] / 1000 if ends else None

    def exceptions(self) -> int:
        return int(self.page.get_by_test_id("stException").count())

    def maps(self, key: str) -> int:
        return viewer.jpeg_maps(self.page, key)

    def open_explore(self) -> None:
        self.page.goto(self.base + EXPLORE, timeout=self.timeout)
        self.settle()

    def map_type(self, label: str) -> None:
        """Explore paints another map type in the browser, with no rerun: until the viewer shows it."""
        from playwright.sync_api import expect

        self.page.get_by_test_id("stSidebar").get_by_text(label, exact=True).click(timeout=self.timeout)
        shown = self.page.frame_locator(".st-key-x_map iframe").locator(".live")
        expect(shown).to_have_attribute("data-kind", KIND_OF[label], timeout=self.timeout)

    def device(self, name: str | None) -> None:
        """Pick `name` in the Device filter, or remove the last value picked (None)."""
        self.page.locator(".st-key-x_seg_deviceCategory").get_by_role("combobox").click(timeout=self.timeout)
        if name is None:
            self.page.keyboard.press("Backspace")
        else:
            self.page.get_by_role("option", name=name, exact=True).click(timeout=self.timeout)
        self.page.keyboard.press("Escape")
        self.settle()

    def upload_source(self) -> None:
        self.page.get_by_test_id("stSidebar").get_by_text("Upload", exact=True).click(timeout=self.timeout)
        self.settle()

    def upload(self, shot: Upload) -> None:
        from playwright.sync_api import expect

        self.page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(shot.path), timeout=self.timeout)
        expect(self.page.get_by_test_id("stSidebar")).to_contain_text(shot.sha256, timeout=self.timeout)
        self.settle()

    def save(self) -> None:
        from playwright.sync_api import expect

        self.page.get_by_role("button", name="Save run").click(timeout=self.timeout)
        expect(self.page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Saved run", timeout=self.timeout)
        self.settle()

    def open_compare(self, shot: Upload | None) -> None:
        self.page.goto(self.base + COMPARE + (f"&shot={shot.sha256}" if shot else ""), timeout=self.timeout)
        self.settle()

    def nav(self, title: str) -> None:
        """A page of the sidebar's navigation: the same session (the upload stays)."""
        links = self.page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink")
        label = self.page.get_by_text(title, exact=True)  # the link's label, not its icon's name
        links.filter(has=label).first.click(timeout=self.timeout)
        self.settle()


class TabDesigner:
    """A designer without a browser: the same steps as Streamlit's messages (benchmarks/streamlit_client.py), each
    timed until the server's run of it is over. The map type is the viewer's own business in the browser (no
    run): here it only changes the address the next run sends, and is not timed."""

    measures_paint = False

    def __init__(self, base_url: str, timeout_ms: float) -> None:
        self.tab = StreamlitClient(base_url, timeout_ms / 1000)

    def close(self) -> None:
        self.tab.close()

    def finished_at(self, since: float) -> float | None:
        ends = [ended for began, ended in self.tab.runs if began >= since]
        return ends[-1] if ends else None

    def exceptions(self) -> int:
        return self.tab.count("exception")

    def maps(self, key: str) -> int:
        return sum(len(viewer_html.config_of(frame)["layers"]) for frame in self.tab.frames_in(key))

    def open_explore(self) -> None:
        self.tab.open(EXPLORE)

    def map_type(self, label: str) -> None:
        self.tab.set_query(type=KIND_OF[label])

    def device(self, name: str | None) -> None:
        self.tab.pick("x_seg_deviceCategory", [name] if name else [])

    def upload_source(self) -> None:
        self.tab.choose("x_src", "Upload")

    def upload(self, shot: Upload) -> None:
        self.tab.upload("x_upload", shot.path)
        if shot.sha256 not in self.tab.texts():
            raise ClientError("the page does not name the uploaded screenshot")

    def save(self) -> None:
        self.tab.click("x_save")
        if "Saved run" not in self.tab.texts():
            raise ClientError('no "Saved run" on the page')

    def open_compare(self, shot: Upload | None) -> None:
        self.tab.open(COMPARE + (f"&shot={shot.sha256}" if shot else ""))


AnyDesigner = Designer | TabDesigner


def timed(
    results: Results, d: AnyDesigner, who: int, rnd: int, kind: str, action: Callable[[], None], first: bool = False
) -> bool:
    """Run one interaction; record its time (until the app reported its run finished, when it ran), or its
    failure. False when it failed."""
    started, clock = time.perf_counter(), time.time()
    try:
        action()
        finished = d.finished_at(clock)
    except Exception as exc:  # a step that times out or finds no widget is counted, the benchmark goes on
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        results.add(Failure(who, rnd, kind, f"{type(exc).__name__}: {message[:160]}"))
        return False
    waited = time.perf_counter() - started
    if finished is None and not d.measures_paint:
        return True  # nothing reached the server, and nothing is painted here
    seconds = waited if finished is None else max(0.0, finished - clock)
    results.add(Sample(who, rnd, kind, seconds, first_load=first, waited=waited, tab=not d.measures_paint))
    return True


def check_maps(results: Results, d: AnyDesigner, key: str, expected: int, where: str) -> None:
    """Not timed: the page shows no exception and the viewer the expected number of JPEG maps."""
    try:
        shown, errors = d.maps(key), d.exceptions()
    except Exception as exc:
        results.problem(f"{where}: could not count maps ({type(exc).__name__})")
        return
    if errors or shown < expected:
        results.problem(f"{where}: {shown} map(s) (expected {expected}), {errors} exception(s) shown")


def round_steps(d: AnyDesigner, shot: Upload) -> list[tuple[str, Callable[[], None]]]:
    return [
        ("open", d.open_explore),
        ("type", lambda: d.map_type("Scroll reach")),
        ("type", lambda: d.map_type("Clicks")),
        ("segment", lambda: d.device("desktop")),
        ("source", d.upload_source),
        ("upload", lambda: d.upload(shot)),
        ("save", d.save),
        ("compare", lambda: d.open_compare(shot)),
    ]


def think(who: int, rnd: int, step: int) -> None:
    """A designer looks at the page before the next step: THINK seconds on average, from half to one and a half
    times that, the same for every run of the benchmark (none before a round's first step)."""
    if step and THINK["seconds"]:
        spread = ((who * 7919 + rnd * 104729 + step * 1299709) % 1000) / 1000
        time.sleep(THINK["seconds"] * (0.5 + spread))


def one_round(results: Results, d: AnyDesigner, who: int, rnd: int, shot: Upload) -> None:
    steps = round_steps(d, shot)
    for i, (kind, action) in enumerate(steps):
        think(who, rnd, i)
        if not timed(results, d, who, rnd, kind, action, first=(rnd == 0 and kind == "open")):
            with results.lock:
                results.skipped += len(steps) - i - 1
            return
        if kind == "open":
            check_maps(results, d, "x_map", 1, f"designer {who} round {rnd} Explore")
        elif kind == "upload":
            check_maps(results, d, "x_map", 1, f"designer {who} round {rnd} upload")
        elif kind == "compare":
            check_maps(results, d, "c_maps", 3, f"designer {who} round {rnd} Compare")


def views_round(results: Results, d: AnyDesigner, who: int, rnd: int) -> None:
    """The same views for everyone: Explore's link, both other map types, a segment and back (VIEWS_STEPS)."""
    steps = [
        ("open", d.open_explore),
        ("type", lambda: d.map_type("Scroll reach")),
        ("type", lambda: d.map_type("Clicks")),
        ("segment", lambda: d.device("desktop")),
        ("segment", lambda: d.device(None)),
    ]
    for i, (kind, action) in enumerate(steps):
        think(who, rnd, i)
        if not timed(results, d, who, rnd, kind, action):
            return


@contextlib.contextmanager
def designer_for(in_browser: bool, base: str, timeout_ms: float) -> Iterator[AnyDesigner]:
    """A designer in its own Chromium (its own Playwright: the sync API is one per thread), or a TabDesigner."""
    if not in_browser:
        tab = TabDesigner(base, timeout_ms)
        try:
            yield tab
        finally:
            tab.close()
        return
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER["path"], args=CHROMIUM_ARGS)
        try:
            yield Designer(designer_page(browser), base, timeout_ms)
        finally:
            browser.close()


def in_browser(clients: str, who: int) -> bool:
    """--clients: "browser" every designer in Chromium, "tabs" none, "mixed" the first one (the others as tabs)."""
    return clients == "browser" or (clients == "mixed" and who == 0)


def designer_thread(
    results: Results, base: str, who: int, start: threading.Barrier, timeout_ms: float,
    rounds: Callable[[AnyDesigner], None], clients: str,
) -> None:  # fmt: skip
    try:
        with designer_for(in_browser(clients, who), base, timeout_ms) as designer:
            with contextlib.suppress(threading.BrokenBarrierError):
                start.wait(timeout=180)
            rounds(designer)
    except Exception as exc:
        results.add(Failure(who, -1, "client", f"{type(exc).__name__}: {str(exc)[:160]}"))
        with contextlib.suppress(threading.BrokenBarrierError):
            start.abort()


# ---------------------------------------------------------------------------------------------------------------
# N designers at once.


@dataclass
class Load:
    n: int
    results: Results
    peak_mb: float
    final_mb: float
    idle_mb: float
    hwm_mb: float
    seconds: float
    server_cpu: float = 0.0  # CPU seconds during the run
    browsers_cpu: float = 0.0
    own_cpu: float = 0.0  # the benchmark's own process: the tabs, Playwright's Python side
    server_runs: list[float] = field(default_factory=list)  # seconds of each script run after the first load
    views: Results = field(default_factory=Results)  # the same-views rounds, after the scripted ones
    views_runs: list[float] = field(default_factory=list)  # their script runs' seconds in the server
    views_cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)  # CPU s of the server, the browsers, the benchmark


def all_at_once(
    n: int, base: str, results: Results, timeout_ms: float, rounds: Callable[[AnyDesigner, int], None],
    sampler: MemorySampler, clients: str,
) -> float:  # fmt: skip
    """N designer threads, each with its own browser or tab (in_browser), starting `rounds(designer, who)` together
    once every browser is up; the seconds until all are done, sampled by `sampler` meanwhile."""
    start = threading.Barrier(n + 1)
    threads = []
    for who in range(n):
        args = (results, base, who, start, timeout_ms, lambda d, w=who: rounds(d, w), clients)
        threads.append(threading.Thread(target=designer_thread, args=args, daemon=True))
        threads[-1].start()
    with contextlib.suppress(threading.BrokenBarrierError):
        start.wait(timeout=180)  # every browser is up: the round starts for all at once
    began = time.perf_counter()
    with sampler:
        for thread in threads:
            thread.join()
    return time.perf_counter() - began


def run_load(
    app: App, n: int, rounds: int, uploads: Sequence[Upload], work: Path, timeout_ms: float, views_rounds: int,
    clients: str,
) -> Load:  # fmt: skip
    results, views = Results(), Results()

    def scripted(d: AnyDesigner, who: int) -> None:
        for rnd in range(rounds):
            one_round(results, d, who, rnd, uploads[(who * rounds + rnd) % len(uploads)])  # distinct per designer

    def same_views(d: AnyDesigner, who: int) -> None:
        for rnd in range(views_rounds):
            views_round(views, d, who, rnd)

    with server_for(app, work / f"n{n}") as server:
        pid = server.proc.pid
        idle = tree_rss_mb(pid)
        sampler = MemorySampler(pid)
        seconds = all_at_once(n, server.base_url, results, timeout_ms, scripted, sampler, clients)
        hwm = vm_hwm_mb(pid)
        views_began, views_sampler = time.time(), MemorySampler(pid)
        if views_rounds:
            all_at_once(n, server.base_url, views, timeout_ms, same_views, views_sampler, clients)
    loaded = min((s.ended for s in results.samples if s.first_load), default=0.0)  # the fresh server's engine is up
    return Load(
        n, results, sampler.peak, sampler.samples[-1], idle, hwm, seconds,
        sampler.cpu_seconds("server"), sampler.cpu_seconds("browsers"), sampler.own_cpu,
        run_times(work / f"n{n}", since=loaded, until=sampler.stopped), views, run_times(work / f"n{n}", views_began),
        (views_sampler.cpu_seconds("server"), views_sampler.cpu_seconds("browsers"), views_sampler.own_cpu),
    )  # fmt: skip


def print_load(load: Load, rounds: int) -> None:
    r = load.results
    print(f"\n== N={load.n} concurrent designer(s), {rounds} round(s) each, fresh server: {load.seconds:.0f} s ==")
    for kind in KINDS:
        print(f"  {kind:8s} {secs(r.times(kind))}")
    print(f"  first load of the fresh server   {secs(r.times('open', first_load=True))}")
    every, later = r.times(), r.times(first_load=False)
    print(f"  all interactions                 {secs(every)}")
    print(f"  excluding the first load         {secs(later)}")
    waited = [s.waited for s in r.samples if not s.first_load]
    print(f"  the same, as the harness waited  {secs(waited)} (its pauses and polling included; not the budget's)")
    if r.times(tab=True) and r.times(tab=False):
        print(f"    of them in Chromium            {secs(r.times(first_load=False, tab=False))}")
        print(f"    of them as tabs                {secs(r.times(first_load=False, tab=True))} (no painting)")
    if later:
        p95 = pct(later, 0.95)
        budget = 1.0 if load.n == 1 else 3.0
        note = "one designer, excluding the first load" if load.n == 1 else "10 designers on 2 cores"
        print(
            f"  N={load.n} per interaction p95 {p95:.2f} s (budget for {note}: <= {budget:.0f} s: {verdict(p95 <= budget)})"
        )
    ok_memory = load.peak_mb <= GB
    print(
        f"  N={load.n} server peak RSS {load.peak_mb:,.0f} MB (process + children, every 0.5 s; budget <= 1,024 MB: "
        f"{verdict(ok_memory)}), final {load.final_mb:,.0f} MB, idle before {load.idle_mb:,.0f} MB, "
        f"VmHWM of the server process {load.hwm_mb:,.0f} MB"
    )
    if load.server_runs:
        p95 = pct(load.server_runs, 0.95)
        budget = 1.0 if load.n == 1 else 3.0
        print(
            f"  the server's own time per script run (its start to its end, in the server; after the first load): "
            f"{secs(load.server_runs)}; p95 against the budget of {budget:.0f} s: {verdict(p95 <= budget)}"
        )
    rounds_done = max(1, load.n * rounds)
    server, browsers = load.server_cpu / rounds_done, load.browsers_cpu / rounds_done
    print(
        f"  CPU per designer's round: server {server:.1f} s, the benchmark's browsers and Playwright {browsers:.1f} s, "
        f"its own process (tabs, Playwright's Python side) {load.own_cpu / rounds_done:.1f} s; on "
        f"{os.cpu_count()} cores shared by both, N={load.n} rounds take at least "
        f"{load.n * (server + browsers) / (os.cpu_count() or 1):.0f} s ({load.n} x {server + browsers:.1f} s / "
        f"{os.cpu_count()}), the server's part {load.n * server / (os.cpu_count() or 1):.0f} s"
    )
    print_failures(r)
    if load.views.samples or load.views.failures:
        v = load.views
        views_rounds = round_times(v)
        print(
            f"  same views (every designer: Explore's link, two map types, a segment and back), round {secs(views_rounds)}"
        )
        for kind in ("open", "type", "segment"):
            print(f"    {kind:8s} {secs(v.times(kind))}")
        done = max(1, len(round_times(v)))
        print(
            f"    the server's own time per script run {secs(load.views_runs)}; CPU per round: server "
            f"{load.views_cpu[0] / done:.1f} s, the browsers and Playwright {load.views_cpu[1] / done:.1f} s, "
            f"the benchmark's own process {load.views_cpu[2] / done:.1f} s"
        )
        print_failures(v)


def print_failures(r: Results, soak: bool = False) -> None:
    if r.failures:
        print(f"  ! {len(r.failures)} step(s) failed, {r.skipped} skipped after them:")
        for f in r.failures[:12]:
            where = f"step {f.round}" if soak else f"designer {f.designer} round {f.round}"
            print(f"    {where} {f.kind}: {f.error}")
    for text in r.problems[:12]:
        print(f"  ! {text}")
    if not r.failures and not r.problems:
        print("  no step failed; every page showed its maps and no exception")


# ---------------------------------------------------------------------------------------------------------------
# Soak: one session, many interactions.


@dataclass
class Soak:
    idle_mb: float
    rss_mb: list[float]  # [0]: after the first load; then after each step
    results: Results
    hwm_mb: float


def soak_plan(steps: int, uploads: int) -> list[str]:
    """`steps` interaction names: uploads spread evenly, the other interactions in a fixed cycle between them."""
    at = {round(k * steps / uploads) for k in range(uploads)}
    cycle = ["reach", "clicks", "attention", "desktop", "clear", "mobile", "clear", "save", "compare", "explore"]
    plan, i = [], 0
    for step in range(steps):
        if step in at:
            plan.append("upload")
        else:
            plan.append(cycle[i % len(cycle)])
            i += 1
    return plan


def soak_action(d: Designer, name: str, shot: Upload, on_explore: bool) -> Callable[[], None]:
    def upload() -> None:
        if not on_explore:
            d.nav("Explore")
        if not d.page.get_by_role("radio", name="Upload").is_checked():
            d.upload_source()
        d.upload(shot)

    def on(action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            if not on_explore:
                d.nav("Explore")
            action()

        return run

    actions = {
        "upload": upload,
        "reach": on(lambda: d.map_type("Scroll reach")),
        "clicks": on(lambda: d.map_type("Clicks")),
        "attention": on(lambda: d.map_type("Attention")),
        "desktop": on(lambda: d.device("desktop")),
        "mobile": on(lambda: d.device("mobile")),
        "clear": on(lambda: d.device(None)),
        "save": on(d.save),
        "compare": lambda: d.nav("Compare"),
        "explore": lambda: d.nav("Explore"),
    }
    return actions[name]


def run_soak(app: App, steps: int, uploads: Sequence[Upload], work: Path, timeout_ms: float) -> Soak:
    from playwright.sync_api import sync_playwright

    results = Results()
    plan = soak_plan(steps, len(uploads))
    with server_for(app, work / "soak") as server, sync_playwright() as playwright:
        pid = server.proc.pid
        idle = tree_rss_mb(pid)
        browser = playwright.chromium.launch(executable_path=BROWSER["path"], args=CHROMIUM_ARGS)
        try:
            d = Designer(designer_page(browser), server.base_url, timeout_ms)
            timed(results, d, 0, 0, "open", d.open_explore, first=True)
            rss = [tree_rss_mb(pid)]
            on_explore, shot_index = True, 0
            for step, name in enumerate(plan, start=1):
                shot = uploads[shot_index % len(uploads)]
                action = soak_action(d, name, shot, on_explore)
                if not timed(results, d, 0, step, name, action) and name != "compare":
                    d.page.goto(d.base + EXPLORE, timeout=timeout_ms)  # start over on Explore, as a person would
                    with contextlib.suppress(Exception):
                        d.settle()
                shot_index += name == "upload"
                on_explore = name != "compare"
                rss.append(tree_rss_mb(pid))
                if step % 25 == 0:
                    print(f"  soak step {step}/{steps}: server RSS {rss[-1]:,.0f} MB", flush=True)
        finally:
            browser.close()
        hwm = vm_hwm_mb(pid)
    return Soak(idle, rss, results, hwm)


def print_soak(soak: Soak, steps: int, uploads: int) -> None:
    start, peak, final = soak.rss_mb[0], max(soak.rss_mb), soak.rss_mb[-1]
    limit = start + CACHE_BUDGET_MB + 100
    print(f"\n== soak: one session, {steps} interactions, {uploads} distinct tall uploads, fresh server ==")
    print(f"  interactions {secs(soak.results.times(first_load=False))}, first load {secs(soak.results.times('open'))}")
    print(f"  soak start RSS {start:,.0f} MB (after the first load; idle before {soak.idle_mb:,.0f} MB)")
    print(f"  soak peak RSS {peak:,.0f} MB (VmHWM of the server process {soak.hwm_mb:,.0f} MB)")
    print(
        f"  soak final RSS {final:,.0f} MB (budget <= start + cache budget {CACHE_BUDGET_MB} MB + 100 MB = "
        f"{limit:,.0f} MB: {verdict(final <= limit)})"
    )
    print_failures(soak.results, soak=True)


# ---------------------------------------------------------------------------------------------------------------


def round_times(results: Results, tab: bool | None = None) -> list[float]:
    """Each designer's round, the sum of its interactions (rounds with a failed step left out); `tab`: only the
    rounds of TabDesigners (True) or of browsers (False)."""
    rounds: dict[tuple[int, int], float] = {}
    for sample in results.samples:
        if tab is not None and sample.tab != tab:
            continue
        key = (sample.designer, sample.round)
        rounds[key] = rounds.get(key, 0.0) + sample.seconds
    failed = {(f.designer, f.round) for f in results.failures}
    return [seconds for key, seconds in rounds.items() if key not in failed]


def print_summary(loads: Sequence[Load]) -> None:
    print("\n== summary ==")
    print("   N   p50 all   p95 all   p95 w/o first load   peak RSS   final RSS   failed")
    for load in loads:
        every, later = load.results.times(), load.results.times(first_load=False)
        p50 = f"{statistics.median(every):6.2f} s" if every else "     - "
        p95 = f"{pct(every, 0.95):6.2f} s" if every else "     - "
        p95_later = f"{pct(later, 0.95):6.2f} s" if later else "     - "
        print(
            f"  {load.n:2d}  {p50}  {p95}       {p95_later}       {load.peak_mb:6,.0f} MB  {load.final_mb:6,.0f} MB"
            f"   {len(load.results.failures)}"
        )
    one = next((x for x in loads if x.n == 1 and x.results.samples), None)
    words = {2: "two", 5: "five", 10: "ten"}
    for load in loads:
        if one is None or load.n == 1 or not load.results.samples:
            continue
        alike = one.results.samples[0].tab  # N=1's one designer, and at N the designers of its kind
        ratio = statistics.median(load.results.times(tab=alike)) / statistics.median(one.results.times())
        budget = f" (budget <= 2.5x: {verdict(ratio <= 2.5)})" if load.n == 5 else ""
        kind = "as tabs" if alike else "in Chromium"
        print(
            f"{words.get(load.n, str(load.n))} sessions vs one: {ratio:.1f}x (p50 per interaction at N={load.n} / at "
            f"N=1, of the designers {kind} as at N=1){budget}"
        )
        ours, theirs = round_times(load.views, tab=alike), round_times(one.views)
        if ours and theirs:
            ratio = statistics.median(ours) / statistics.median(theirs)
            budget = f" (budget <= 2.5x: {verdict(ratio <= 2.5)})" if load.n == 5 else ""
            print(
                f"  on the same views: {ratio:.1f}x (p50 of a same-views round, {statistics.median(ours):.1f} s at "
                f"N={load.n} / {statistics.median(theirs):.1f} s at N=1){budget}"
            )
        if load.server_runs and one.server_runs:
            ratio = statistics.median(load.server_runs) / statistics.median(one.server_runs)
            budget = f" (budget <= 2.5x: {verdict(ratio <= 2.5)})" if load.n == 5 else ""
            print(f"  the server's own run time: {ratio:.1f}x (p50 per script run at N={load.n} / at N=1){budget}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N = 1, 2; 1 round; a 30-step soak with 4 uploads")
    parser.add_argument("--designers", type=int, nargs="+", help="the N to measure (default 1 5 10; quick 1 2)")
    parser.add_argument("--rounds", type=int, help="rounds per designer (default 2; quick 1)")
    parser.add_argument(
        "--views-rounds", type=int, help="same-views rounds per designer after the scripted ones (default 2)"
    )
    parser.add_argument("--soak-steps", type=int, help="default 200; quick 30 (0: no soak)")
    parser.add_argument("--soak-uploads", type=int, help="default 20; quick 4")
    parser.add_argument("--step-timeout", type=float, default=90, help="seconds per interaction (default 90)")
    parser.add_argument(
        "--clients",
        choices=("mixed", "browser", "tabs"),
        default="mixed",
        help="mixed (default): the first designer in Chromium, the others as tabs (Streamlit's messages, no browser); "
        "browser: every designer in Chromium on this machine; tabs: none in Chromium",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds a designer looks at the page between two steps, on average (default 0: all steps back to back, "
        "every designer's upload at the same moment)",
    )
    parser.add_argument(
        "--nice-browsers",
        action="store_true",
        help="run the browsers at nice 19: the server gets the cores first, as if the browsers were on other machines",
    )
    parser.add_argument("--app-root", type=Path, default=ROOT, help=argparse.SUPPRESS)  # another checkout's app
    args = parser.parse_args()
    designers = args.designers or ([1, 2] if args.quick else [1, 5, 10])
    rounds = args.rounds or (1 if args.quick else 2)
    views_rounds = args.views_rounds if args.views_rounds is not None else (1 if args.quick else 2)
    soak_steps = args.soak_steps if args.soak_steps is not None else (30 if args.quick else 200)
    soak_uploads = args.soak_uploads or (4 if args.quick else 20)
    app_root = args.app_root.resolve()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no chromium at {CHROMIUM}")

    work = Path(tempfile.mkdtemp(prefix="heatmap-load-"))
    try:
        commit = subprocess.run(
            ["git", "-C", str(app_root), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        print(f"app: {app_root}/streamlit_app.py (commit {commit or '?'}); work: {work}; {os.cpu_count()} CPU(s)")
        print(f"designers {designers}, {rounds} round(s) each; soak {soak_steps} steps, {soak_uploads} uploads")
        print(f"clients: {CLIENTS[args.clients]}")
        THINK["seconds"] = args.think
        print(f"think time between steps: {args.think:g} s on average (0.5-1.5x; not counted in any figure)")
        BROWSER["path"] = browser_launcher(work, args.nice_browsers)
        if args.nice_browsers:
            print("the browsers run at nice 19 (--nice-browsers): the server's threads get the cores first")
        app = App(app_root, work / "home")
        prepare_home(app_root, app.home)
        uploads = make_uploads(work / "uploads", max(max(designers) * rounds, soak_uploads))
        timeout_ms = args.step_timeout * 1000
        loads = []
        for n in designers:
            load = run_load(app, n, rounds, uploads, work, timeout_ms, views_rounds, args.clients)
            print_load(load, rounds)
            loads.append(load)
        print_summary(loads)
        if soak_steps:
            soak = run_soak(app, soak_steps, uploads[:soak_uploads], work, timeout_ms)
            print_soak(soak, soak_steps, soak_uploads)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
