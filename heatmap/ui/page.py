"""The app's frame: `navigate()` (streamlit_app.py) and the one call every page file starts with, `setup()`.

`navigate` is Streamlit's navigation over the pages/ files: it picks the page the address names, then sets it up
once (page config, settings, login gate, language, the shared sidebar, the source's engine with progress) and runs
the page file, whose `setup()` returns that context. A page file run on its own (a test) sets itself up, so a deep
link to any page meets the same gate and the same data either way.

`guard(ctx)` wraps a page body: a HeatmapError becomes an st.error with its own message (it says what happened
and what to do); anything else becomes a generic st.error with a short reference that is also logged with the
traceback server-side. Streamlit's own control flow (st.stop, st.rerun, st.switch_page) passes through.
"""

from __future__ import annotations

import logging
import secrets as pysecrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from heatmap import allocator, caching
from heatmap.config import Settings
from heatmap.errors import HeatmapError
from heatmap.ui import data
from heatmap.ui.i18n import LANGUAGES, Translator, normalise_language, pick_language
from heatmap.usecases.view import MAX_VALUE_CHARS, MAX_VALUES, Problem, params_of

log = logging.getLogger("heatmap.ui")


@dataclass(frozen=True)
class AppPage:
    script: str
    label: str  # i18n key of its name in the sidebar
    title: str  # i18n key of its title
    icon: str
    page_id: str  # what its address is recorded under
    url_path: str  # "" for Explore, the app's root; the others keep the addresses links have always had
    load_data: bool = True  # Saved runs needs the output store only: it works while the source is down


EXPLORE = "pages/0_Explore.py"
PAGES: tuple[AppPage, ...] = (
    AppPage(EXPLORE, "nav.explore", "explore.title", ":material/local_fire_department:", "explore", ""),
    AppPage("pages/1_Compare.py", "nav.compare", "compare.title", ":material/compare:", "compare", "Compare"),
    AppPage("pages/2_Saved_runs.py", "nav.runs", "runs.title", ":material/history:", "runs", "Saved_runs", False),
    AppPage(
        "pages/3_Data_health.py", "nav.health", "health.title", ":material/monitor_heart:", "health", "Data_health"
    ),
)
PAGES_BY_ID = {app_page.page_id: app_page.script for app_page in PAGES}
_CONTEXT: ContextVar[PageContext | None] = ContextVar("heatmap_page_context", default=None)
LANG_KEY = "lang"
# Less padding around the main area and a smaller title: the map, not the margins, gets the screen.
# Streamlit dims what a run will replace 0.5 s into the run, fading it over a second; every frame of the fade
# composites the whole page again (a browser without a GPU spent most of a core on it while an upload was read:
# the core the server needed). The line before the media query dims at the same moment in one step.
STYLE = """
[data-testid="stMainBlockContainer"]{padding:3.25rem 1.5rem 3rem 1.5rem;max-width:none}
[data-testid="stMain"] h1{font-size:1.6rem;padding:0.1rem 0}
[data-testid="stMetricValue"]{font-size:1.35rem}
[data-testid="stMetricLabel"]{min-height:0}
.st-key-x_map iframe,.st-key-c_maps iframe{height:max(420px,calc(100vh - 96px))!important}
.st-key-x_map [data-testid="stElementContainer"]:has(> iframe),.st-key-c_maps [data-testid="stElementContainer"]:has(> iframe){height:auto!important}
[data-stale="true"],[data-testid="stExpander"] details,[data-testid="stExpander"] summary,[data-testid="stTabs"] [role="tablist"]{transition-duration:0s!important}
@media (max-width:640px){
  .st-key-x_numbers [data-testid="stHorizontalBlock"]{flex-wrap:wrap;gap:0.25rem 1rem}
  .st-key-x_numbers [data-testid="stColumn"]{flex:1 1 calc(50% - 1rem)!important;min-width:calc(50% - 1rem)!important}
}
"""


@dataclass
class PageContext:
    """What a page needs: settings, language, translator, the engine (None if the page does not load data)."""

    settings: Settings
    lang: str
    t: Translator
    source: str = ""
    engine: Any = None  # heatmap.engines.base.Engine once loaded
    secrets: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.settings.output

    @property
    def demo(self) -> str | None:
        return data.demo_dir(self.settings) if self.settings.uses_demo else None


def secrets_dict() -> dict[str, Any]:
    """st.secrets as a plain dict; {} when there is no secrets file (st.secrets raises then)."""
    try:
        return st.secrets.to_dict()
    except FileNotFoundError:
        return {}
    except Exception as exc:  # a secrets file that cannot be parsed: the auth gate locks the app
        log.warning("secrets could not be read: %s", exc)
        return {}


