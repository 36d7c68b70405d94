"""Every text the app shows exists in English and Japanese: each key the code asks for, literal or built from a
known set of values, is defined in both, with the same placeholders. A new dynamic key must say its values here."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterable
from pathlib import Path

import pytest

from heatmap.contract import EVENT_ROUTE, MAP_KINDS, REPORT_ROUTE
from heatmap.drawing.ramps import RAMPS
from heatmap.drawing.render import SCALE_MODES
from heatmap.images import MESSAGES
from heatmap.statistics.compare import UNTESTED_REASONS
from heatmap.ui.i18n import EN, JA, Translator
from heatmap.ui.shots import SOURCES
from heatmap.usecases.view import LAYERS, MODES

ROOT = Path(__file__).resolve().parents[1]
UI_FILES = sorted([*(ROOT / "heatmap" / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "streamlit_app.py"])
UNITS = ("band", "region")
#: Keys built at run time: the prefix the code writes, and every value it can complete it with.
DYNAMIC: dict[str, Iterable[str]] = {
    "compare.mode_": MODES,
    "compare.what_": MAP_KINDS,
    "compare.test_": MAP_KINDS,
    "compare.units_": UNITS,
    "compare.unit_": UNITS,
    "compare.effect_": MAP_KINDS,
    "compare.headline_": (  # reach is never "new": a share exists on both sides
        "reach_more",
        "reach_less",
        "attention_more",
        "attention_less",
        "attention_new",
        "clicks_more",
        "clicks_less",
        "clicks_new",
    ),
    "compare.untested_": UNTESTED_REASONS,
    "shot.": SOURCES,
    "layer.": LAYERS,
    "scale.": SCALE_MODES,
    "ramp.": RAMPS,
    "kind.": MAP_KINDS,
    "image.": MESSAGES,
    "health.route_": (REPORT_ROUTE, EVENT_ROUTE),
    "flows.step.": ("checking", "updating", "starting", "running", "finished"),  # shown only when defined
    "flows.state.": (),  # AppFlow's statuses: shown as AppFlow names them when not translated
    "flows.": ("daily", "backfill", "event_daily", "event_backfill"),  # ui.flows_panel._named_flows
    "health.": ("present", "reexported", "missing"),  # the calendar's legend
}


def _calls(path: Path) -> Iterable[ast.expr]:
    """The first argument of every call of a translator (`t(...)`, `ctx.t(...)`, `self.t(...)`)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("t", "has", "both"):
                yield node.args[0]


def _keys_used() -> tuple[set[str], set[str]]:
    literal, prefixes = set(), set()
    for path in UI_FILES:
        for arg in _calls(path):
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                literal.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                prefixes.add(str(arg.values[0].value))
            elif isinstance(arg, ast.BinOp) and isinstance(arg.left, ast.Constant):
                prefixes.add(str(arg.left.value))
    return literal, prefixes


def _link_reasons() -> set[str]:
    """Every reason a link Problem can carry (heatmap/usecases/view.py), shown as `link.<reason>`."""
    tree = ast.parse((ROOT / "heatmap" / "usecases" / "view.py").read_text(encoding="utf-8"))
    reasons = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "Problem" and len(node.args) == 3 and isinstance(node.args[2], ast.Constant):
                reasons.add(node.args[2].value)
            if node.func.id in ("_choice", "_bounded") and len(node.args) >= 5:
                last = node.args[-1] if node.func.id == "_choice" else None
                if isinstance(last, ast.Constant) and isinstance(last.value, str):
                    reasons.add(last.value)
        if isinstance(node, ast.keyword) and node.arg == "reason" and isinstance(node.value, ast.Constant):
            reasons.add(node.value.value)
        if isinstance(node, ast.FunctionDef) and node.name in ("_choice", "_bounded"):
            for default in node.args.defaults:
                if isinstance(default, ast.Constant) and isinstance(default.value, str):
                    reasons.add(default.value)
    return reasons


def _fields(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    assert set(EN) == set(JA)
    for key, english in EN.items():
        assert _fields(english) == _fields(JA[key]), key


def test_every_literal_key_the_app_asks_for_is_defined() -> None:
    literal, _prefixes = _keys_used()
    assert len(literal) > 200, "the scan finds the app's keys"
    assert sorted(key for key in literal if key not in EN) == []


def test_every_key_built_at_run_time_has_its_values_listed_and_defined() -> None:
    _literal, prefixes = _keys_used()
    assert sorted(p for p in prefixes if p not in DYNAMIC and p != "link.") == [], "add the new prefix to DYNAMIC"
    guarded = {"flows.step.", "flows.state."}  # the code asks `t.has` first and shows the raw value otherwise
    missing = [p + v for p, values in DYNAMIC.items() if p not in guarded for v in values if p + v not in EN]
    assert missing == []
    assert {p + v for p in guarded for v in DYNAMIC[p]} <= set(EN)


def test_every_link_problem_has_its_reason_in_both_languages() -> None:
    reasons = _link_reasons()
    assert {"unknown_page", "bad_date", "dates_clamped", "bad_mode", "unknown_key", "too_long"} <= reasons
    assert sorted(r for r in reasons if f"link.{r}" not in EN) == []


def test_a_key_nobody_defined_is_logged_not_hidden(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="heatmap.ui"):
        assert Translator("ja")("no.such.key") == "no.such.key"
    assert "no.such.key" in caplog.text


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_catalogs_are_plain_gettext(language: str) -> None:
    """Any gettext tool reads them: compiled to .mo, Python's own gettext gives the texts the app shows."""
    import gettext
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from heatmap.text import LOCALE, catalog

    with (LOCALE / language / "LC_MESSAGES" / "heatmap.po").open("rb") as handle:
        messages = read_po(handle)
    assert not [m.id for m in messages if m.id and m.fuzzy], "no fuzzy entries: each is meant"
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    translations = gettext.GNUTranslations(compiled)
    texts = catalog(language)
    assert all(translations.gettext(key) == text for key, text in texts.items())
    assert texts["legend.line.fold"] and texts["image.empty"] and texts["auth.logout"], "one catalog for all texts"


def test_segment_values_ga_names_are_translated_and_others_shown_as_exported() -> None:
    from heatmap.ui.widgets import segment_label

    ja = Translator("ja")
    assert ja.value("newVsReturning", "new") == "新規" and ja.value("deviceCategory", "mobile") == "モバイル"
    assert ja.value("sessionDefaultChannelGroup", "Organic Search") == "オーガニック検索"
    assert ja.value("sessionDefaultChannelGroup", "Partner Newsletter") == "Partner Newsletter", "a site's own value"
    assert Translator("en").value("newVsReturning", "new") == "new"
    assert segment_label(ja, {"newVsReturning": ("new",)}) == "新規／リピーター: 新規"
