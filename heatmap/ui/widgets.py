"""Widgets shared by the pages: the view filters (page, dates, segment, type) and the display controls.

Every widget has a key under a page prefix (`x_` Explore, `c_` Compare). Values come from session state, seeded
from a link (or a saved run) on the first visit, and from the page's last view when coming back to it: a value
the data no longer allows is replaced by the default instead of raising.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

import streamlit as st

from heatmap.contract import TEMPLATE_FIELD
from heatmap.ingest.catalog import Catalog
from heatmap.templates import Templates
from heatmap.ui import data
from heatmap.ui.i18n import Translator
from heatmap.usecases.numbers import NO_TEMPLATES
from heatmap.usecases.view import KINDS, LAYERS, RAMPS, SCALES, SETTING_RANGES, MapSettings, Options, View, last_days


def options_for(engine: Any, templates: Templates = NO_TEMPLATES) -> tuple[Options, dict[str, int]]:
    """What the source allows (page templates, then pages busiest first, days, segment values by frequency) and
    views per page or template."""
    found: tuple[Options, dict[str, int]] = data.derived(
        engine, ("options", templates), lambda: _options(engine.catalog, templates)
    )
    return found


def options_or_note(
    t: Translator, engine: Any, source: str, templates: Templates = NO_TEMPLATES
) -> tuple[Options, dict[str, int]] | None:
    """The choices the loaded data offers, or None after telling the user that the source holds no data."""
    options, views = options_for(engine, templates)
    if not options.pages:
        st.warning(f"{t('load.empty', uri=source)}  \n{t('load.empty_hint')}", icon=":material/database:")
        return None
    return options, views


def _options(catalog: Catalog, templates: Templates = NO_TEMPLATES) -> tuple[Options, dict[str, int]]:
    days = catalog.days
    groups = templates.group(catalog.page_views, catalog.declared) if catalog.page_views else {}
    used = tuple(name for name, paths in groups.items() if paths)
    unused = tuple(name for name in groups if name not in used)  # listed last: a link to one still opens
    options = Options(
        pages=(*used, *catalog.page_views, *unused) if catalog.page_views else (),
        first_day=days[0] if days else None,
        last_day=days[-1] if days else None,
        # a declared template is chosen as the page, not as a segment
        segments={name: values for name, values in catalog.segment_values.items() if name != TEMPLATE_FIELD},
        templates=groups,
    )
    sums = {name: sum(views for _path, views in paths) for name, paths in groups.items()}
    return options, {**dict(catalog.page_views), **sums}


# --- seeding ------------------------------------------------------------------------------------------------


def _clamp_dates(start: date | None, end: date | None, options: Options) -> tuple[date, date] | None:
    default = options.default_range()
    if default is None:
        return None
    first, last = default[0], default[1]
    lo, hi = options.first_day or first, options.last_day or last
    if start is None or end is None or start > end or end < lo or start > hi:
        return default
    return max(start, lo), min(end, hi)


def view_values(prefix: str, view: View, options: Options) -> dict[str, Any]:
    """Widget key -> value for `view`, made valid for the current options."""
    page = view.page if view.page in options.pages else (options.pages[0] if options.pages else None)
    values: dict[str, Any] = {
        f"{prefix}page": page,
        f"{prefix}dates": _clamp_dates(view.start, view.end, options),
        f"{prefix}kind": view.kind if view.kind in KINDS else View().kind,
        f"{prefix}layer": view.layer if view.layer in LAYERS else View().layer,
    }
    for dim, known in options.segments.items():
        values[f"{prefix}seg_{dim}"] = [v for v in view.where.get(dim, ()) if v in known]
    values.update(display_values(prefix, view.display))
    return values


def display_values(prefix: str, display: MapSettings) -> dict[str, Any]:
    return {
        f"{prefix}dpr": float(display.dpr),
        f"{prefix}shift": int(display.shift),
        f"{prefix}crop_top": int(display.crop_top),
        f"{prefix}crop_bottom": int(display.crop_bottom),
        f"{prefix}ramp": display.ramp if display.ramp in RAMPS else MapSettings().ramp,
        f"{prefix}opacity": float(display.opacity),
        f"{prefix}scale": display.scale if display.scale in SCALES else MapSettings().scale,
        f"{prefix}ceiling": float(display.ceiling) if display.ceiling else 1.0,
        f"{prefix}smooth": bool(display.smooth),
    }


def seed(values: Mapping[str, Any], force: bool) -> None:
    """Put values into session state before the widgets exist: all of them (force) or only missing ones."""
    for key, value in values.items():
        if force or key not in st.session_state:
            st.session_state[key] = value


# --- filters ------------------------------------------------------------------------------------------------


def page_picker(t: Translator, prefix: str, options: Options, views: Mapping[str, int]) -> str | None:
    if not options.pages:
        return None
    return st.selectbox(
        t("filters.page"),
        options.pages,
        key=f"{prefix}page",
        format_func=lambda p: (
            t("filters.template_fmt", page=p, views=f"{views.get(p, 0):,}", paths=f"{len(options.templates[p]):,}")
            if p in options.templates
            else t("filters.page_fmt", page=p, views=f"{views.get(p, 0):,}")
        ),
        help=t("filters.page_help"),
        filter_mode="fuzzy",
    )


PRESET_DAYS = (7, 28, 90)
ALL_DAYS = "all"


def _date_presets(t: Translator, full_key: str, options: Options) -> None:
    """One click for the periods designers ask for most: the last 7, 28 or 90 days with data, or all of them."""
    preset_key = f"{full_key}_preset"

    def apply() -> None:
        chosen = st.session_state.get(preset_key)
        assert options.first_day is not None and options.last_day is not None
        if chosen == ALL_DAYS:
            st.session_state[full_key] = (options.first_day, options.last_day)
        elif chosen is not None:
            st.session_state[full_key] = last_days(options.last_day, options.first_day, int(chosen))
        st.session_state[preset_key] = None  # a shortcut, not a state: the dates show what is chosen

    st.pills(
        t("filters.presets"),
        [*(str(days) for days in PRESET_DAYS), ALL_DAYS],
        key=preset_key,
        format_func=lambda p: t("filters.all_days") if p == ALL_DAYS else t("filters.last_days", days=p),
        on_change=apply,
        label_visibility="collapsed",
    )


def date_range(
    t: Translator, prefix: str, options: Options, key: str = "dates", label: str | None = None
) -> tuple[date | None, date | None]:
    """A complete (start, end) range; while the user has picked only one day, the previous range stays."""
    if options.first_day is None or options.last_day is None:
        return None, None
    full_key = f"{prefix}{key}"
    _date_presets(t, full_key, options)
    value = st.date_input(
        label or t("filters.dates"),
        min_value=options.first_day,
        max_value=options.last_day,
        key=full_key,
        help=t("filters.dates_help", first=options.first_day, last=options.last_day),
        format="YYYY-MM-DD",
    )
    if isinstance(value, Sequence) and len(value) == 2:
        st.session_state[f"_{full_key}_complete"] = (value[0], value[1])
        return value[0], value[1]
    previous = st.session_state.get(f"_{full_key}_complete")
    if previous:
        return previous[0], previous[1]
    if isinstance(value, Sequence) and len(value) == 1:
        return value[0], value[0]
    if isinstance(value, date):
        return value, value
    return options.default_range() or (None, None)


def segment_filters(
    t: Translator, prefix: str, options: Options, label_prefix: str = "", key_prefix: str = "seg_"
) -> dict[str, tuple[str, ...]]:
    where: dict[str, tuple[str, ...]] = {}
    for dim, values in options.segments.items():
        chosen = st.multiselect(
            f"{label_prefix}{t.dimension(dim)}",
            list(values),
            key=f"{prefix}{key_prefix}{dim}",
            placeholder=t("filters.segment_any"),
            format_func=functools.partial(t.value, dim),
            select_all=False,  # every value is the same view as none, and Streamlit's "Select all" is English only
        )
        if chosen:
            where[dim] = tuple(chosen)
    return where


def kind_picker(t: Translator, prefix: str, instant: bool = False) -> str:
    """The map type. `instant`: the map viewer redraws in the browser when it changes, and the server hears of it
    with the next rerun (viewer.js reads the widget), so switching waits on nothing."""
    kind = st.radio(
        t("filters.type"),
        list(KINDS),
        key=f"{prefix}kind",
        format_func=lambda k: t(f"kind.{k}"),
        horizontal=True,
        on_change="ignore" if instant else "rerun",
    )
    return kind or "attention"


def layer_picker(t: Translator, prefix: str) -> str:
    """Which clicks a click map counts: all, those flagged rage or dead, or those on fixed and sticky elements (a
    server rerun: other numbers)."""
    layer = st.segmented_control(
        t("layer.label"),
        list(LAYERS),
        key=f"{prefix}layer",
        format_func=lambda name: t(f"layer.{name}"),
        help=t("layer.help"),
    )
    return layer or "all"


def display_controls(
    t: Translator, prefix: str, kind: str, with_alignment: bool = True, instant: bool = False
) -> MapSettings:
    """Alignment (device pixel ratio, shift, crop) and colour settings, one per line at the sidebar's full width
    (two to a line cut their labels and choices short). `instant`: the colour settings (ramp, opacity, smoothing,
    scale, ceiling) change the map in the browser without a rerun (viewer.js reads them), so all of them are
    shown whatever the map type; the alignment always reruns (it moves the data on the picture)."""
    values: dict[str, Any] = {}
    if with_alignment:
        values["dpr"] = st.number_input(
            t("align.dpr"), *_range("dpr"), step=0.25, key=f"{prefix}dpr", help=t("align.dpr_help")
        )
        values["shift"] = st.number_input(
            t("align.shift"), *_whole_range("shift"), step=10, key=f"{prefix}shift", help=t("align.shift_help")
        )
        values["crop_top"] = st.number_input(
            t("align.crop_top"), *_whole_range("crop_top"), step=10, key=f"{prefix}crop_top", help=t("align.crop_help")
        )
        values["crop_bottom"] = st.number_input(
            t("align.crop_bottom"), *_whole_range("crop_bottom"), step=10, key=f"{prefix}crop_bottom",
            help=t("align.crop_help"),
        )  # fmt: skip
    change: Literal["ignore", "rerun"] = "ignore" if instant else "rerun"
    values["ramp"] = st.selectbox(
        t("align.ramp"), list(RAMPS), key=f"{prefix}ramp", format_func=lambda r: t(f"ramp.{r}"), on_change=change
    )
    values["opacity"] = st.slider(
        t("align.opacity"), *_range("opacity"), step=0.05, key=f"{prefix}opacity", on_change=change
    )
    values["smooth"] = st.toggle(
        t("align.smooth"), key=f"{prefix}smooth", help=t("align.smooth_help"), disabled=kind == "clicks" and not instant,
        on_change=change,
    )  # fmt: skip
    if kind != "reach" or instant:
        values["scale"] = st.selectbox(
            t("align.scale"), list(SCALES), key=f"{prefix}scale", format_func=lambda s: t(f"scale.{s}"),
            help=t("align.scale_help") if instant else None, on_change=change,
        )  # fmt: skip
        if values["scale"] == "fixed" or instant:
            values["ceiling"] = st.number_input(
                t("align.ceiling"), *_range("ceiling"), key=f"{prefix}ceiling", format="%.3g",
                help=t("align.ceiling_help") if instant else None, on_change=change,
            )  # fmt: skip
            if values["scale"] != "fixed":
                values["ceiling"] = None
    else:
        values["scale"] = st.session_state.get(f"{prefix}scale", "max")
        if values["scale"] == "fixed":
            values["ceiling"] = st.session_state.get(f"{prefix}ceiling")
    values["dpr"] = round(float(values.get("dpr", 1.0)), 2)
    values["opacity"] = round(float(values["opacity"]), 2)
    for name in ("shift", "crop_top", "crop_bottom"):
        values[name] = int(values.get(name, 0) or 0)
    if values.get("ceiling") is not None:
        values["ceiling"] = float(values["ceiling"])
    return MapSettings(**values)


def instant_controls(t: Translator, prefix: str, kind: str | None = None) -> dict[str, Any]:
    """What the map viewer needs to read the instant widgets (`kind_picker`, `display_controls` with
    `instant`) in the browser: their key prefix, the map types in the radio's order, ramps and scales by the
    label the page shows, and the defaults links leave out. `kind`: the map type, when its widget reruns the
    app (Compare) and the viewer must not read it ahead of the server."""
    base = MapSettings()
    return {
        "prefix": prefix,
        "kind": kind,
        "kinds": list(KINDS),
        "ramps": {t(f"ramp.{r}"): r for r in RAMPS},
        "scales": {t(f"scale.{s}"): s for s in SCALES},
        "defaults": {
            "kind": View().kind, "ramp": base.ramp, "opacity": base.opacity, "scale": base.scale,
            "ceiling": base.ceiling, "smooth": base.smooth,
        },
    }  # fmt: skip


def shown_settings(kind: str, display: MapSettings) -> str:
    """The map type and colours as one string, the way viewer.js writes what it shows into the page
    (`data-heatmap-settings` on the body): equal strings mean the server's view is the one on screen."""
    ceiling = f"{display.ceiling:g}" if display.scale == "fixed" and display.ceiling else ""
    return f"{kind}|{display.ramp}|{display.opacity:g}|{display.scale}|{ceiling}|{int(display.smooth)}"