def current_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def _choose_language() -> str:
    """?lang= wins on a session's first run; afterwards the sidebar choice does. `_lang` is the authority
    (a plain session key, so it survives page switches); the sidebar widget's own key is re-seeded from it."""
    if "_lang" not in st.session_state:
        query = st.query_params.get(LANG_KEY)
        try:
            locale = st.context.locale
        except Exception:
            locale = None
        st.session_state["_lang"] = pick_language(query, None, locale)
        st.session_state["_lang_explicit"] = normalise_language(query) is not None
    lang = st.session_state["_lang"]
    return lang if lang in LANGUAGES else "en"


def _on_language_change() -> None:
    st.session_state["_lang"] = st.session_state.get(LANG_KEY, "en")
    st.session_state["_lang_explicit"] = True


def language_params() -> dict[str, list[str]]:
    """`lang` for the address bar, only when the user chose a language (links do not force it on others)."""
    if st.session_state.get("_lang_explicit"):
        return {LANG_KEY: [st.session_state.get("_lang", "en")]}
    return {}


def _sidebar(t: Translator, lang: str, current: str) -> None:
    with st.sidebar:
        st.markdown(f"### :material/local_fire_department: {t('app.name')}")
        keep = language_params()
        for app_page in PAGES:
            # Another page's last view: the link lands on the address that page writes, so no bare address comes
            # between (Back would stop there once and show the same view). This page's own view is still
            # being made in this run: its link keeps the view without naming it.
            seen = st.session_state.get(f"_url_{app_page.page_id}", {}) if app_page.page_id != current else {}
            last = {**seen, **keep}
            try:
                st.page_link(app_page.script, label=t(app_page.label), icon=app_page.icon, query_params=last or None)
            except StreamlitAPIException:  # a page script run as the entrypoint (tests): no app navigation
                break
        st.divider()
        st.session_state[LANG_KEY] = lang
        st.radio(
            "Language / 言語",
            list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key=LANG_KEY,
            horizontal=True,
            on_change=_on_language_change,
        )


def _source_sidebar(ctx: PageContext) -> None:
    t = ctx.t
    with st.sidebar:
        st.divider()
        if ctx.settings.uses_demo:
            st.caption(t("source.demo"))
        else:
            st.caption(t("source.label", uri=ctx.source))
        st.caption(t("source.engine", engine=ctx.settings.engine))
        if st.button(t("source.reload"), help=t("source.reload_help"), icon=":material/refresh:", key="_reload"):
            data.forget_listing()
            st.rerun()


def _load_engine(ctx: PageContext) -> Any:
    t = ctx.t
    bar = st.empty()

    def progress(done: int, total: int) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=t("load.progress", done=done, total=total))

    try:
        engine = data.load(ctx.source, ctx.settings, progress=progress)
    except HeatmapError as exc:
        bar.empty()
        st.error(f"{t('load.failed', error=exc)}  \n{t('load.failed_hint')}", icon=":material/cloud_off:")
        st.stop()
    bar.empty()
    return engine


def navigate() -> None:
    """Run the page the address names (Explore at the root), set up once for it."""
    lang = _choose_language()
    t = Translator(lang)
    known = {
        app_page.page_id: st.Page(
            app_page.script,
            title=t(app_page.title),
            icon=app_page.icon,
            url_path=app_page.url_path or None,
            default=not app_page.url_path,
        )
        for app_page in PAGES
    }
    chosen = st.navigation(list(known.values()), position="hidden")
    app_page = next(p for p in PAGES if known[p.page_id].url_path == chosen.url_path)
    token = _CONTEXT.set(setup(app_page.title, load_data=app_page.load_data))
    try:
        with caching.run_keeps():
            chosen.run()
    finally:
        _CONTEXT.reset(token)


def setup(title_key: str, *, load_data: bool = True) -> PageContext:
    """Page config, settings, login gate, language, sidebar and (unless load_data=False) the engine; for a page
    file that `navigate` runs, the context it set up already."""
    ready = _CONTEXT.get()
    if ready is not None:
        return ready
    lang = _choose_language()
    t = Translator(lang)
    st.set_page_config(
        page_title=f"{t(title_key)} · {t('app.name')}",
        page_icon=":material/local_fire_department:",
        layout="wide",
        initial_sidebar_state="auto",  # open on a desktop, closed at first on a phone (it would cover the map)
    )
    st.html(f"<style>{STYLE}</style>")
    from heatmap.ui.auth import require_login

    require_login(st.secrets)
    _sidebar(t, lang, title_key.split(".")[0])
    secrets = secrets_dict()
    try:
        settings = Settings.load(secrets=secrets)
    except (ValueError, HeatmapError) as exc:
        st.error(f"{t('settings.bad', error=exc)}  \n{t('settings.bad_hint')}")
        st.stop()
    caching.memory(settings.cache_budget_mb * 1024**2)  # the one budget every cache of this server shares
    allocator.pin_mmap_threshold()  # and freed pictures leave the process, so the budget is what it holds
    ctx = PageContext(settings=settings, lang=lang, t=t, secrets=secrets)
    try:
        ctx.source = data.source_uri(settings, t("load.demo"))
    except HeatmapError as exc:
        st.error(f"{t('load.failed', error=exc)}  \n{t('load.failed_hint')}")
        st.stop()
    _source_sidebar(ctx)
    if load_data:
        with guard(ctx):
            ctx.engine = _load_engine(ctx)
        if ctx.engine is None:
            st.stop()
    return ctx


