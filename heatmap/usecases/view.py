"""What defines a view, and its round trip through a URL query string. Pure: no Streamlit here.

A link holds every choice that changes what is shown (page, dates, segment, heatmap type, screenshot by sha256,
alignment and display settings), so opening it in a fresh browser shows the same view. Parsing never raises: a
value that is malformed or no longer valid (a page gone from the data, a date outside it, an unknown segment
value, ...) falls back to the default and is reported as a `Problem` the page shows as a warning.

A link is untrusted input. Streamlit drops a whole query string of more than 1000 fields or 512 Ki characters
before the app runs (and turns invalid UTF-8 escapes like `%ff` into U+FFFD); what reaches the app is capped by
`bound_params` (value length, values per key), and a Problem keeps only the start of what the link said, so no
link puts an unbounded value into session state, a cache key or the page.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from heatmap.contract import MAP_KINDS, SEGMENT_ALIASES
from heatmap.drawing import render
from heatmap.drawing.ramps import RAMPS as RAMPS  # re-exported: the ramps a link may name
from heatmap.drawing.render import SCALE_MODES
from heatmap.table import FLAG_KINDS as FLAG_LAYERS

KINDS = MAP_KINDS
#: The clicks a click map shows: all of them, or those flagged rage, dead or fixed (link key `clicks`).
LAYERS = ("all", *FLAG_LAYERS)
SCALES = SCALE_MODES
DPRS = (1.0, 1.5, 2.0, 2.5, 3.0, 4.0)
DEFAULT_DAYS = 28
SHA256 = re.compile(r"^[0-9a-f]{64}$")
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_VALUE_CHARS = 2_048  # a longer query value is ignored (page paths, dates, numbers are all far shorter)
MAX_KEY_CHARS = 100
MAX_VALUES = 50  # values read per query key (a segment dimension has a few dozen at most that make sense)
PREVIEW_CHARS = 100  # of a key or value kept in a Problem
BROKEN = "\ufffd"  # what an invalid UTF-8 percent-escape in the link decodes to

#: Query keys of `MapSettings` (how the map is drawn), the same on every page that draws one.
DISPLAY_KEYS = ("dpr", "shift", "crop_top", "crop_bottom", "ramp", "opacity", "scale", "ceiling", "smooth")
#: Query keys the map viewer sets in the browser (heatmap/ui/viewer.js): the map type and its colours.
INSTANT_KEYS = ("type", "ramp", "opacity", "scale", "ceiling", "smooth")
#: Query keys that are not view settings but are understood by every page.
COMMON_KEYS = ("lang", "run", "s")  # s: a short link (heatmap/usecases/links.py)
#: Query keys of `Spot`: where the map viewer opens. Only the viewer's "link to this spot" writes them.
SPOT_KEYS = ("at", "zoom", "layout", "swipe")
ZOOMS = ("fit", "actual")  # heatmap.ui.viewer: the map as wide as the frame, or at the screenshot's CSS width
LAYOUTS = ("side", "swipe")  # heatmap.ui.viewer.LAYOUTS: two maps side by side, or B over A with a slider
MAX_DEPTH_PX = 1_000_000  # deeper than any page a screenshot can show; the viewer stops at the page's end
_ALIAS_OF = {column: alias for alias, column in SEGMENT_ALIASES.items()}


@dataclass(frozen=True)
class Problem:
    """A link setting that was ignored: which key, what it said, and why (an i18n key under `link.`)."""

    key: str
    value: str
    reason: str

    def __post_init__(self) -> None:
        """Only the start of what the link said is kept: a 100 KB value is not worth holding or showing."""
        for name in ("key", "value"):
            text = getattr(self, name)
            if len(text) > PREVIEW_CHARS:
                object.__setattr__(self, name, text[:PREVIEW_CHARS] + "…")


@dataclass(frozen=True)
class Options:
    """What the loaded data allows: page templates and pages busiest first, the days with data, segment values per
    dimension."""

    pages: tuple[str, ...]  # page templates first (heatmap/templates.py), then paths
    first_day: date | None
    last_day: date | None
    segments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    templates: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)  # name -> (path, views)s

    def default_range(self) -> tuple[date, date] | None:
        if self.first_day is None or self.last_day is None:
            return None
        return last_days(self.last_day, self.first_day)


def last_days(end: date, first_day: date | None = None, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    """The default period everywhere (the app, a link without dates, the CLI): `days` days up to `end`, not
    before the first day with data."""
    start = end - timedelta(days=days - 1)
    return (max(start, first_day) if first_day else start), end


def previous_period(start: date, end: date, first_day: date | None = None) -> tuple[date, date] | None:
    """The period as long as start..end just before it, not before `first_day`; None when nothing is left."""
    length = (end - start).days + 1
    before = max(start - timedelta(days=length), first_day) if first_day else start - timedelta(days=length)
    last = start - timedelta(days=1)
    return (before, last) if before <= last else None


def same_selection(a: View, b: View) -> bool:
    """A and B select the same page views (a dimension with no values selected is no filter)."""
    return (a.start, a.end, _filters(a.where)) == (b.start, b.end, _filters(b.where))


def can_share_page_views(a: View, b: View) -> bool:
    """True when A and B can hold the same page views, so Compare's tests (two separate groups) do not hold:
    their dates overlap and, in every dimension both filter, they have a value in common."""
    if None in (a.start, a.end, b.start, b.end):
        return False
    if a.end < b.start or b.end < a.start:  # type: ignore[operator]
        return False
    where_a, where_b = _filters(a.where), _filters(b.where)
    return all(set(where_a[dim]) & set(where_b[dim]) for dim in where_a.keys() & where_b.keys())


def _filters(where: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    return {dim: frozenset(values) for dim, values in where.items() if values}


@dataclass(frozen=True)
class MapSettings:
    """How the map is drawn over the screenshot (does not change the numbers)."""

    dpr: float = 1.0  # screenshot pixels per CSS pixel
    shift: int = 0  # CSS px; positive moves the data down relative to the screenshot
    crop_top: int = 0  # screenshot px cut from the top (e.g. browser chrome)
    crop_bottom: int = 0  # screenshot px cut from the bottom
    ramp: str = "classic"
    opacity: float = 0.45  # low enough that the page under the map stays readable
    scale: str = "max"
    ceiling: float | None = None  # only with scale == "fixed": the value painted at full colour
    smooth: bool = False  # attention/reach: a gradient between band centres instead of one colour per band

    def drawing(self, kind: str) -> render.Display:
        """What the renderer draws for a map of `kind` with these settings (a fixed scale needs its ceiling)."""
        scale = self.scale if self.scale in SCALE_MODES else "max"
        ceiling = self.ceiling if scale == "fixed" else None
        if scale == "fixed" and not ceiling:
            scale = "max"
        return render.Display(
            kind=kind,  # type: ignore[arg-type]
            ramp=self.ramp,
            opacity=self.opacity,
            scale=scale,  # type: ignore[arg-type]
            ceiling=ceiling,
            smooth=self.smooth,
        )

    def alignment(self, shot_width: int, shot_height: int, factor: float = 1.0) -> render.Alignment:
        """How the data lands on a screenshot `shot_width` wide, drawn at `factor` of its size (1: full size)."""
        bottom = shot_height - self.crop_bottom if self.crop_bottom else None
        return render.Alignment(
            dpr=self.dpr * factor,
            css_width=shot_width / self.dpr,
            shift_px=float(self.shift),
            crop_top=round(self.crop_top * factor),
            crop_bottom=round(bottom * factor) if bottom is not None else None,
        )


#: The numeric map settings a link, a widget or the CLI may set: lowest, highest, decimals kept (0: a whole
#: number; None: kept as given).
SETTING_RANGES: dict[str, tuple[float, float, int | None]] = {
    "dpr": (0.5, 5.0, 2),
    "shift": (-10_000, 10_000, 0),
    "crop_top": (0, 200_000, 0),
    "crop_bottom": (0, 200_000, 0),
    "opacity": (0.05, 1.0, 2),
    "ceiling": (0.001, 1_000_000.0, None),
}


@dataclass(frozen=True)
class Spot:
    """Where on the page the map viewer opens: `at` CSS px from the top of the data, the zoom, and the layout of
    two maps. Not part of the view (the numbers do not depend on it), so it never enters the address by itself:
    a "link to this spot" sends it, and the page applies it once, when the link is opened."""

    at: int | None = None
    zoom: str | None = None
    layout: str | None = None
    swipe: int | None = None  # with the swipe layout: where the edge between A and B is, % of the width


@dataclass(frozen=True)
class View:
    page: str | None = None
    start: date | None = None
    end: date | None = None
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kind: str = "attention"
    shot: str | None = None  # sha256 of the screenshot
    display: MapSettings = field(default_factory=MapSettings)
    spot: Spot = field(default_factory=Spot, compare=False)  # from a link only; never written to one
    layer: str = "all"  # one of LAYERS: which clicks the click map counts

    def with_(self, **changes: object) -> View:
        return replace(self, **changes)  # type: ignore[arg-type]


def default_view(options: Options) -> View:
    """The busiest path (page templates, listed first, are chosen by name), the last four weeks with data, and the
    commonest device: a screenshot shows one device's layout, so mixing devices would paint one layout's bands
    over another's."""
    start_end = options.default_range()
    devices = options.segments.get("deviceCategory", ())
    paths = [page for page in options.pages if page not in options.templates] or list(options.pages)
    return View(
        page=paths[0] if paths else None,
        start=start_end[0] if start_end else None,
        end=start_end[1] if start_end else None,
        where={"deviceCategory": (devices[0],)} if devices else {},
    )


