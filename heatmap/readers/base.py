"""What every reader returns: the export's records as string columns, plus the problems it met."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class Issue:
    """A skipped line or file: shown to the user, never silently dropped."""

    file: str
    line: int | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


MAX_ISSUES_PER_OBJECT = 20


class IssueLog:
    """Problems of one object, at most MAX_ISSUES_PER_OBJECT kept: a file of a million garbage lines must cost
    a line of text, not a million objects. The rest are counted and summed up in one closing issue."""

    def __init__(self, file: str, limit: int = MAX_ISSUES_PER_OBJECT) -> None:
        self.file = file
        self.limit = limit
        self.kept: list[Issue] = []
        self.more = 0

    def add(self, line: int | None, reason: str) -> None:
        if len(self.kept) < self.limit:
            self.kept.append(Issue(self.file, line, reason))
        else:
            self.more += 1

    def issues(self) -> list[Issue]:
        if not self.more:
            return list(self.kept)
        return [*self.kept, Issue(self.file, None, f"{self.more:,} more problem lines like those above")]


@dataclass
class RawBatch:
    """Records with one String column per export field (plain names, no `customEvent:`/`ga:` prefix).

    `lines` gives the source line of each row when it differs from row index + 1 (blank lines,
    skipped lines, multi-record documents); None means row i came from line i + 1.
    """

    frame: pl.DataFrame
    issues: list[Issue] = field(default_factory=list)
    lines: list[int] | None = None
    text: bytes | None = None  # JSON Lines source: its line numbers are worked out only when a row is bad

    def line_of(self, row: int) -> int:
        if self.lines is None and self.text is not None:
            self.lines = [number for number, raw in enumerate(self.text.splitlines(), start=1) if raw.strip()]
        return self.lines[row] if self.lines is not None else row + 1


def strings_only(frame: pl.DataFrame, keep: set[str]) -> pl.DataFrame:
    """Keep the fields a role needs, renamed to plain names, every value as a string. A field spelled both ways
    in one file (`hm_band` and `customEvent:hm_band`) is one field: the first spelling with a value wins."""
    from heatmap.fields import plain_name

    spellings: dict[str, list[str]] = {}
    for name in frame.columns:
        plain = plain_name(name)
        if plain in keep:
            spellings.setdefault(plain, []).append(name)
    return frame.select(
        (
            pl.col(names[0]).cast(pl.String)
            if len(names) == 1
            else pl.coalesce([pl.col(name).cast(pl.String) for name in names])
        ).alias(plain)
        for plain, names in spellings.items()
    )