def as_shown_style(kind: str, display: MapSettings, current: str, stale: str, frame: str) -> None:
    """Show the container keyed `current` (what is made from the server's view: the PNG, the link) only while
    the map viewer `frame` shows the server's settings, and the one keyed `stale` (a button that brings the server
    up to date) while it shows others. CSS on the body attributes viewer.js keeps: no rerun needed to switch; no
    viewer of this page (another page's, or none yet): the server's view is what there is."""
    wanted = shown_settings(kind, display).replace("\\", "").replace('"', "")
    mine = f'body[data-heatmap-frame="{frame}"]'
    st.html(
        "<style>"
        f'{mine}:not([data-heatmap-settings="{wanted}"]) .st-key-{current}{{display:none}}'
        f'body:not([data-heatmap-frame="{frame}"]) .st-key-{stale},'
        f'body[data-heatmap-settings="{wanted}"] .st-key-{stale}{{display:none}}'
        "</style>"
    )


def _range(name: str) -> tuple[float, float]:
    low, high, _decimals = SETTING_RANGES[name]
    return float(low), float(high)


def _whole_range(name: str) -> tuple[int, int]:
    low, high, _decimals = SETTING_RANGES[name]
    return int(low), int(high)


def segment_label(t: Translator, where: Mapping[str, Sequence[str]]) -> str:
    """'Device: mobile · Channel: Email, Direct' or 'All' for no filter."""
    if not where:
        return t("filters.segment_any")
    return " · ".join(
        f"{t.dimension(dim)}: {', '.join(t.value(dim, v) for v in values)}" for dim, values in where.items() if values
    )