def url_key(dimension: str, prefix: str = "") -> str:
    """The query key of a segment dimension: its friendly alias when it has one (device, channel, visitor)."""
    return prefix + _ALIAS_OF.get(dimension, dimension)


def bound_params(params: Mapping[str, Sequence[str]]) -> tuple[dict[str, list[str]], list[Problem]]:
    """The part of a link that is read: keys and values of sane length, at most MAX_VALUES values per key.
    The rest is ignored and reported, so memory and time follow what a real view needs, not what a link says."""
    out: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for key, values in params.items():
        if BROKEN in key or len(key) > MAX_KEY_CHARS:
            problems.append(Problem(key, ",".join(values[:3]), "bad_text" if BROKEN in key else "unknown_key"))
            continue
        if len(values) > MAX_VALUES:
            problems.append(Problem(key, f"×{len(values)}", "too_many_values"))
            values = values[:MAX_VALUES]
        kept = [value for value in values if len(value) <= MAX_VALUE_CHARS]
        if len(kept) < len(values):
            problems.append(Problem(key, next(v for v in values if len(v) > MAX_VALUE_CHARS), "too_long"))
        if kept:
            out[key] = kept
    return out, problems


def _explain(problems: list[Problem]) -> list[Problem]:
    """A value that names nothing because the link's percent-escapes were broken says so."""
    return [replace(p, reason="bad_text") if BROKEN in p.value and p.reason != "too_long" else p for p in problems]


