"""S3 failures surface as one clear StoreError line, never a botocore traceback.

Real servers where they can produce the failure (moto, SeaweedFS, a closed port, a tiny HTTP server that
always answers 500); botocore's Stubber for what they cannot (throttling, 503, conditional-write conflicts).
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from heatmap.errors import AlreadyExists, NotFound, StoreError
from heatmap.stores import S3Options, S3Store
from heatmap.stores import s3 as s3_module
from heatmap.stores.s3 import make_client
from tests.fixtures.s3 import (
    REGION,
    WEED_AK,
    WEED_READER_AK,
    WEED_READER_SK,
    WEED_SK,
    _free_port,
    seaweed_options,
    use_seaweed_credentials,
)

BOTO_WORDS = ("Traceback", "botocore", "ClientError", "An error occurred (")


def _raises_clean(call: Callable[[], Any], match: str, kind: type[StoreError] = StoreError) -> StoreError:
    """Run `call`, expect a StoreError matching `match`, with no botocore detail or chained traceback."""
    with pytest.raises(kind, match=match) as info:
        call()
    exc = info.value
    text = str(exc)
    assert not any(word in text for word in BOTO_WORDS), text
    assert "\n" not in text
    assert exc.__cause__ is None, "no botocore exception chained as the cause"
    assert exc.__context__ is None or exc.__suppress_context__, "raised `from None`: no botocore chain shown"
    return exc


def _all_ops(store: S3Store, match: str) -> None:
    _raises_clean(lambda: list(store.list()), match)
    _raises_clean(lambda: store.read("a.json"), match)
    _raises_clean(lambda: store.create("a.json", b"{}"), match)


# ---------------------------------------------------------------------------------------------- no such bucket


def test_no_such_bucket_moto(moto_s3: Any) -> None:
    store = S3Store("no-such-bucket-here", "exports/", S3Options(region=REGION))
    _all_ops(store, "bucket no-such-bucket-here does not exist")
    exc = _raises_clean(lambda: store.read("a.json"), "does not exist")
    assert not isinstance(exc, NotFound)  # a missing bucket is a setup problem, not a missing key


@pytest.mark.integration
def test_no_such_bucket_seaweed(seaweed_endpoint: str, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    use_seaweed_credentials(monkeypatch)
    store = S3Store("no-such-bucket-here", "exports/", seaweed_options(seaweed_endpoint))
    _all_ops(store, "bucket no-such-bucket-here does not exist")


# ---------------------------------------------------------------------------------------------- NoSuchKey


def test_missing_key_is_not_found_moto(moto_s3: Any, bucket_factory: Callable[..., str]) -> None:
    bucket = bucket_factory(moto_s3)
    store = S3Store(bucket, "exports", S3Options(region=REGION))
    exc = _raises_clean(lambda: store.read("2026/nope.json"), "not found", NotFound)
    assert str(exc) == f"s3://{bucket}/exports/2026/nope.json not found"


@pytest.mark.integration
def test_missing_key_is_not_found_seaweed(
    seaweed_s3: Any, bucket_factory: Callable[..., str], aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_seaweed_credentials(monkeypatch)
    bucket = bucket_factory(seaweed_s3)
    store = S3Store(bucket, "exports/", seaweed_options(seaweed_s3.meta.endpoint_url))
    exc = _raises_clean(lambda: store.read("2026/nope.json"), "not found", NotFound)
    assert str(exc) == f"s3://{bucket}/exports/2026/nope.json not found"


# ---------------------------------------------------------------------------------------------- auth (SeaweedFS)


@pytest.fixture
def weed_bucket(seaweed_s3: Any, bucket_factory: Callable[..., str], aws_env: None) -> Iterator[str]:
    bucket = bucket_factory(seaweed_s3)
    seaweed_s3.put_object(Bucket=bucket, Key="exports/a.json", Body=b"{}")
    yield bucket


@pytest.mark.integration
def test_wrong_secret_is_signature_mismatch(
    seaweed_endpoint: str, weed_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_seaweed_credentials(monkeypatch, sk="not-the-secret")
    store = S3Store(weed_bucket, "exports/", seaweed_options(seaweed_endpoint))
    _all_ops(store, f"the AWS secret key does not match the access key for {seaweed_endpoint}")


@pytest.mark.integration
def test_unknown_access_key(seaweed_endpoint: str, weed_bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    use_seaweed_credentials(monkeypatch, ak="AKIDONTKNOWYOU", sk=WEED_SK)
    store = S3Store(weed_bucket, "exports/", seaweed_options(seaweed_endpoint))
    _all_ops(store, f"the AWS access key is not valid for {seaweed_endpoint}")


@pytest.mark.integration
def test_read_only_identity_cannot_write(
    seaweed_endpoint: str, weed_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_seaweed_credentials(monkeypatch, ak=WEED_READER_AK, sk=WEED_READER_SK)
    store = S3Store(weed_bucket, "exports/", seaweed_options(seaweed_endpoint))
    assert [o.key for o in store.list()] == ["a.json"]
    assert store.read("a.json") == b"{}"
    _raises_clean(lambda: store.create("b.json", b"{}"), f"access denied to s3://{weed_bucket}/exports/b.json")


@pytest.mark.integration
def test_credentials_are_read_per_store(
    seaweed_endpoint: str, weed_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store made after the environment changes uses the new keys (boto3's default session would not)."""
    use_seaweed_credentials(monkeypatch, sk="wrong")
    with pytest.raises(StoreError, match="secret key does not match"):
        list(S3Store(weed_bucket, "exports/", seaweed_options(seaweed_endpoint)).list())
    use_seaweed_credentials(monkeypatch, ak=WEED_AK, sk=WEED_SK)
    assert [o.key for o in S3Store(weed_bucket, "exports/", seaweed_options(seaweed_endpoint)).list()] == ["a.json"]


