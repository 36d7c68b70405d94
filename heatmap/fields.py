"""Field roles: which export field plays which part. Defaults follow the tracking contract (docs/contract.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from heatmap import contract


def plain_name(name: str) -> str:
    """Export names with and without `customEvent:` (GA4) or `ga:` (UA) refer to the same field."""
    return name.removeprefix("customEvent:").removeprefix("ga:")


@dataclass(frozen=True)
class FieldMap:
    date: str = "date"
    page: str = "pagePath"
    event_name: str = "eventName"
    band: str = contract.BAND_PARAM
    x: str = contract.X_PARAM
    y: str = contract.Y_PARAM
    events: str = "eventCount"
    seconds: str = contract.SECONDS_PARAM
    seconds_sq: str = contract.SECONDS_SQ_PARAM
    dwell_event: str = contract.DWELL_EVENT
    dwell_more_event: str = contract.DWELL_MORE_EVENT
    click_event: str = contract.CLICK_EVENT
    rage_event: str = contract.RAGE_EVENT
    dead_event: str = contract.DEAD_EVENT
    fixed_event: str = contract.FIXED_EVENT
    segments: tuple[str, ...] = contract.SEGMENT_DIMENSIONS

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> FieldMap:
        """Build from configuration (secrets.toml `[fields]`, env), rejecting unknown roles loudly."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown field roles {unknown}; known roles: {sorted(known)}")
        cleaned: dict[str, Any] = {}
        for key, value in values.items():
            if key == "segments":
                items = value.split(",") if isinstance(value, str) else list(value)
                cleaned[key] = tuple(plain_name(str(v).strip()) for v in items if str(v).strip())
            else:
                cleaned[key] = str(value)
        return replace(cls(), **cleaned)

    def column_roles(self) -> dict[str, str]:
        """Plain export field name -> role, for every field a reader has to keep."""
        roles = {
            plain_name(self.date): "date",
            plain_name(self.page): "page",
            plain_name(self.event_name): "event_name",
            plain_name(self.band): "band",
            plain_name(self.x): "x",
            plain_name(self.y): "y",
            plain_name(self.events): "events",
            plain_name(self.seconds): "seconds",
            plain_name(self.seconds_sq): "seconds_sq",
        }
        for segment in self.segments:
            roles[plain_name(segment)] = segment
        return roles

    def fingerprint(self) -> str:
        return repr(self)
