"""The app's words in English and Japanese, from the product's gettext catalogs (heatmap/text.py). Pure: no
Streamlit here.

Keys are dotted (`explore.title`). `Translator(lang)(key, **values)` formats with str.format; a key missing
in Japanese falls back to English, a key missing everywhere shows the key itself (tests keep both complete).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from heatmap.contract import LAYOUT_FIELD, layout_range
from heatmap.text import DEFAULT_LANGUAGE, catalog

LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語"}
log = logging.getLogger("heatmap.ui")


EN: dict[str, str] = catalog("en")
JA: dict[str, str] = catalog("ja")

STRINGS: dict[str, dict[str, str]] = {"en": EN, "ja": JA}


def markdown_literal(text: str) -> str:
    """Text that is shown as written where Streamlit reads Markdown (a login claim, a designer's run name): no
    links, emphasis or HTML come from it."""
    return "".join("\\" + c if c in "\\`*_{}[]()<>#+-.!|~$:@" else c for c in text)


def normalise_language(value: str | None) -> str | None:
    """'ja', 'ja-JP', 'JA_jp' -> 'ja'; unknown or empty -> None."""
    if not value:
        return None
    base = value.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def pick_language(query: str | None, chosen: str | None, locale: str | None) -> str:
    """The language to use: the URL's ?lang=, else the user's choice this session, else the browser's locale."""
    for candidate in (query, chosen, locale):
        found = normalise_language(candidate)
        if found:
            return found
    return DEFAULT_LANGUAGE


class Translator:
    def __init__(self, lang: str, strings: Mapping[str, Mapping[str, str]] = STRINGS) -> None:
        self.lang = lang if lang in strings else DEFAULT_LANGUAGE
        self._own = strings[self.lang]
        self._fallback = strings[DEFAULT_LANGUAGE]

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._own.get(key) or self._fallback.get(key)
        if text is None:  # a bug (tests/test_i18n.py looks for them): the key shows, and the log says so
            log.warning("no text for key %r", key[:100])
            text = key
        if not values:
            return text
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text

    def has(self, key: str) -> bool:
        return key in self._own or key in self._fallback

    def dimension(self, name: str) -> str:
        """A segment dimension's friendly name (its export name when the product does not know it)."""
        key = f"dim.{name}"
        return self(key) if self.has(key) else name

    def value(self, dimension: str, value: str) -> str:
        """A segment value as GA4 names it, in this language when the product knows it (GA's own channel and
        device names); any other value as exported."""
        key = f"value.{dimension}.{value}"
        if self.has(key):
            return self(key)
        covered = layout_range(value) if dimension == LAYOUT_FIELD else None
        if covered is not None:
            low, high = covered
            if high is None:
                return self("value.hm_layout.from", low=f"{low:,}")
            return self("value.hm_layout.range", low=f"{low:,}", high=f"{high:,}")
        return value