# ---------------------------------------------------------------------------------------------- unreachable


def test_unreachable_endpoint_is_quick_and_clear(aws_env: None) -> None:
    port = _free_port()  # nothing listens there
    endpoint = f"http://127.0.0.1:{port}"
    store = S3Store(
        "bucket", "p/", S3Options(endpoint_url=endpoint, region=REGION, connect_timeout=0.5, max_attempts=1)
    )
    started = time.monotonic()
    _all_ops(store, f"cannot reach S3 bucket bucket at {endpoint} even after retries: check the network")
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------------------------- retries


def test_retry_configuration() -> None:
    default = make_client(S3Options(region=REGION)).meta.config
    assert default.retries == {"mode": "standard", "total_max_attempts": 5}
    assert (default.connect_timeout, default.read_timeout) == (5.0, 60.0)
    adaptive = make_client(S3Options(region=REGION, retry_mode="adaptive", max_attempts=2)).meta.config
    assert adaptive.retries == {"mode": "adaptive", "total_max_attempts": 2}
    assert make_client(S3Options(region=REGION, max_attempts=1)).meta.config.retries["total_max_attempts"] == 1
    with pytest.raises(StoreError, match="unknown retry mode 'sometimes' for S3"):
        make_client(S3Options(retry_mode="sometimes"))


class _Always500(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that fails every request with S3's InternalError."""

    protocol_version = "HTTP/1.1"  # answers botocore's `Expect: 100-continue` at once (HTTP/1.0 makes it wait 1 s)
    hits = 0
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
        b"<Message>We encountered an internal error. Please try again.</Message></Error>"
    )

    def _fail(self) -> None:
        type(self).hits += 1
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(500)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_PUT = do_HEAD = _fail

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    _Always500.hits = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("attempts", [1, 3])
def test_server_errors_are_retried_then_explained(aws_env: None, failing_server: str, attempts: int) -> None:
    store = S3Store("bucket", "p/", S3Options(endpoint_url=failing_server, region=REGION, max_attempts=attempts))
    _raises_clean(
        lambda: store.read("x.json"), "S3 server error 500 \\(InternalError\\) for bucket bucket after retries"
    )
    assert _Always500.hits == attempts
    _Always500.hits = 0
    _raises_clean(lambda: store.create("x.json", b"{}"), "S3 server error 500")
    assert _Always500.hits == attempts


# ---------------------------------------------------------------------------------------------- stubbed errors