def _dimension_for(key: str, options: Options, prefix: str) -> str | None:
    if not key.startswith(prefix):
        return None
    name = key[len(prefix) :]
    for candidate in (name, SEGMENT_ALIASES.get(name, "")):
        if candidate in options.segments:
            return candidate
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _choice(
    params: Mapping[str, Sequence[str]],
    key: str,
    choices: Sequence[str],
    problems: list[Problem],
    reason: str = "unknown_value",
) -> str | None:
    """The link's (last) value for `key` if it is one of `choices`; a wrong value is noted and ignored."""
    found = params.get(key)
    if not found:
        return None
    if found[-1] in choices:
        return found[-1]
    problems.append(Problem(key, found[-1], reason))
    return None


def _bounded(
    params: Mapping[str, Sequence[str]], key: str, low: float, high: float, problems: list[Problem], whole: bool = False
) -> float | None:
    """The link's (last) number for `key` if it is finite and from `low` to `high` (and whole, if asked); a wrong
    value is noted and ignored."""
    found = params.get(key)
    if not found:
        return None
    number = _number(found[-1])
    if number is None or not low <= number <= high or (whole and number != int(number)):
        problems.append(Problem(key, found[-1], "bad_number"))
        return None
    return number


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def parse_range(
    params: Mapping[str, Sequence[str]],
    options: Options,
    keys: tuple[str, str] = ("from", "to"),
    problems: list[Problem] | None = None,
) -> tuple[date | None, date | None]:
    """A date range from the link, or the default (last 28 days with data) with a Problem for what was wrong."""
    problems = [] if problems is None else problems
    default = options.default_range()
    if default is None:
        return None, None
    raw = {k: (params.get(k) or [""])[-1] for k in keys if params.get(k)}
    if not raw:
        return default
    parsed = {k: _date(v) for k, v in raw.items()}
    for k, v in raw.items():
        if parsed[k] is None:
            problems.append(Problem(k, v, "bad_date"))
    start, end = parsed.get(keys[0]), parsed.get(keys[1])
    if start is None and end is None:
        return default
    try:
        if start is None:
            assert end is not None
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        if end is None:
            end = start + timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # 28 days before 0001-01-01 or after 9999-12-31
        problems.append(Problem(f"{keys[0]}..{keys[1]}", f"{start}..{end}", "dates_outside"))
        return default
    if start > end:
        problems.append(Problem(f"{keys[0]}..{keys[1]}", f"{start}..{end}", "reversed_dates"))
        return default
    first, last = options.first_day, options.last_day
    assert first is not None and last is not None
    if end < first or start > last:
        problems.append(Problem(f"{keys[0]}..{keys[1]}", f"{start}..{end}", "dates_outside"))
        return default
    if start < first or end > last:
        problems.append(Problem(f"{keys[0]}..{keys[1]}", f"{start}..{end}", "dates_clamped"))
        start, end = max(start, first), min(end, last)
    return start, end


