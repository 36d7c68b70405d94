"""The embedded demo: a deterministic, realistic site exported the way AppFlow exports GA4 reports.

Four pages of different heights, three devices, five channels, new and returning visitors, 62 days.
Dwell decays down the page with hot sections (hero, price table, form); clicks cluster on buttons. Each page
view's seconds in a band are drawn one by one (gamma, heavy-tailed), so the exports carry the sum of their
squares (`hm_seconds_sq`) as the tag sends it. Returning visitors differ in ways Compare should find: they scroll
further, linger less per band, and hardly click "Sign up" (they have an account) but search more.
Like real exports it has flaws on purpose: one missing day, one GA date exported by two overlapping
executions (the later one revised upwards), one malformed line, a few `(other)` rows and two forged rows
(a band 99,999,999 px down the page and negative seconds: GA4 records whatever a spam bot sends).
The last week came by the event route (tracking/bigquery): the `-events-daily` flow's rows, plain column names and
typed values, no "(other)" rows, a layout bucket per device, as the BigQuery table is exported.
Each page and device also gets a synthetic full-page screenshot drawn from the same layout.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from heatmap import contract

FLOW = "ga4-heatmap-daily"
EVENT_FLOW = "ga4-heatmap" + contract.EVENT_DAILY_FLOW_SUFFIX  # typed Parquet, as the event route writes
BACKFILL_FLOW = "ga4-heatmap" + contract.BACKFILL_FLOW_SUFFIX  # the manual re-run, set to CSV
EVENT_ROUTE_DAYS = 7  # the last week: the team switched to the event route and stopped the report's daily flow
LAYOUTS = {"mobile": "360-767", "tablet": "768-1023", "desktop": "1440-1919"}
FIRST_DAY = date(2026, 9, 1)
DAYS = 62
MISSING_DAY = date(2026, 10, 14)  # the AppFlow run failed (GA 503) and nobody re-ran it
REVISED_DAY = date(2026, 10, 20)  # re-exported by a manual re-run two days later, with revised numbers
MALFORMED_DAY = date(2026, 9, 17)
SEED = 20260901
VERSION = 6  # bump when the generated data changes: ensure_demo rewrites an older demo folder
DWELL_SHAPE = 1.5  # gamma shape of one page view's seconds in a band (mean = shape x scale): skewed, like dwell
DWELL_MEAN = {"new": 3.6, "returning": 2.8}  # seconds per page view that saw a band of interest 1

DEVICES = {"desktop": (1440, 1, 0.52), "mobile": (390, 2, 0.40), "tablet": (820, 1, 0.08)}  # css width, dpr, share
CHANNELS = {"Organic Search": 0.42, "Direct": 0.23, "Paid Search": 0.17, "Referral": 0.10, "Email": 0.08}
VISITORS = {"new": 0.62, "returning": 0.38}


@dataclass(frozen=True)
class Section:
    name: str
    top: float  # fraction of page height
    bottom: float
    interest: float  # dwell multiplier
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class Button:
    label: str
    x: float  # centre, fraction of width
    y: float  # centre, fraction of page height
    clicks: float  # clicks per page view that reaches it
    returning: float = 1.0  # multiplier for returning visitors
    rage: float = 0.0  # share of its clicks that end a rage burst (contract.RAGE_EVENT)
    dead: float = 0.0  # share of its clicks that are dead (contract.DEAD_EVENT): it looks clickable but is not


@dataclass(frozen=True)
class DemoPage:
    path: str
    desktop_height: int
    daily_views: float
    sections: tuple[Section, ...]
    buttons: tuple[Button, ...]
    inert: tuple[Button, ...] = ()  # things that look clickable and are not: their clicks are dead
    pinned: tuple[Button, ...] = ()  # fixed to the screen: y is a fraction of the first screen (FOLDS)


def _sections(*items: tuple[str, float, float, float]) -> tuple[Section, ...]:
    palette = [(230, 238, 250), (250, 246, 232), (236, 248, 238), (248, 236, 240), (240, 240, 240), (232, 244, 248)]
    return tuple(Section(n, t, b, w, palette[i % len(palette)]) for i, (n, t, b, w) in enumerate(items))


PAGES: tuple[DemoPage, ...] = (
    DemoPage(
        "/",
        3000,
        210,
        _sections(
            ("Hero", 0.0, 0.2, 2.2),
            ("Featured jobs", 0.2, 0.45, 1.3),
            ("How it works", 0.45, 0.65, 0.8),
            ("Testimonials", 0.65, 0.85, 0.6),
            ("Footer", 0.85, 1.0, 0.3),
        ),
        (
            Button("Search jobs", 0.5, 0.12, 0.22, returning=1.3),
            Button("Sign up", 0.85, 0.02, 0.05, returning=0.2),
            Button("View job", 0.3, 0.33, 0.08),
        ),
        pinned=(Button("Chat with us", 0.9, 0.9, 0.02),),
    ),
    DemoPage(
        "/pricing",
        3600,
        95,
        _sections(
            ("Hero", 0.0, 0.15, 1.4),
            ("Price table", 0.15, 0.45, 3.0),
            ("Feature comparison", 0.45, 0.7, 1.2),
            ("FAQ", 0.7, 0.9, 0.9),
            ("Footer", 0.9, 1.0, 0.3),
        ),
        (Button("Start free trial", 0.3, 0.38, 0.10), Button("Contact sales", 0.7, 0.38, 0.06)),
        (Button("Most popular", 0.5, 0.2, 0.03, dead=0.9),),
    ),
    DemoPage(
        "/求人/detail",
        4800,
        150,
        _sections(
            ("Job title", 0.0, 0.1, 1.8),
            ("Description", 0.1, 0.45, 1.4),
            ("Requirements", 0.45, 0.62, 1.1),
            ("Application form", 0.62, 0.88, 2.6),
            ("Similar jobs", 0.88, 1.0, 0.5),
        ),
        (Button("Apply now", 0.75, 0.05, 0.09), Button("Submit application", 0.5, 0.85, 0.12, rage=0.08)),
        (Button("Salary range", 0.3, 0.5, 0.02, dead=0.8),),
        (Button("Apply (sticky bar)", 0.5, 0.93, 0.04),),
    ),
    DemoPage(
        "/blog/how-to-write-a-cv",
        5600,
        55,
        _sections(
            ("Title", 0.0, 0.08, 1.5),
            ("Article", 0.08, 0.75, 1.0),
            ("Template download", 0.75, 0.85, 2.0),
            ("Comments", 0.85, 1.0, 0.4),
        ),
        (Button("Download template", 0.5, 0.8, 0.15),),
    ),
)


#: A templated section, as on the seed's job site: a page per listing, each with a handful of page views a day, too
#: few for a map of its own; DEMO_TEMPLATES (the demo's default HEATMAP_PAGE_TEMPLATES) makes them one page.
JOB_TEMPLATE = "job listing"
DEMO_TEMPLATES = f"{JOB_TEMPLATE}=/jobs/*"
JOB_LAYOUT = DemoPage(
    "/jobs/*",
    2800,
    0.0,
    _sections(
        ("Job title", 0.0, 0.12, 1.8),
        ("Summary", 0.12, 0.4, 1.5),
        ("Details", 0.4, 0.75, 1.0),
        ("Apply", 0.75, 0.9, 2.2),
        ("Similar jobs", 0.9, 1.0, 0.5),
    ),
    (Button("Apply", 0.5, 0.82, 0.10, rage=0.05),),
    (Button("Company logo", 0.15, 0.05, 0.03, dead=0.9),),
    (Button("Save job", 0.9, 0.92, 0.03),),
)
JOB_PAGES: tuple[DemoPage, ...] = tuple(
    replace(JOB_LAYOUT, path=f"/jobs/{n}", daily_views=round(24 / n, 2)) for n in range(1, 41)
)


def page_height(page: DemoPage, device: str) -> int:
    """Narrow layouts stack content, so the same page is taller on phones."""
    return {
        "desktop": page.desktop_height,
        "tablet": int(page.desktop_height * 1.4),
        "mobile": int(page.desktop_height * 1.9),
    }[device]


FOLDS = {"desktop": 900, "tablet": 1100, "mobile": 700}  # the first screen, CSS px


def _reach_curve(page: DemoPage, device: str, bands: int, rng: np.random.Generator) -> np.ndarray:
    height = page_height(page, device)
    fold = FOLDS[device]
    y = (np.arange(bands) + 0.5) * contract.BAND_HEIGHT_PX
    below = np.clip(y - fold, 0, None)
    reach = 0.15 + 0.85 * np.exp(-below / (0.45 * height))
    reach *= np.where(y > 0.92 * height, 0.7, 1.0)
    reach[0] = 1.0
    return np.minimum.accumulate(np.clip(reach * rng.uniform(0.97, 1.0), 0, 1))


def _interest(page: DemoPage, device: str, bands: int) -> np.ndarray:
    height = page_height(page, device)
    y = (np.arange(bands) + 0.5) * contract.BAND_HEIGHT_PX / height
    weights = np.full(bands, 0.5)
    for section in page.sections:
        weights[(y >= section.top) & (y < section.bottom)] = section.interest
    return weights


def _records(day: date, revision: float, rng: np.random.Generator) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    flag_rng = np.random.default_rng([SEED, day.toordinal()])  # its own draws: the other numbers stay as they were
    weekday = 0.75 if day.weekday() >= 5 else 1.0
    for page in PAGES:
        records += _page_records(day, page, (weekday, revision), rng, flag_rng)
    jobs_rng = np.random.default_rng([SEED, day.toordinal(), 1])  # the job pages came later: their own draws too
    for page in JOB_PAGES:
        records += _page_records(day, page, (weekday, revision), jobs_rng, jobs_rng)
    for _ in range(3):
        records.append(
            _dwell(
                day,
                "(other)",
                0,
                int(rng.integers(1, 5)),
                3.0,
                {"deviceCategory": "mobile", "sessionDefaultChannelGroup": "Direct", "newVsReturning": "new"},
                9.0,
            )
        )
    return records


def _page_records(
    day: date,
    page: DemoPage,
    scales: tuple[float, float],
    rng: np.random.Generator,
    flag_rng: np.random.Generator,
) -> list[dict[str, str]]:
    """One page's rows of one day: dwell per band and segment, clicks, and flagged clicks (from `flag_rng`).
    `scales`: the day's weekday and revision factors of page views."""
    records: list[dict[str, str]] = []
    weekday, revision = scales
    for device, (_width, _dpr, device_share) in DEVICES.items():
        height = page_height(page, device)
        bands = height // contract.BAND_HEIGHT_PX
        reach = _reach_curve(page, device, bands, rng)
        interest = _interest(page, device, bands)
        for channel, channel_share in CHANNELS.items():
            for visitor, visitor_share in VISITORS.items():
                expected = page.daily_views * weekday * device_share * channel_share * visitor_share * revision
                views = int(rng.poisson(expected))
                if views == 0:
                    continue
                segment = {
                    "deviceCategory": device,
                    "sessionDefaultChannelGroup": channel,
                    "newVsReturning": visitor,
                }
                # Returning visitors know the page and scroll further down it.
                seen = rng.binomial(views, reach**0.6 if visitor == "returning" else reach)
                seen[0] = views
                # One draw per page view that saw the band, rounded like the tag: sums of s and of s².
                live = np.flatnonzero(seen)
                scale = DWELL_MEAN[visitor] / DWELL_SHAPE
                draws = rng.gamma(DWELL_SHAPE, scale, int(seen[live].sum()))
                per_view = np.round(draws * np.repeat(interest[live], seen[live]), 1)
                starts = np.concatenate(([0], np.cumsum(seen[live])[:-1]))
                sums = np.add.reduceat(per_view, starts) if live.size else np.zeros(0)
                squares = np.add.reduceat(per_view**2, starts) if live.size else np.zeros(0)
                for band, total, square in zip(live.tolist(), sums.tolist(), squares.tolist(), strict=True):
                    records.append(_dwell(day, page.path, band, int(seen[band]), total, segment, square))
                for button in page.buttons:
                    top_band = min(bands - 1, int(button.y * height) // contract.BAND_HEIGHT_PX)
                    rate = button.clicks * (button.returning if visitor == "returning" else 1.0)
                    clicks = int(rng.poisson(seen[top_band] * rate))
                    if clicks:
                        xs = np.clip(rng.normal(button.x * 100, 3.0, clicks), 0, 99).astype(int)
                        ys = np.clip(rng.normal(button.y * height, 12.0, clicks), 0, height - 1)
                        cells: dict[tuple[int, int], int] = {}
                        for cx, cy in zip(xs, (ys // contract.CLICK_Y_STEP_PX).astype(int), strict=True):
                            cells[(int(cx), int(cy))] = cells.get((int(cx), int(cy)), 0) + 1
                        for (cx, cy), count in sorted(cells.items()):
                            records.append(_click(day, page.path, cx, cy, count, segment))
                            records += _flags(day, page.path, cx, cy, count, segment, button, flag_rng)
                records += _inert_clicks(day, page, height, seen, segment, flag_rng)
                records += _pinned_clicks(day, page, device, views, segment, flag_rng)
    return records


def _dwell(
    day: date, page: str, band: int, views: int, seconds: float, segment: dict[str, str], squares: float
) -> dict[str, str]:
    return {
        "date": day.strftime("%Y%m%d"),
        "pagePath": page,
        "eventName": contract.DWELL_EVENT,
        f"customEvent:{contract.BAND_PARAM}": f"{band:03d}",
        f"customEvent:{contract.X_PARAM}": "(not set)",
        f"customEvent:{contract.Y_PARAM}": "(not set)",
        **segment,
        "eventCount": str(views),
        f"customEvent:{contract.SECONDS_PARAM}": f"{seconds:.1f}",
        f"customEvent:{contract.SECONDS_SQ_PARAM}": f"{squares:.2f}",
    }


def _flags(
    day: date, page: str, x: int, y: int, count: int, segment: dict[str, str], button: Button, rng: np.random.Generator
) -> list[dict[str, str]]:
    """The rage and dead clicks among `count` clicks on `button` at one cell."""
    out = []
    for event, share in ((contract.RAGE_EVENT, button.rage), (contract.DEAD_EVENT, button.dead)):
        flagged = int(rng.binomial(count, share)) if share else 0
        if flagged:
            out.append(_click(day, page, x, y, flagged, segment, event))
    return out


def _inert_clicks(
    day: date, page: DemoPage, height: int, seen: np.ndarray, segment: dict[str, str], rng: np.random.Generator
) -> list[dict[str, str]]:
    """Clicks on what looks clickable and is not (DemoPage.inert), most of them dead."""
    out: list[dict[str, str]] = []
    for thing in page.inert:
        band = min(len(seen) - 1, int(thing.y * height) // contract.BAND_HEIGHT_PX)
        clicks = int(rng.poisson(seen[band] * thing.clicks))
        x, y = int(thing.x * 100), int(thing.y * height) // contract.CLICK_Y_STEP_PX
        if clicks:
            out.append(_click(day, page.path, x, y, clicks, segment))
            out += _flags(day, page.path, x, y, clicks, segment, thing, rng)
    return out


def _pinned_clicks(
    day: date, page: DemoPage, device: str, views: int, segment: dict[str, str], rng: np.random.Generator
) -> list[dict[str, str]]:
    """Clicks on what stays on screen (DemoPage.pinned): at their screen position, as contract.FIXED_EVENT."""
    out = []
    for thing in page.pinned:
        clicks = int(rng.poisson(views * thing.clicks))
        if clicks:
            y = int(thing.y * FOLDS[device]) // contract.CLICK_Y_STEP_PX
            out.append(_click(day, page.path, int(thing.x * 100), y, clicks, segment, contract.FIXED_EVENT))
    return out


def _click(
    day: date, page: str, x: int, y: int, count: int, segment: dict[str, str], event: str = contract.CLICK_EVENT
) -> dict[str, str]:
    return {
        "date": day.strftime("%Y%m%d"),
        "pagePath": page,
        "eventName": event,
        f"customEvent:{contract.BAND_PARAM}": "(not set)",
        f"customEvent:{contract.X_PARAM}": str(x),
        f"customEvent:{contract.Y_PARAM}": str(y),
        **segment,
        "eventCount": str(count),
        f"customEvent:{contract.SECONDS_PARAM}": "0",
        f"customEvent:{contract.SECONDS_SQ_PARAM}": "0",
    }


def _event_row(record: dict[str, str]) -> dict[str, object]:
    """A report record as the event route's table holds it (heatmap_daily.sql): typed, nulls for unset values."""
    row: dict[str, object] = {}
    for key, value in record.items():
        name = key.removeprefix("customEvent:")
        row[name] = None if value == "(not set)" else value
    row["eventCount"] = int(record["eventCount"])
    for name in (contract.SECONDS_PARAM, contract.SECONDS_SQ_PARAM):
        row[name] = float(record[f"customEvent:{name}"])
    row[contract.LAYOUT_FIELD] = LAYOUTS.get(record["deviceCategory"])
    row[contract.TEMPLATE_FIELD] = "(not set)"  # the demo's pages declare no template: its rule names them
    row[contract.ROUTE_FIELD] = contract.EVENT_ROUTE
    return row


def _write_execution(
    root: Path,
    run_at: datetime,
    days: list[tuple[date, list[dict[str, str]]]],
    ids: np.random.Generator,
    malformed: bool = False,
    flow: str = FLOW,
) -> None:
    execution = str(uuid.UUID(bytes=ids.bytes(16), version=4))
    folder = root / flow / run_at.strftime("%Y/%m/%d") / execution
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = [dict(record) for _day, records in days for record in records]
    if flow == EVENT_FLOW:
        rows = [_event_row(record) for _day, records in days for record in records if "(other)" not in record.values()]
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    if malformed:
        day = days[0][0].strftime("%Y%m%d")
        lines.insert(len(lines) // 2, '{"date": "' + day + '", "pagePath": "/", "eventName": ')
        forged = [dict(days[0][1][0]), dict(days[0][1][0])]
        forged[0].update({"eventName": contract.DWELL_EVENT, f"customEvent:{contract.BAND_PARAM}": "99999999"})
        forged[1].update(
            {
                "eventName": contract.DWELL_EVENT,
                f"customEvent:{contract.BAND_PARAM}": "003",
                f"customEvent:{contract.SECONDS_PARAM}": "-50",
            }
        )
        lines[len(lines) // 3 : len(lines) // 3] = [json.dumps(record, ensure_ascii=False) for record in forged]
    if flow == EVENT_FLOW:
        _write_parts(folder, execution, run_at, [_parquet(rows)], "parquet")
    elif flow == BACKFILL_FLOW:
        _write_parts(folder, execution, run_at, [_csv(rows)], "csv")
    else:
        chunk = 20000  # AppFlow splits a run into several files
        parts = ["\n".join(lines[start : start + chunk]) + "\n" for start in range(0, len(lines), chunk)]
        _write_parts(folder, execution, run_at, [part.encode() for part in parts], "jsonl")


def _write_parts(folder: Path, execution: str, run_at: datetime, parts: list[bytes], suffix: str) -> None:
    for number, data in enumerate(parts):
        path = folder / f"{execution[:8]}-part-{number:05d}.{suffix}"
        path.write_bytes(data)
        stamp = run_at.timestamp()
        os.utime(path, (stamp, stamp))


def _csv(rows: list[dict[str, object]]) -> bytes:
    """A flow set to CSV: a header row of the fields, then one line per record."""
    text = io.StringIO()
    writer = csv.DictWriter(text, list(dict.fromkeys(k for row in rows for k in row)), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _parquet(rows: list[dict[str, object]]) -> bytes:
    """The event route's typed Parquet: the GA date a DATE, counts integers, seconds doubles, unset values null."""
    import polars as pl

    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("date").str.strptime(pl.Date, "%Y%m%d"),
        *(pl.col(f"hm_{name}").cast(pl.Int64, strict=False) for name in ("band", "x", "y")),
    )
    sink = io.BytesIO()
    frame.write_parquet(sink)
    return sink.getvalue()


# --- screenshots: full pages drawn from the same layout as the data ------------------------------------------


def screenshot_name(path: str, device: str) -> str:
    """The demo screenshot of a page or template (the job listings share one)."""
    is_job = path == JOB_TEMPLATE or path.startswith("/jobs/")
    slug = "jobs" if is_job else path.strip("/").replace("/", "_") or "home"
    return f"{slug}__{device}.png"


def draw_page(page: DemoPage, device: str) -> Image.Image:
    css_width, dpr, _share = DEVICES[device]
    width, height = css_width * dpr, page_height(page, device) * dpr
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    title_font = ImageFont.load_default(size=28 * dpr if css_width > 500 else 20 * dpr)
    text_font = ImageFont.load_default(size=14 * dpr)
    margin = int(width * 0.06)
    for section in page.sections:
        top, bottom = int(section.top * height), int(section.bottom * height)
        draw.rectangle((0, top, width, bottom), fill=section.colour)
        draw.line((0, top, width, top), fill=(200, 200, 210), width=dpr)
        draw.text((margin, top + 24 * dpr), section.name, fill=(40, 40, 60), font=title_font)
        line_y = top + 80 * dpr
        while line_y < bottom - 30 * dpr:
            length = width - 2 * margin - ((line_y // (7 * dpr)) % 5) * margin
            draw.rounded_rectangle(
                (margin, line_y, margin + length, line_y + 10 * dpr), radius=4 * dpr, fill=(205, 208, 215)
            )
            line_y += 28 * dpr
    for button in page.buttons:
        cx, cy = int(button.x * width), int(button.y * height)
        half_w, half_h = int(min(width * 0.18, 150 * dpr)), 22 * dpr
        draw.rounded_rectangle(
            (cx - half_w, cy - half_h, cx + half_w, cy + half_h), radius=10 * dpr, fill=(37, 99, 235)
        )
        draw.text((cx, cy), button.label, fill=(255, 255, 255), font=text_font, anchor="mm")
    for thing in page.pinned:  # fixed to the screen: drawn where it sits on the first screen
        cx, cy = int(thing.x * width), int(thing.y * FOLDS[device] * dpr)
        half_w, half_h = int(min(width * 0.2, 110 * dpr)), 20 * dpr
        draw.rounded_rectangle(
            (cx - half_w, cy - half_h, cx + half_w, cy + half_h), radius=20 * dpr, fill=(22, 163, 74)
        )
        draw.text((cx, cy), thing.label, fill=(255, 255, 255), font=text_font, anchor="mm")
    for thing in page.inert:  # a pill that looks like a link: dead clicks land on it
        cx, cy = int(thing.x * width), int(thing.y * height)
        half_w, half_h = int(min(width * 0.12, 90 * dpr)), 14 * dpr
        draw.rounded_rectangle(
            (cx - half_w, cy - half_h, cx + half_w, cy + half_h), radius=14 * dpr, fill=(254, 243, 199)
        )
        draw.text((cx, cy), thing.label, fill=(146, 64, 14), font=text_font, anchor="mm")
    return image


def write_screenshots(folder: str | os.PathLike[str]) -> list[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for page in (*PAGES, JOB_LAYOUT):
        for device in DEVICES:
            path = out / screenshot_name(page.path, device)
            draw_page(page, device).save(path, format="PNG", optimize=False, compress_level=6)
            written.append(path)
    return written


def write_demo(out: str | os.PathLike[str]) -> Path:
    """Write the demo exports (AppFlow layout) and screenshots into `out`; returns the folder."""
    root = Path(out)
    rng = np.random.default_rng(SEED)
    ids = np.random.default_rng(SEED + 1)
    data = {FIRST_DAY + timedelta(n): _records(FIRST_DAY + timedelta(n), 1.0, rng) for n in range(DAYS)}
    revised = _records(REVISED_DAY, 1.08, np.random.default_rng(SEED + 2))
    for offset in range(DAYS):
        day = FIRST_DAY + timedelta(offset)
        if day == MISSING_DAY:
            continue
        run_at = datetime.combine(day + timedelta(1), datetime.min.time(), UTC) + timedelta(hours=2)
        flow = EVENT_FLOW if offset >= DAYS - EVENT_ROUTE_DAYS else FLOW
        _write_execution(root, run_at, [(day, data[day])], ids, malformed=day == MALFORMED_DAY, flow=flow)
    rerun_at = datetime.combine(REVISED_DAY + timedelta(3), datetime.min.time(), UTC) + timedelta(hours=9)
    _write_execution(root, rerun_at, [(REVISED_DAY, revised)], ids, flow=BACKFILL_FLOW)
    write_screenshots(root / "screenshots")
    return root


def ensure_demo(folder: str | os.PathLike[str]) -> Path:
    """The demo dataset in `folder`, written once (a marker file says it is complete and which version it is;
    a folder of an older version is replaced)."""
    root = Path(folder)
    marker = root / ".complete"
    wanted = {"seed": SEED, "days": DAYS, "version": VERSION}
    try:
        current = json.loads(marker.read_text())
    except (OSError, ValueError):
        current = None
    if current != wanted:
        if root.exists() and current is not None:
            shutil.rmtree(root)  # an older demo: generated data only, never user data
        write_demo(root)
        marker.write_text(json.dumps(wanted))
    return root
