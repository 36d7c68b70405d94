"""The words burned into exported legends, in English and Japanese (the teams using this work in both)."""

from __future__ import annotations

from heatmap.text import LANGUAGES, section

#: The legend's phrases per language: the `legend.` keys of the product's catalogs (heatmap/text.py).
LEGEND: dict[str, dict[str, str]] = {language: section(language, "legend.") for language in LANGUAGES}


def folded_percent(share: float) -> str:
    """GA's folded share as shown: a trace of folding still shows, never as 0.0 %."""
    return "< 0.1 %" if share < 0.001 else f"{share:.1%}".replace("%", " %")


def legend_text(language: str, key: str, **values: object) -> str:
    """One legend phrase in `language` (English when the language is unknown)."""
    table = LEGEND.get(language, LEGEND["en"])
    return table[key].format(**values)
