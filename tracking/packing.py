"""The `hm_view` packing (tag v2) decoded in Python: the reference the tag's tests and the collection benchmark
read pushes with, so "what the tag sent" has one meaning outside BigQuery (tracking/README.md, "The hm_view
event"). The BigQuery query decodes the same format in SQL; tests check both against the same visits.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from heatmap import contract

_RUN = re.compile(r"^([0-9]{1,6}):([0-9]{1,7}(?:,[0-9]{1,7})*)$")
_CLICK = re.compile(r"^([0-9]{1,2})\.([0-9]{1,6})([a-z]{0,4})$")


@dataclass
class PageView:
    """What one page view sent over all its flushes: tenths of a second per band, clicks as (x, y, flags)."""

    page_location: str
    flushes: int = 0
    tenths: dict[int, int] = field(default_factory=dict)
    clicks: list[tuple[int, int, str]] = field(default_factory=list)

    def seconds(self) -> dict[int, float]:
        return {band: tenths / 10 for band, tenths in sorted(self.tenths.items())}


def decode_pack(pack: str, view: PageView) -> None:
    """Add one pack's dwell or clicks to `view`; ValueError for anything the tag cannot send."""
    if len(pack) > contract.MAX_PARAM_LENGTH:
        raise ValueError(f"pack longer than {contract.MAX_PARAM_LENGTH} characters")
    kind, body = pack[:1], pack[1:]
    if kind == "d":
        for run in body.split(";"):
            match = _RUN.match(run)
            if not match:
                raise ValueError(f"bad dwell run {run!r}")
            first = int(match[1])
            for offset, tenths in enumerate(match[2].split(",")):
                band = first + offset
                view.tenths[band] = view.tenths.get(band, 0) + int(tenths)
    elif kind == "c":
        for item in body.split(","):
            match = _CLICK.match(item)
            if not match:
                raise ValueError(f"bad click {item!r}")
            view.clicks.append((int(match[1]), int(match[2]), match[3]))
    else:
        raise ValueError(f"pack must start with d or c: {pack[:10]!r}")


def page_views(pushes: Iterable[Mapping[str, Any]]) -> dict[str, PageView]:
    """Every `hm_view` push of a dataLayer, combined per page view (duplicates of a sequence number once)."""
    views: dict[str, PageView] = {}
    seen: set[tuple[str, int]] = set()
    for push in pushes:
        if push.get("event") != contract.VIEW_EVENT:
            continue
        if push.get(contract.VERSION_PARAM) != contract.VIEW_VERSION:
            raise ValueError(f"unknown version {push.get(contract.VERSION_PARAM)!r}")
        page_view, sequence = str(push[contract.PAGE_VIEW_PARAM]), int(push[contract.SEQUENCE_PARAM])
        if (page_view, sequence) in seen:
            continue
        seen.add((page_view, sequence))
        view = views.setdefault(page_view, PageView(str(push.get("hm_page_location", ""))))
        view.flushes += 1
        for name in contract.PACK_PARAMS:
            if name in push:
                decode_pack(str(push[name]), view)
    return views
