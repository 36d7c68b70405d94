"""Page templates: many URLs that are one page to a designer ("the job detail page" = /jobs/123, /jobs/124, ...),
named by ordered rules in configuration (HEATMAP_PAGE_TEMPLATES, docs/templates.md).

A rule is `name=pattern`: a glob over the path (`*` one path segment, `**` any number of them, every other
character itself) or `re:` and a regular expression over the whole path. A path belongs to the template of the
first rule it matches, so a view of a template sums the rows of every path whose first match it is. A page can
also declare its template (the tag's hm_tpl, exported as contract.TEMPLATE_FIELD): a row that declares one belongs
to that template whatever the rules say, so a template's view is its declaring rows plus the rows that declare
nothing and whose path its rule wins; a name pages declare and no rule names is a template of its own. Every engine
applies the same rule from the same regular expressions: polars for the local engine, REGEXP_LIKE in the SQL
for DuckDB and Athena, Python here for the picker's counts. A rule's expression is checked to mean the same to
all of them (the syntax common to Rust's regex, RE2 and Java: no look-around, no back-references).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from heatmap.errors import ConfigError

#: Values of the declared-template column that declare nothing (the export's placeholder; empty for safety).
UNDECLARED = ("(not set)", "")

MAX_RULES = 200
MAX_NAME_CHARS = 80
MAX_PATTERN_CHARS = 500
_SPECIAL = set("\\.+*?()|[]{}^$")
_NOT_COMMON = re.compile(r"\(\?[=!<]|\\[1-9]|\(\?P=|\\[gk]<")  # look-around and back-references


@dataclass(frozen=True)
class Template:
    """One template as the engines select it: rows that declare `name`, and rows that declare nothing whose page
    matches `pattern` and none of `before` (the patterns of earlier rules, which win their paths). `pattern` is
    None for a name only pages declare."""

    name: str
    pattern: str | None = None
    before: tuple[str, ...] = ()

    def holds(self, path: str) -> bool:
        """Whether the URL rule wins `path` (for a row that declares no template)."""
        if self.pattern is None or re.search(self.pattern, path) is None:
            return False
        return not any(re.search(p, path) for p in self.before)

    def polars_condition(self, column: str = "page", declared: str | None = None) -> pl.Expr:
        """The same selection as a polars filter (Rust's regex engine); `declared`: the declared-template column,
        when the rows have one."""
        rule = pl.lit(False) if self.pattern is None else pl.col(column).str.contains(self.pattern)
        for earlier in self.before:
            rule = rule & ~pl.col(column).str.contains(earlier)
        if declared is None:
            return rule
        key = pl.col(declared).cast(pl.String)
        return pl.when(key.is_null() | key.is_in(UNDECLARED)).then(rule).otherwise(key == self.name)


@dataclass(frozen=True)
class Templates:
    """The configured rules, in order."""

    rules: tuple[Template, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def named(self, name: str) -> Template | None:
        return next((rule for rule in self.rules if rule.name == name), None)

    def page(self, name: str, declared: Collection[str] = ()) -> str | Template:
        """What an engine is asked for a page name: the template of that name (a rule's, or one of the names the
        data's pages `declared`), else the path itself."""
        return self.named(name) or (Template(name) if name in declared else name)

    def of(self, path: str) -> str | None:
        """The template a path's undeclaring rows belong to: its first matching rule's name."""
        return next((rule.name for rule in self.rules if rule.pattern and re.search(rule.pattern, path)), None)

    def group(
        self, page_views: Mapping[str, int], declared: Mapping[str, Mapping[str, int]] | None = None
    ) -> dict[str, tuple[tuple[str, int], ...]]:
        """Template -> its paths with their page views (busiest first), templates busiest first. `page_views`:
        path -> all its page views; `declared`: template -> path -> the page views that declared it. A path's page
        views that declare nothing go to its rule's template, each declaring one to the declared template. Each path
        is matched once here, so the picker and a template's list of paths never match again. A rule no path
        matches is listed empty, so a link to it still opens (and says there is no data yet)."""
        declared = declared or {}
        groups: dict[str, dict[str, int]] = {rule.name: {} for rule in self.rules}
        undeclared = dict(page_views)
        for name, paths in declared.items():
            for path, views in paths.items():
                groups.setdefault(name, {})[path] = views
                undeclared[path] = undeclared.get(path, 0) - views
        for path, views in undeclared.items():
            rule = self.of(path)
            if rule is not None and views > 0:
                held = groups[rule]
                held[path] = held.get(path, 0) + views
        ordered = sorted(groups.items(), key=lambda item: -sum(item[1].values()))
        return {name: tuple(sorted(paths.items(), key=lambda item: -item[1])) for name, paths in ordered}


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
        rules.append(Template(name, _pattern(name, pattern), tuple(rule.pattern for rule in rules if rule.pattern)))
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
