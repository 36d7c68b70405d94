"""Every text of the product in one place: gettext catalogs, one per language, read with Babel.

`heatmap/locale/<lang>/LC_MESSAGES/heatmap.po` holds, for each key the code asks for (msgid, e.g. `map.failed`), its
text (msgstr, with str.format placeholders): the app's words (heatmap.ui.i18n), the legends burned into PNGs
(`legend.*`, heatmap.drawing.captions), the screenshot refusals (`image.*`, heatmap.images) and the login screens
(`auth.*`). Translators edit the .po files with any gettext tool; tests/test_i18n.py keeps them complete.
"""

from __future__ import annotations

import functools
from pathlib import Path

LANGUAGES = ("en", "ja")
DEFAULT_LANGUAGE = "en"
LOCALE = Path(__file__).resolve().parent / "locale"


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """Key -> text for `language` (read once per process)."""
    from babel.messages.pofile import read_po

    with (LOCALE / language / "LC_MESSAGES" / "heatmap.po").open("rb") as handle:
        messages = read_po(handle, locale=language, domain="heatmap")
    return {str(m.id): str(m.string) for m in messages if m.id and m.string}


def section(language: str, prefix: str) -> dict[str, str]:
    """The texts whose keys start with `prefix`, the prefix removed (e.g. the legend's phrases)."""
    return {key[len(prefix) :]: text for key, text in catalog(language).items() if key.startswith(prefix)}