def parse_where(
    params: Mapping[str, Sequence[str]], options: Options, prefix: str = "", problems: list[Problem] | None = None
) -> dict[str, tuple[str, ...]]:
    problems = [] if problems is None else problems
    where: dict[str, tuple[str, ...]] = {}
    for key, values in params.items():
        dimension = _dimension_for(key, options, prefix)
        if dimension is None:
            continue
        known = options.segments[dimension]
        kept: list[str] = []
        unknown: list[str] = []
        for value in values:
            if value in known:
                if value not in kept:
                    kept.append(value)
            else:
                unknown.append(value)
        if unknown:
            problems.append(Problem(key, ", ".join(unknown), "unknown_value"))
        if kept:
            where[dimension] = tuple(kept)
    return where


def parse_display(params: Mapping[str, Sequence[str]], problems: list[Problem]) -> MapSettings:
    base = MapSettings()
    values: dict[str, object] = {}
    for key, choices in (("ramp", RAMPS), ("scale", SCALES)):
        if (chosen := _choice(params, key, choices, problems)) is not None:
            values[key] = chosen
    if (smooth := _choice(params, "smooth", ("0", "1"), problems)) is not None:
        values["smooth"] = smooth == "1"
    for key, (low, high, decimals) in SETTING_RANGES.items():
        number = _bounded(params, key, low, high, problems, whole=decimals == 0)
        if number is None:
            continue
        values[key] = int(number) if decimals == 0 else number if decimals is None else round(number, decimals)
    display = replace(base, **values)  # type: ignore[arg-type]
    if display.scale == "fixed" and display.ceiling is None:
        problems.append(Problem("scale", "fixed", "ceiling_missing"))
        display = replace(display, scale="max")
    if display.scale != "fixed" and display.ceiling is not None:
        display = replace(display, ceiling=None)
    return display


def parse_spot(params: Mapping[str, Sequence[str]], problems: list[Problem]) -> Spot:
    def rounded(number: float | None) -> int | None:
        return None if number is None else round(number)

    return Spot(
        at=rounded(_bounded(params, "at", 0, MAX_DEPTH_PX, problems)),
        zoom=_choice(params, "zoom", ZOOMS, problems),
        layout=_choice(params, "layout", LAYOUTS, problems),
        swipe=rounded(_bounded(params, "swipe", 0, 100, problems)),
    )


def parse_shot(params: Mapping[str, Sequence[str]], problems: list[Problem], key: str = "shot") -> str | None:
    found = params.get(key)
    if not found:
        return None
    text = found[-1].strip().lower()
    if SHA256.match(text):
        return text
    problems.append(Problem(key, found[-1], "bad_sha"))
    return None


def parse_view(params: Mapping[str, Sequence[str]], options: Options) -> tuple[View, list[Problem]]:
    """The view a link describes, with defaults for what it omits and a Problem for everything ignored."""
    params, problems = bound_params(params)
    view = default_view(options)
    linked_page = _choice(params, "page", options.pages, problems, "unknown_page")
    view = view.with_(page=linked_page or view.page)
    start, end = parse_range(params, options, problems=problems)
    kind = _choice(params, "type", KINDS, problems) or view.kind
    layer = _choice(params, "clicks", LAYERS, problems) or view.layer
    where = parse_where(params, options, problems=problems)
    if linked_page is None and not where:
        where = dict(view.where)  # a fresh visit (or a page gone) gets the default device; a link to a page names
        #                           its segment fully
    view = view.with_(
        start=start,
        end=end,
        kind=kind,
        layer=layer,
        where=where,
        shot=parse_shot(params, problems),
        display=parse_display(params, problems),
        spot=parse_spot(params, problems),
    )
    known = {"page", "from", "to", "type", "clicks", "shot", *DISPLAY_KEYS, *COMMON_KEYS, *SPOT_KEYS}
    for key in params:
        if key not in known and _dimension_for(key, options, "") is None:
            problems.append(Problem(key, ",".join(params[key][:3]), "unknown_key"))
    return view, _explain(problems)


