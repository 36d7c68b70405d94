"""Settings from the environment or a secrets mapping (secrets.toml / st.secrets), never from code.

With nothing configured the product runs on the bundled demo data and writes to a local folder.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

from heatmap.caching import DEFAULT_BUDGET
from heatmap.capture import CaptureSettings
from heatmap.contract import Bounds
from heatmap.engines import ENGINES
from heatmap.engines.athena_options import AthenaOptions
from heatmap.fields import FieldMap
from heatmap.flows.client import AppFlowOptions
from heatmap.stores.s3 import S3Options
from heatmap.templates import Templates, parse_templates

DEFAULT_HOME = Path(os.environ.get("HEATMAP_HOME", Path.home() / ".cache" / "page-heatmaps"))


@dataclass(frozen=True)
class Settings:
    source: str | None = None  # None: the embedded demo dataset
    output: str = str(DEFAULT_HOME / "output")
    cache_dir: str = str(DEFAULT_HOME / "cache")
    s3: S3Options = field(default_factory=S3Options)
    fields: FieldMap = field(default_factory=FieldMap)
    min_page_views: int = 100
    fdr: float = 0.05  # Compare: Benjamini–Hochberg false discovery rate over the bands/regions of a map
    min_band_views: int = 30  # Compare: page views that saw a band, on each side, before its attention is tested
    bounds: Bounds = field(default_factory=Bounds)
    shared_store: str = "auto"  # parts under <output>/store/ for fresh servers: on, off, auto (on for S3)
    daily_flow: str | None = None  # AppFlow flows whose runs Data health lists; backfills use backfill_flow
    backfill_flow: str | None = None
    event_daily_flow: str | None = None  # the event route's flows from BigQuery (tracking/appflow.yaml), listed too
    event_backfill_flow: str | None = None
    appflow: AppFlowOptions = field(default_factory=AppFlowOptions)
    engine: str = "local"  # who answers views: local, duckdb or athena (docs/engines.md)
    athena: AthenaOptions = field(default_factory=AthenaOptions)
    cache_budget_mb: int = (
        DEFAULT_BUDGET // 1024**2
    )  # the app's in-memory caches together (pages, screenshots, previews, thumbnails)
    templates: Templates = field(default_factory=Templates)  # page templates: many paths as one page
    capture: CaptureSettings = field(default_factory=CaptureSettings)  # capturing pages from the site (SSRF-guarded)

    @property
    def uses_demo(self) -> bool:
        return self.source is None

    @classmethod
    def load(cls, secrets: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Environment first (HEATMAP_*), then a `[heatmap]` section of secrets; `[fields]` remaps roles."""
        env = os.environ if env is None else env
        section = dict((secrets or {}).get("heatmap", {}))

        def pick(name: str, default: Any = None) -> Any:
            """The first value given (a 0 is a value; unset and empty are not)."""
            for value in (env.get(f"HEATMAP_{name.upper()}"), section.get(name)):
                if value is not None and value != "":
                    return value
            return default

        s3 = S3Options(
            endpoint_url=pick("s3_endpoint_url"),
            region=pick("s3_region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            retry_mode=pick("s3_retry_mode", "standard"),
            max_attempts=int(pick("s3_max_attempts", 5)),
        )
        appflow = AppFlowOptions(
            region=s3.region,  # AppFlow writes to S3 buckets of its own region: the flows live where the data is
            retry_mode=pick("appflow_retry_mode", "standard"),
            max_attempts=int(pick("appflow_max_attempts", 5)),
            poll_seconds=float(pick("appflow_poll_seconds", 15)),
        )
        athena = AthenaOptions(
            database=pick("athena_database", "page_heatmaps"),
            table=pick("athena_table", "exports"),
            workgroup=pick("athena_workgroup", "page-heatmaps"),
            output_location=pick("athena_output_location"),
            region=s3.region,
            timeout_seconds=float(pick("athena_timeout_seconds", 300)),
            retry_mode=s3.retry_mode,
            max_attempts=s3.max_attempts,
        )
        field_values = dict((secrets or {}).get("fields", {}))
        bound_names = [spec.name for spec in dataclass_fields(Bounds)]
        bounds = Bounds.from_mapping({name: pick(name) for name in bound_names})
        return cls(
            source=pick("source"),
            output=pick("output", str(DEFAULT_HOME / "output")),
            cache_dir=pick("cache_dir", str(DEFAULT_HOME / "cache")),
            s3=s3,
            fields=FieldMap.from_mapping(field_values) if field_values else FieldMap(),
            min_page_views=int(pick("min_page_views", 100)),
            fdr=_between("fdr", float(pick("fdr", 0.05)), 0.0, 1.0),
            min_band_views=int(_between("min_band_views", int(pick("min_band_views", 30)), 1, math.inf)),
            bounds=bounds,
            shared_store=_choice("shared_store", pick("shared_store", "auto"), ("auto", "on", "off")),
            daily_flow=pick("daily_flow"),
            backfill_flow=pick("backfill_flow"),
            event_daily_flow=pick("event_daily_flow"),
            event_backfill_flow=pick("event_backfill_flow"),
            appflow=appflow,
            engine=_choice("engine", pick("engine", "local"), ENGINES),
            athena=athena,
            cache_budget_mb=int(
                _between("cache_budget_mb", int(pick("cache_budget_mb", DEFAULT_BUDGET // 1024**2)), 31, math.inf)
            ),
            templates=parse_templates(pick("page_templates", _demo_templates() if pick("source") is None else None)),
            capture=CaptureSettings.parse(pick, (secrets or {}).get("capture_headers")),
        )


def _demo_templates() -> str:
    """The demo's page templates: its job listings as one page, unless HEATMAP_PAGE_TEMPLATES says otherwise."""
    from heatmap.demo import DEMO_TEMPLATES

    return DEMO_TEMPLATES


def _between(name: str, value: float, low: float, high: float) -> float:
    """`value` when low < value < high (exclusive), else a ValueError naming the setting."""
    if not (low < value < high):
        raise ValueError(f"{name} must be greater than {low:g} and less than {high:g}, not {value:g}")
    return value


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return text
