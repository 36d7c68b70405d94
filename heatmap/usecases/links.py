"""Short links: a view's link parameters stored once in the output store as `links/<id>.json`, opened as `?s=<id>`.

A full link names the page, dates, segment, screenshot sha256 and settings: 200 characters that get cut in chat
tools. The id is readable and content-addressed (`pricing-mobile-k3x9q2mwpa`: the page and segment, then 50 bits
of the parameters' SHA-256), so making the same link twice writes nothing new and the create-only store is never
asked to overwrite. Opening one reads at most MAX_BYTES and accepts only a mapping of short strings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence

from heatmap.errors import AlreadyExists, HeatmapError
from heatmap.stores.base import Store

PREFIX = "links/"
KEY = "s"  # the query key of a short link
ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*-[a-z2-7]{10}$")
MAX_ID = 64
MAX_BYTES = 16_384  # a view's parameters are well under 2 KB
SLUG_WORDS = 4


class LinkError(HeatmapError):
    """A short link that cannot be opened: unknown, unreadable or not a view's parameters."""


def _slug(params: Mapping[str, Sequence[str]]) -> str:
    words = re.findall(r"[a-z0-9]+", (list(params.get("page", ["/"])) or ["/"])[0].lower()) or ["home"]
    for key in ("device", "channel", "visitor"):
        words += re.findall(r"[a-z0-9]+", " ".join(params.get(key, ())).lower())[:1]
    return "-".join(words[:SLUG_WORDS])[:40].strip("-") or "view"


def canonical(params: Mapping[str, Sequence[str]]) -> bytes:
    return json.dumps({k: list(v) for k, v in sorted(params.items())}, ensure_ascii=False, sort_keys=True).encode()


def link_id(params: Mapping[str, Sequence[str]]) -> str:
    digest = base64.b32encode(hashlib.sha256(canonical(params)).digest()).decode("ascii").lower()
    return f"{_slug(params)}-{digest[:10]}"


def store_link(store: Store, params: Mapping[str, Sequence[str]]) -> str:
    """The id of `params`' short link, written if it is new."""
    ident = link_id(params)
    data = canonical(params)
    try:
        store.create(f"{PREFIX}{ident}.json", data, "application/json")
    except AlreadyExists:
        if store.read(f"{PREFIX}{ident}.json") != data:  # 50 bits: never in practice, but never the wrong view
            raise LinkError(f"short link {ident} already names other parameters") from None
    return ident


def read_link(store: Store, ident: str) -> dict[str, list[str]]:
    """The parameters a short link names; LinkError when it is not a well-formed, stored view."""
    if len(ident) > MAX_ID or not ID.match(ident):
        raise LinkError("not a short link")
    try:
        data = store.read_head(f"{PREFIX}{ident}.json", MAX_BYTES + 1)
    except HeatmapError as exc:
        raise LinkError(f"short link {ident} could not be read: {exc}") from exc
    if len(data) > MAX_BYTES:
        raise LinkError(f"short link {ident} is larger than a view's parameters")
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise LinkError(f"short link {ident} is not JSON") from exc
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v) for k, v in raw.items()
    ):
        raise LinkError(f"short link {ident} does not hold a view's parameters")
    return {k: list(v) for k, v in raw.items()}
