"""The AppFlow client: botocore's retry modes for what is transient, one clear sentence for what is not.

The seed's fourth failure (docs/architecture.md, docs/operations.md) was a Google Analytics pull that failed with 503 on busy days and that
nothing retried. The AppFlow *API* fails the same way now and then (500/503, throttling). Those are retried by
botocore itself, in its `standard` or `adaptive` mode: exponential backoff with full jitter, a bounded number of
attempts, a retry quota, the same logic every AWS SDK uses. No hand-written loop here. Everything else (no such
flow, access denied, an invalid request) is permanent: retrying cannot help, so it becomes a `FlowError` whose
message says what happened and what to do, in one line (the CLI prints it, the app shows it).

The endpoint is boto3's own `AWS_ENDPOINT_URL_APPFLOW` (or `AWS_ENDPOINT_URL`); tests point it at a fake server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from heatmap.aws import new_client, one_line, unreached
from heatmap.errors import FlowAccessDenied, FlowBusy, FlowError, FlowNotFound

#: The IAM action behind each AppFlow operation the dashboard uses (named when one is denied).
OPERATION_ACTIONS: dict[str, str] = {
    "DescribeFlow": "appflow:DescribeFlow",
    "DescribeFlowExecutionRecords": "appflow:DescribeFlowExecutionRecords",
    "UpdateFlow": "appflow:UpdateFlow",
    "StartFlow": "appflow:StartFlow",
}


@dataclass(frozen=True)
class AppFlowOptions:
    """How the app talks to AppFlow. Credentials come from the standard AWS chain, as for S3.

    `max_attempts` counts *every* attempt, the first included (botocore's `total_max_attempts`, and what
    `AWS_MAX_ATTEMPTS` means). Beware: botocore's `retries={"max_attempts": n}` counts *retries*, i.e. n + 1
    attempts; the client below only ever passes `total_max_attempts`.
    """

    region: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 5
    poll_seconds: float = 15.0  # between checks on a running backfill; also the pause after UpdateFlow
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


def make_client(options: AppFlowOptions) -> Any:
    """A boto3 AppFlow client with botocore's retries configured from `options`."""
    try:
        client = new_client(
            "appflow",
            "AppFlow",
            options.retry_mode,
            options.max_attempts,
            {"region_name": options.region},
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
        )
    except ValueError as exc:
        raise FlowError(str(exc)) from None
    _retry_start_quota(client, max(1, int(options.max_attempts)))
    return client


def _retry_start_quota(client: Any, max_attempts: int) -> None:
    """Also retry StartFlow's ServiceQuotaExceededException, with botocore's own backoff at throttling scale.

    botocore retries 5xx, throttling codes and 429 by itself, but not AppFlow's ServiceQuotaExceededException
    (HTTP 402). On StartFlow that error is about runs in flight (how many flows may run at once), so it passes
    when a running flow finishes: worth a few retries spaced like throttling (about 1, 2, 4, 8 s with jitter).
    On UpdateFlow the quotas are about definitions (how many flows, tasks, ...): permanent, never retried.
    This adds one more retry condition to the same machinery (botocore's RetryHandler, ExponentialBackoff,
    attempt limit and retry quota), registered for StartFlow only. Should botocore's internals ever move,
    the client keeps the standard behaviour.
    """
    try:
        from botocore.retries import quota, standard
    except ImportError:  # pragma: no cover - botocore without the retries package
        return

    class QuotaOnStart(standard.BaseRetryableChecker):
        def __init__(self) -> None:
            self._attempts = standard.MaxAttemptsChecker(max_attempts)

        def is_retryable(self, context: Any) -> bool:
            if context.get_error_code() != "ServiceQuotaExceededException":
                return False
            return bool(self._attempts.is_retryable(context))

    class AlwaysThrottling(standard.ThrottlingErrorDetector):
        """Backoff scale and quota cost of a throttling error (this handler retries nothing else)."""

        def is_throttling_error_from_context(self, context: Any) -> bool:
            return True

    try:
        detector = AlwaysThrottling(standard.RetryEventAdapter())
        handler = standard.RetryHandler(
            retry_policy=standard.RetryPolicy(
                retry_checker=QuotaOnStart(),
                retry_backoff=standard.ExponentialBackoff(service_name="appflow", throttling_detector=detector),
            ),
            retry_event_adapter=standard.RetryEventAdapter(),
            retry_quota=cast(Any, standard.RetryQuotaChecker(quota.RetryQuota(), detector)),  # stubs say RetryQuota
            service_name="appflow",
        )
        # More specific than botocore's own "needs-retry.appflow" handler, so it is asked first; it answers
        # None for anything but a quota error, and botocore's standard decision applies.
        client.meta.events.register("needs-retry.appflow.StartFlow", handler.needs_retry)
    except (AttributeError, TypeError):  # pragma: no cover - botocore changed its internals
        return


