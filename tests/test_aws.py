"""Failures before any AWS service answers (credentials, profile, region, network, retry mode) read the same for
S3, AppFlow and Athena: one sentence naming the service, no botocore text, no traceback chained.

Real clients against the real credential chain and a closed port; nothing is stubbed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from heatmap.config import Settings
from heatmap.contract import Bounds
from heatmap.engines.athena import AthenaEngine, AthenaOptions
from heatmap.errors import HeatmapError
from heatmap.fields import FieldMap
from heatmap.flows import AppFlowOptions, list_runs, make_client
from heatmap.stores import S3Options, S3Store
from heatmap.stores.base import ObjectInfo
from tests.fixtures.s3 import REGION, _free_port

OBJECT = ObjectInfo("flow/2026/01/06/e1/p0.jsonl", 10, "e1", datetime(2026, 1, 6, 2, tzinfo=UTC))


def s3_call(**options: Any) -> Any:
    return list(S3Store("some-bucket", "ga/", S3Options(region=options.pop("region", REGION), **options)).list())


def appflow_call(**options: Any) -> Any:
    return list_runs(make_client(AppFlowOptions(region=options.pop("region", REGION), **options)), "daily")


def athena_call(tmp_path: Any = None, **options: Any) -> Any:
    chosen = AthenaOptions(region=options.pop("region", REGION), timeout_seconds=5, **options)
    engine = AthenaEngine("some-bucket", "ga/", [OBJECT], FieldMap(), Bounds(), chosen, None, sleep=lambda s: None)
    _ = engine.catalog  # the first query
    return engine


SERVICES: dict[str, tuple[Callable[..., Any], str, str]] = {
    "s3": (s3_call, "S3 bucket some-bucket", "HEATMAP_S3_ENDPOINT_URL"),
    "appflow": (appflow_call, "AppFlow", "AWS_ENDPOINT_URL_APPFLOW"),
    "athena": (athena_call, "Athena", "AWS_ENDPOINT_URL_ATHENA"),
}


def one_sentence(call: Callable[[], Any], starts: str) -> str:
    with pytest.raises(HeatmapError) as info:
        call()
    text = str(info.value)
    assert text.startswith(starts), text
    assert "\n" not in text and "botocore" not in text and "Traceback" not in text
    assert info.value.__cause__ is None and (info.value.__context__ is None or info.value.__suppress_context__)
    return text


@pytest.mark.parametrize("service", SERVICES)
def test_no_credentials(service: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key)
    call, name, _ = SERVICES[service]
    one_sentence(call, f"no AWS credentials found for {name}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")


@pytest.mark.parametrize("service", SERVICES)
def test_unknown_profile(service: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    call, name, _ = SERVICES[service]
    assert "no-such-profile" in one_sentence(call, f"the AWS credentials are not usable for {name}: ")


@pytest.mark.parametrize("service", SERVICES)
def test_unreachable_endpoint(service: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    call, name, setting = SERVICES[service]
    monkeypatch.setenv(setting, endpoint)
    options = {"endpoint_url": endpoint, "connect_timeout": 0.5} if service == "s3" else {}
    text = one_sentence(
        lambda: call(max_attempts=1, **options), f"cannot reach {name} at {endpoint} even after retries"
    )
    assert setting in text


@pytest.mark.parametrize("service", ["appflow", "athena"])
def test_no_region(service: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key)
    call, name, _ = SERVICES[service]
    one_sentence(lambda: call(region=None), f"no AWS region for {name}: set AWS_REGION")


@pytest.mark.parametrize("service", SERVICES)
def test_unknown_retry_mode(service: str, aws_env: None) -> None:
    call, name, _ = SERVICES[service]
    one_sentence(lambda: call(retry_mode="legacy"), f"unknown retry mode 'legacy' for {name}; use standard or adaptive")


@pytest.mark.parametrize("service", SERVICES)
def test_every_client_counts_every_attempt(service: str, aws_env: None) -> None:
    """One setting, one meaning: `max_attempts` is botocore's total_max_attempts for every client."""
    settings = Settings.load(env={"HEATMAP_S3_MAX_ATTEMPTS": "3", "HEATMAP_APPFLOW_MAX_ATTEMPTS": "3"})
    if service == "s3":
        client = S3Store("b", "", settings.s3).client
    elif service == "appflow":
        client = make_client(settings.appflow)
    else:
        from heatmap.engines.athena import make_client as athena_client

        client = athena_client(settings.athena)
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
