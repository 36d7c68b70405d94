"""What the app's three AWS clients (S3, AppFlow, Athena) share: sessions, retries, and the failures that happen
before any service answers.

A request can fail without reaching the service: no credentials, unusable credentials, no region, a network
that does not get through, a server that does not answer. Those read the same for every service, so one
function says them; what a *service* answers (access denied, no such bucket or flow, a failed query) stays
with its client, which knows what to advise.
"""

from __future__ import annotations

import threading
from typing import Any, cast

RETRY_MODES = (
    "standard",
    "adaptive",
)  # botocore's modes with exponential backoff and jitter (docs/storage.md, docs/operations.md)

_loader: Any = None
_loader_lock = threading.Lock()


def new_session() -> Any:
    """A fresh boto3 session that shares botocore's (read-only) model loader.

    Fresh, because boto3's default session caches the credentials it first resolved, so later changes to
    the environment (new keys, a refreshed profile) would be silently ignored; and creating clients from
    one session in several threads is not safe. The shared loader keeps this cheap: a session with its
    own loader re-reads the service models, about 0.3 s per client.
    """
    global _loader
    import boto3
    import botocore.loaders
    import botocore.session

    with _loader_lock:
        if _loader is None:
            _loader = botocore.loaders.create_loader()
        core = botocore.session.Session()
        core.register_component("data_loader", _loader)
    return boto3.session.Session(botocore_session=core)


def new_client(
    service: str, label: str, retry_mode: str, max_attempts: int, client: dict[str, Any] | None = None, **config: Any
) -> Any:
    """A boto3 client for `service` (e.g. "s3") with botocore's retries; `client` holds the client's arguments
    (region, endpoint), `config` botocore Config's. `max_attempts` counts *every* attempt, the first included
    (what `AWS_MAX_ATTEMPTS` means): botocore's `total_max_attempts`, never its `max_attempts`, which counts
    retries. Whatever stops the client being made (an unknown retry mode, an unknown profile, no region) is a
    ValueError whose message is one sentence naming `label` (e.g. "AppFlow"), for the caller's own error."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    if retry_mode not in RETRY_MODES:
        raise ValueError(f"unknown retry mode {retry_mode!r} for {label}; use {' or '.join(RETRY_MODES)}")
    retries = {"mode": retry_mode, "total_max_attempts": max(1, int(max_attempts))}
    try:
        return new_session().client(service, config=Config(retries=cast(Any, retries), **config), **(client or {}))
    except BotoCoreError as exc:
        raise ValueError(unreached(exc, label, "") or f"no {label} client: {one_line(str(exc))}") from None


def unreached(exc: BaseException, service: str, endpoint: str, hint: str = "") -> str | None:
    """One sentence for a request that never got an answer from `service` at `endpoint`, or None when the
    service did answer (then its client explains). `hint` names the service's endpoint setting, if any."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
        ReadTimeoutError,
    )

    if isinstance(exc, NoCredentialsError):
        return (
            f"no AWS credentials found for {service}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "a profile (AWS_PROFILE) or a role"
        )
    if isinstance(exc, PartialCredentialsError | ProfileNotFound):
        return f"the AWS credentials are not usable for {service}: {one_line(str(exc))}"
    if isinstance(exc, NoRegionError):
        return f"no AWS region for {service}: set AWS_REGION (or HEATMAP_S3_REGION)"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        where = f", the region and {hint} if it is set" if hint else " and the region"
        return f"cannot reach {service} at {endpoint} even after retries: check the network{where}"
    if isinstance(exc, ReadTimeoutError):
        return f"{service} at {endpoint} did not answer in time, even after retries; try again"
    return None


def one_line(text: str, limit: int = 300) -> str:
    """An AWS message quoted in ours: one line, enough to say why, never a wall of text."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