def where_query(where: Mapping[str, Sequence[str]], prefix: str = "") -> dict[str, list[str]]:
    return {url_key(dim, prefix): list(values) for dim, values in sorted(where.items()) if values}


def display_query(display: MapSettings) -> dict[str, list[str]]:
    """Map settings that differ from the defaults (defaults stay out of links to keep them short)."""
    base = MapSettings()
    out: dict[str, list[str]] = {}
    for name in DISPLAY_KEYS:
        value = getattr(display, name)
        if value != getattr(base, name) and value is not None:
            out[name] = [str(int(value)) if isinstance(value, bool) else _fmt(value)]
    return out


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def view_query(view: View) -> dict[str, list[str]]:
    """Query parameters (repeated keys as lists) for a view; dates are always explicit so links never drift."""
    out: dict[str, list[str]] = {}
    if view.page is not None:
        out["page"] = [view.page]
    if view.start is not None and view.end is not None:
        out["from"] = [view.start.isoformat()]
        out["to"] = [view.end.isoformat()]
    out.update(where_query(view.where))
    out["type"] = [view.kind]
    if view.layer != "all":
        out["clicks"] = [view.layer]
    if view.shot:
        out["shot"] = [view.shot]
    out.update(display_query(view.display))
    return out


def params_of(mapping: Mapping[str, object]) -> dict[str, list[str]]:
    """Normalise a {key: str | list[str]} mapping (e.g. st.query_params) to {key: [str, ...]}."""
    out: dict[str, list[str]] = {}
    for key, value in mapping.items():
        if isinstance(value, str):
            out[key] = [value]
        elif isinstance(value, Sequence):
            out[key] = [str(v) for v in value]
        else:
            out[key] = [str(value)]
    return out


# --- Compare ------------------------------------------------------------------------------------------------

MODES = ("segments", "periods")


EFFECT_RANGE = (0.0, 100.0)  # a headline's smallest difference: points of reach, or % of A


@dataclass(frozen=True)
class CompareView:
    """Two selections of one page: two segments over one period, or two periods of one segment."""

    mode: str = "segments"
    page: str | None = None
    kind: str = "reach"
    start: date | None = None  # the shared period (segments) or period A (periods)
    end: date | None = None
    start_b: date | None = None  # period B (periods)
    end_b: date | None = None
    where: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # shared segment (periods)
    where_a: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # segment A (segments)
    where_b: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # segment B (segments)
    shot: str | None = None
    display: MapSettings = field(default_factory=MapSettings)
    diff: bool = False  # also show the difference map B − A (on demand: A and B get the width otherwise)
    min_effect: float | None = None  # smallest difference worth a headline (None: differences.MIN_EFFECT)
    spot: Spot = field(default_factory=Spot, compare=False)  # from a link only; never written to one
    layer: str = "all"  # one of LAYERS: which clicks A and B count

    def with_(self, **changes: object) -> CompareView:
        return replace(self, **changes)  # type: ignore[arg-type]

    def sides(self) -> tuple[View, View]:
        """Selections A and B as plain views (same page, type, screenshot and display)."""
        common = {"page": self.page, "kind": self.kind, "shot": self.shot, "display": self.display, "layer": self.layer}
        if self.mode == "periods":
            return (
                View(start=self.start, end=self.end, where=self.where, **common),  # type: ignore[arg-type]
                View(start=self.start_b, end=self.end_b, where=self.where, **common),  # type: ignore[arg-type]
            )
        return (
            View(start=self.start, end=self.end, where=self.where_a, **common),  # type: ignore[arg-type]
            View(start=self.start, end=self.end, where=self.where_b, **common),  # type: ignore[arg-type]
        )

    def overlapping(self) -> bool:
        """True when A and B can share page views (the tests assume two separate groups)."""
        return can_share_page_views(*self.sides())

    def same(self) -> bool:
        return same_selection(*self.sides())