def _endpoint(client: Any) -> str:
    try:
        return str(client.meta.endpoint_url)
    except AttributeError:
        return "AppFlow"


def _region(client: Any) -> str:
    try:
        return str(client.meta.region_name)
    except AttributeError:
        return "its region"


def call(client: Any, operation: str, flow: str, **params: Any) -> dict[str, Any]:
    """`operation` (e.g. "DescribeFlow") on `flow`, with botocore's retries; failures become FlowErrors."""
    from botocore import xform_name
    from botocore.exceptions import BotoCoreError, ClientError

    method: Callable[..., dict[str, Any]] = getattr(client, xform_name(operation))
    try:
        return method(flowName=flow, **params)
    except (ClientError, BotoCoreError) as exc:  # anything else is a bug: it keeps its traceback
        raise explain(exc, operation, flow, client) from None


def explain(exc: Exception, operation: str, flow: str, client: Any = None) -> FlowError:
    """One sentence for a failed AppFlow call: what happened, and what to do about it."""
    from botocore.exceptions import ClientError

    sentence = unreached(exc, "AppFlow", _endpoint(client), "AWS_ENDPOINT_URL_APPFLOW")
    if sentence:
        return FlowError(f"{sentence} ({operation}, flow {flow!r})")
    if not isinstance(exc, ClientError):
        return FlowError(f"AppFlow {operation} for flow {flow!r} failed: {one_line(str(exc))}")

    error = exc.response.get("Error", {})
    code = str(error.get("Code") or "")
    message = one_line(str(error.get("Message") or ""))
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    attempts = int(meta.get("RetryAttempts") or 0) + 1
    tried = f"after {attempts} attempt{'s' if attempts != 1 else ''}"
    why = f" ({message})" if message else ""

    if code == "ResourceNotFoundException" or status == 404:
        return FlowNotFound(
            f"AppFlow has no flow named {flow!r} in {_region(client)}: check the flow name "
            "(--flow, HEATMAP_DAILY_FLOW, HEATMAP_BACKFILL_FLOW) and the region"
        )
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation") or status == 403:
        found = re.search(r"perform:?\s+(appflow:[A-Za-z]+)", message)
        action = found.group(1) if found else OPERATION_ACTIONS.get(operation, f"appflow:{operation}")
        return FlowAccessDenied(
            f"access denied: the app's AWS identity lacks the IAM permission {action} on flow {flow!r}; "
            "add it to the dashboard's policy (tracking/iam-policy.json)",
            action,
        )
    if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException") or (
        status == 401 and code != "ConnectorAuthenticationException"
    ):
        return FlowError(f"AWS rejected the credentials for AppFlow{why}: check or refresh them")
    if code == "ConnectorAuthenticationException":
        return FlowError(
            f"the Google Analytics connection of flow {flow!r} is no longer authorised{why}: "
            "reconnect it in the AppFlow console (Connections)"
        )
    if code == "ConnectorServerException":
        return FlowError(f"Google Analytics answered AppFlow with an error for flow {flow!r}{why}; try again later")
    if code == "ConflictException" or status == 409:
        return FlowBusy(
            f"AppFlow refused {operation} for flow {flow!r} because of a conflict{why}: a run is probably in "
            "progress; wait for it to finish and try again"
        )
    if code == "ServiceQuotaExceededException" or status == 402:
        return FlowError(
            f"AppFlow refused {operation} for flow {flow!r}: a service quota is reached{why} ({tried}); "
            "wait for running flows to finish, or ask AWS to raise the quota"
        )
    if code == "ValidationException" or (status == 400 and "Throttl" not in code):
        return FlowError(f"AppFlow refused {operation} for flow {flow!r} as invalid{why}")
    if "Throttl" in code or code in ("TooManyRequestsException", "LimitExceededException") or status == 429:
        return FlowError(f"AppFlow kept throttling {operation} for flow {flow!r} {tried}; try again in a minute")
    if status >= 500:
        return FlowError(
            f"AppFlow answered {status} {code or 'error'} to {operation} for flow {flow!r} {tried}; "
            "AWS may be having trouble, try again in a few minutes"
        )
    return FlowError(f"AppFlow {operation} for flow {flow!r} failed: {code or status}{why}")