@pytest.fixture
def stubbed(aws_env: None) -> Iterator[tuple[S3Store, Stubber]]:
    client = make_client(S3Options(region=REGION))
    store = S3Store("bkt", "exports/", S3Options(region=REGION), client=client)
    with Stubber(client) as stubber:
        yield store, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize("code", ["SlowDown", "Throttling"])
def test_throttling_message(stubbed: tuple[S3Store, Stubber], code: str) -> None:
    store, stub = stubbed
    stub.add_client_error(
        "list_objects_v2", service_error_code=code, service_message="Reduce your rate", http_status_code=503
    )
    stub.add_client_error(
        "get_object", service_error_code=code, service_message="Reduce your rate", http_status_code=503
    )
    match = "S3 is throttling requests to bkt even after retries; try again in a minute"
    _raises_clean(lambda: list(store.list()), match)
    _raises_clean(lambda: store.read("a.json"), match)


@pytest.mark.parametrize(
    ("code", "status"), [("InternalError", 503), ("ServiceUnavailable", 503), ("InternalError", 500)]
)
def test_server_error_message(stubbed: tuple[S3Store, Stubber], code: str, status: int) -> None:
    store, stub = stubbed
    stub.add_client_error("put_object", service_error_code=code, http_status_code=status)
    stub.add_client_error("get_object", service_error_code=code, http_status_code=status)
    match = f"S3 server error {status} \\({code}\\) for bucket bkt after retries; try again"
    _raises_clean(lambda: store.create("a.json", b"{}"), match)
    _raises_clean(lambda: store.read("a.json"), match)


def test_stubbed_access_denied_and_expired_token(stubbed: tuple[S3Store, Stubber]) -> None:
    store, stub = stubbed
    stub.add_client_error("list_objects_v2", service_error_code="AccessDenied", http_status_code=403)
    stub.add_client_error("get_object", service_error_code="ExpiredToken", http_status_code=400)
    _raises_clean(lambda: list(store.list()), "access denied to s3://bkt/exports/ \\(check the credentials and the IAM")
    _raises_clean(lambda: store.read("a"), "session token has expired")


def test_unknown_error_code_still_one_clear_line(stubbed: tuple[S3Store, Stubber]) -> None:
    store, stub = stubbed
    stub.add_client_error("get_object", service_error_code="WeirdThing", http_status_code=400)
    _raises_clean(lambda: store.read("a.json"), "S3 error WeirdThing for s3://bkt/exports/a.json")


def test_precondition_failed_is_already_exists(stubbed: tuple[S3Store, Stubber]) -> None:
    store, stub = stubbed
    stub.add_client_error("put_object", service_error_code="PreconditionFailed", http_status_code=412)
    _raises_clean(
        lambda: store.create("a.json", b"{}"),
        "s3://bkt/exports/a.json already exists; nothing was overwritten",
        AlreadyExists,
    )


def test_conditional_conflict_is_retried(stubbed: tuple[S3Store, Stubber], monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS answers 409 ConditionalRequestConflict while another conditional write is in flight: retry it."""
    store, stub = stubbed
    sleeps: list[float] = []
    monkeypatch.setattr(s3_module, "_sleep", sleeps.append)
    expected = {"Bucket": "bkt", "Key": "exports/a.json", "Body": b"{}", "IfNoneMatch": "*"}

    # The other writer won: the retry sees 412.
    stub.add_client_error("put_object", service_error_code="ConditionalRequestConflict", http_status_code=409)
    stub.add_client_error("put_object", service_error_code="PreconditionFailed", http_status_code=412)
    _raises_clean(lambda: store.create("a.json", b"{}"), "already exists", AlreadyExists)

    # The other writer gave up: the retry succeeds.
    stub.add_client_error("put_object", service_error_code="ConditionalRequestConflict", http_status_code=409)
    stub.add_response("put_object", {"ETag": '"x"'}, expected)
    store.create("a.json", b"{}")

    # Conflicts that never settle: a clear error, not a false "already exists".
    for _ in range(6):
        stub.add_client_error("put_object", service_error_code="ConditionalRequestConflict", http_status_code=409)
    exc = _raises_clean(lambda: store.create("a.json", b"{}"), "kept conflicting; try again")
    assert not isinstance(exc, AlreadyExists)
    assert sleeps[:2] == [0.05, 0.05] and len(sleeps) == 8