def compare_from(view: View, first_day: date | None = None) -> CompareView:
    """Compare starting from what the designer was looking at: the same page, segment, map type, screenshot and
    display, B = the view's dates and A = the period before them (A = B when the data starts there, which
    Compare says)."""
    assert view.start is not None and view.end is not None
    before = previous_period(view.start, view.end, first_day) or (view.start, view.end)
    return CompareView(
        mode="periods", page=view.page, kind=view.kind, start=before[0], end=before[1], start_b=view.start,
        end_b=view.end, where=dict(view.where), shot=view.shot, display=view.display,
    )  # fmt: skip


def default_compare(options: Options) -> CompareView:
    """Segments mode on one layout: the commonest device on both sides (one screenshot fits both), A and B the
    two commonest values of the next dimension (new vs returning, else channel, ...)."""
    base = default_view(options)
    view = CompareView(page=base.page, start=base.start, end=base.end)
    fixed = dict(base.where)
    for dim in ("newVsReturning", "sessionDefaultChannelGroup", *options.segments):
        values = options.segments.get(dim, ())
        if dim not in fixed and len(values) >= 2:
            return view.with_(where_a={**fixed, dim: (values[0],)}, where_b={**fixed, dim: (values[1],)})
    return view


def parse_compare(params: Mapping[str, Sequence[str]], options: Options) -> tuple[CompareView, list[Problem]]:
    params, problems = bound_params(params)
    view = default_compare(options)
    mode = _choice(params, "mode", MODES, problems, "bad_mode") or view.mode
    page = _choice(params, "page", options.pages, problems, "unknown_page") or view.page
    kind = _choice(params, "type", KINDS, problems) or view.kind
    start, end = parse_range(params, options, problems=problems)
    view = view.with_(mode=mode, page=page, kind=kind, start=start, end=end)
    if mode == "periods":
        if params.get("from_b") or params.get("to_b"):
            start_b, end_b = parse_range(params, options, keys=("from_b", "to_b"), problems=problems)
        elif start and end:
            start_b, end_b = start, end
            start, end = previous_period(start, end, options.first_day) or (start, end)
            view = view.with_(start=start, end=end)
        else:
            start_b, end_b = None, None
        view = view.with_(start_b=start_b, end_b=end_b, where=parse_where(params, options, problems=problems))
        view = view.with_(where_a={}, where_b={})
    else:
        has_a = any(k.startswith("a_") for k in params)
        has_b = any(k.startswith("b_") for k in params)
        if has_a or has_b:
            view = view.with_(
                where_a=parse_where(params, options, "a_", problems),
                where_b=parse_where(params, options, "b_", problems),
            )
    view = view.with_(
        shot=parse_shot(params, problems), display=parse_display(params, problems), spot=parse_spot(params, problems)
    )
    if (diff := _choice(params, "diff", ("0", "1"), problems)) is not None:
        view = view.with_(diff=diff == "1")
    view = view.with_(min_effect=_bounded(params, "effect", *EFFECT_RANGE, problems))
    view = view.with_(layer=_choice(params, "clicks", LAYERS, problems) or view.layer)
    known = {"mode", "page", "type", "clicks", "from", "to", "from_b", "to_b", "shot", "diff", "effect"}
    known |= {*DISPLAY_KEYS, *COMMON_KEYS, *SPOT_KEYS}
    for key in params:
        if key in known:
            continue
        if any(_dimension_for(key, options, prefix) for prefix in ("", "a_", "b_")):
            continue
        problems.append(Problem(key, ",".join(params[key][:3]), "unknown_key"))
    return view, _explain(problems)


def compare_query(view: CompareView) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"mode": [view.mode]}
    if view.page is not None:
        out["page"] = [view.page]
    out["type"] = [view.kind]
    if view.layer != "all":
        out["clicks"] = [view.layer]
    if view.start and view.end:
        out["from"], out["to"] = [view.start.isoformat()], [view.end.isoformat()]
    if view.mode == "periods":
        if view.start_b and view.end_b:
            out["from_b"], out["to_b"] = [view.start_b.isoformat()], [view.end_b.isoformat()]
        out.update(where_query(view.where))
    else:
        out.update(where_query(view.where_a, "a_"))
        out.update(where_query(view.where_b, "b_"))
    if view.shot:
        out["shot"] = [view.shot]
    if view.diff:
        out["diff"] = ["1"]
    if view.min_effect is not None:
        out["effect"] = [_fmt(float(view.min_effect))]
    out.update(display_query(view.display))
    return out


def colourless(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """A link's query without what the map viewer sets in the browser (type, ramp, opacity, scale, smoothing):
    the viewer adds the ones it shows."""
    return {k: v for k, v in query.items() if k not in INSTANT_KEYS}