@contextmanager
def guard(ctx: PageContext | None = None) -> Iterator[None]:
    """Show errors as messages, never as tracebacks."""
    t = ctx.t if ctx else Translator("en")
    try:
        yield
    except HeatmapError as exc:
        st.error(t("error.heatmap", error=exc), icon=":material/error:")
    except Exception:
        ref = pysecrets.token_hex(4)
        log.exception("unexpected error, reference %s", ref)
        st.error(t("error.unexpected", ref=ref), icon=":material/bug_report:")


# --- URL ----------------------------------------------------------------------------------------------------


def sync_url(params: Mapping[str, Sequence[str]], page_id: str) -> None:
    """Make the address bar hold exactly `params` (+ the chosen language); no write when it already does. Each
    write is a browser history entry, so Back and Forward step through the views (see `navigated`)."""
    wanted = {k: list(v) for k, v in params.items() if v}
    wanted.update(language_params())
    if current_params() != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[f"_url_{page_id}"] = wanted


def navigated(page_id: str, bare_keeps: bool = True) -> bool:
    """True when the address bar holds a view other than the one this page last wrote there: the browser's Back
    or Forward (or an edited address). The page then shows the view the address describes, like a link. With
    `bare_keeps`, an address without view settings (the sidebar's page links) keeps the session's view; a page
    whose default view has an empty address (Saved runs: all pages) passes False so Back can return to it."""
    last = st.session_state.get(f"_url_{page_id}")
    now = current_params()
    bare = not set(now) - {LANG_KEY}
    return last is not None and now != last and not (bare and bare_keeps)


PAGE_URLS = ("Compare", "Saved_runs", "Data_health")  # URL paths of pages/*.py (legacy naming)


def app_root() -> str:
    """The app's root URL (the Explore page), whichever page is running."""
    try:
        url = st.context.url or ""
    except Exception:
        url = ""
    if not url:
        return "http://localhost:8501/"
    trimmed = url.rstrip("/")
    for name in PAGE_URLS:
        if trimmed.endswith("/" + name):
            return trimmed[: -len(name)]
    return trimmed + "/"


def share_link(params: Mapping[str, Sequence[str]], page_url: str = "") -> str:
    """An absolute link to a page (default: Explore) with `params`; the language is left out, the receiver
    reads their own."""
    base = app_root() + page_url
    pairs = [(k, v) for k, values in params.items() for v in values]
    return f"{base}?{urlencode(pairs, safe='/')}" if pairs else base


MAX_PROBLEMS_SHOWN = 8  # a link with hundreds of bad settings gets a short warning, not a wall of text


@dataclass(frozen=True)
class Notice:
    """A note on what the page shows: `level` is the st element that says it (info, warning or success)."""

    level: str
    text: str
    icon: str


def show_notices(t: Translator, notices: Sequence[Notice]) -> None:
    """The notes on these numbers folded into one line that opens, so the map comes first; the line says how
    many there are and, by its icon, whether one is a warning."""
    if not notices:
        return
    warned = any(n.level == "warning" for n in notices)
    icon = ":material/warning:" if warned else ":material/info:"
    with st.expander(t("notices.label", count=len(notices)), icon=icon):
        for notice in notices:
            getattr(st, notice.level)(notice.text, icon=notice.icon)


def warn_problems(t: Translator, problems: Sequence[Problem]) -> None:
    if not problems:
        return
    limits = {"chars": f"{MAX_VALUE_CHARS:,}", "max": MAX_VALUES}
    shown = [f"{p.key:.40}={p.value!s:.60} ({t('link.' + p.reason, **limits)})" for p in problems[:MAX_PROBLEMS_SHOWN]]
    if len(problems) > MAX_PROBLEMS_SHOWN:
        shown.append(t("link.more", count=f"{len(problems) - MAX_PROBLEMS_SHOWN:,}"))
    st.warning(t("link.ignored", items="; ".join(shown)), icon=":material/link_off:")


def first_visit(page_id: str) -> bool:
    """True on the first run of this page in this session (the only time a link's settings are applied)."""
    seen = st.session_state.setdefault("_pages_seen", set())
    if page_id in seen:
        return False
    seen.add(page_id)
    return True


def raw_params() -> dict[str, list[str]]:
    return params_of({key: st.query_params.get_all(key) for key in st.query_params})
