"""Page templates: many URLs that are one page to a designer ("the job detail page" = /jobs/123, /jobs/124, ...),
named by ordered rules in configuration (HEATMAP_PAGE_TEMPLATES, docs/templates.md).

A rule is `name=pattern`: a glob over the path (`*` one path segment, `**` any number of them, every other
character itself) or `re:` and a regular expression over the whole path. A path belongs to the template of the
first rule it matches, so a view of a template sums the rows of every path whose first match it is. Every engine
applies the same rule from the same regular expressions: polars for the local engine, REGEXP_LIKE in the SQL
for DuckDB and Athena, Python here for the picker's counts. A rule's expression is checked to mean the same to
all of them (the syntax common to Rust's regex, RE2 and Java: no look-around, no back-references).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from heatmap.errors import ConfigError

MAX_RULES = 200
MAX_NAME_CHARS = 80
MAX_PATTERN_CHARS = 500
_SPECIAL = set("\\.+*?()|[]{}^$")
_NOT_COMMON = re.compile(r"\(\?[=!<]|\\[1-9]|\(\?P=|\\[gk]<")  # look-around and back-references


@dataclass(frozen=True)
class Template:
    """One template as the engines select it: rows whose page matches `pattern` and none of `before` (the
    patterns of earlier rules, which win their paths)."""

    name: str
    pattern: str
    before: tuple[str, ...] = ()

    def holds(self, path: str) -> bool:
        return re.search(self.pattern, path) is not None and not any(re.search(p, path) for p in self.before)

    def polars_condition(self, column: str = "page") -> pl.Expr:
        """The same rule as a polars filter (Rust's regex engine)."""
        condition = pl.col(column).str.contains(self.pattern)
        for earlier in self.before:
            condition = condition & ~pl.col(column).str.contains(earlier)
        return condition


@dataclass(frozen=True)
class Templates:
    """The configured rules, in order."""

    rules: tuple[Template, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def named(self, name: str) -> Template | None:
        return next((rule for rule in self.rules if rule.name == name), None)

    def page(self, name: str) -> str | Template:
        """What an engine is asked for a page name: the template of that name, else the path itself."""
        return self.named(name) or name

    def of(self, path: str) -> str | None:
        """The template a path belongs to: its first matching rule's name."""
        return next((rule.name for rule in self.rules if re.search(rule.pattern, path)), None)

    def group(self, page_views: Mapping[str, int]) -> dict[str, tuple[tuple[str, int], ...]]:
        """Template -> its paths with their page views, in the order of `page_views` (path -> page views, busiest
        first), templates busiest first. Each path is matched once here, so the picker and a template's list of
        paths never match again. A template no path matches is listed empty, so a link to it still opens (and
        says there is no data yet)."""
        groups: dict[str, list[tuple[str, int]]] = {rule.name: [] for rule in self.rules}
        for path, views in page_views.items():
            name = self.of(path)
            if name is not None:
                groups[name].append((path, views))
        ordered = sorted(groups.items(), key=lambda item: -sum(views for _path, views in item[1]))
        return {name: tuple(paths) for name, paths in ordered}


def glob_pattern(glob: str) -> str:
    """A path glob as an anchored regular expression every engine reads alike: `**` any number of segments
    (none included, with the slash before it), `*` one segment or part of one, anything else itself."""
    out = ["^"]
    i = 0
    while i < len(glob):
        if glob.startswith("/**", i) and (i + 3 == len(glob) or glob[i + 3] == "/"):
            out.append("(/[^/]*)*")  # /** : zero or more whole segments
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append("\\" + glob[i] if glob[i] in _SPECIAL else glob[i])
            i += 1
    return "".join(out) + "$"


def parse_templates(text: str | Iterable[str] | None) -> Templates:
    """Rules from configuration: `name=pattern` items separated by newlines or `;` (or a list of them). Names
    must not start with "/" (a page path does) and must be unique. Raises ConfigError naming the bad item."""
    if text is None:
        return Templates()
    items = re.split(r"[;\n]", text) if isinstance(text, str) else list(text)
    rules: list[Template] = []
    for raw in items:
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        name, sep, pattern = (part.strip() for part in item.partition("="))
        if not sep or not name or not pattern:
            raise ConfigError(f"page template {item[:80]!r}: expected NAME=PATTERN, e.g. job detail=/jobs/*")
        if name.startswith("/") or len(name) > MAX_NAME_CHARS or not name.isprintable():
            raise ConfigError(
                f"page template name {name[:80]!r}: up to {MAX_NAME_CHARS} printable characters, not starting "
                "with '/' (page paths do)"
            )
        if any(rule.name == name for rule in rules):
            raise ConfigError(f"page template {name!r} is named twice; each name once, the first rule wins a path")
        rules.append(Template(name, _pattern(name, pattern), tuple(rule.pattern for rule in rules)))
        if len(rules) > MAX_RULES:
            raise ConfigError(f"more than {MAX_RULES} page templates; group them with ** or a regular expression")
    return Templates(tuple(rules))


def _pattern(name: str, pattern: str) -> str:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ConfigError(f"page template {name!r}: the pattern is longer than {MAX_PATTERN_CHARS} characters")
    if not pattern.startswith("re:"):
        if not pattern.startswith("/"):
            raise ConfigError(f"page template {name!r}: a path pattern starts with '/', e.g. /jobs/*")
        return glob_pattern(pattern)
    expression = pattern.removeprefix("re:").strip()
    if _NOT_COMMON.search(expression):
        raise ConfigError(
            f"page template {name!r}: look-around and back-references are not read alike by every engine; "
            "use plain groups, classes and repetition"
        )
    try:
        re.compile(expression)
        pl.Series([""]).str.contains(expression)  # Rust's regex: what polars and, nearly, RE2 accept
    except (re.error, pl.exceptions.PolarsError) as exc:
        reason = str(exc).strip().splitlines()[0][:160]
        raise ConfigError(
            f"page template {name!r}: {expression[:80]!r} is not a regular expression ({reason})"
        ) from None
    return expression
