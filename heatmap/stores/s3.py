"""S3 (or any S3-compatible server) as a store: paginated list, get, create-only put (If-None-Match: *)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from heatmap.aws import new_client, unreached
from heatmap.errors import AlreadyExists, NotFound, StoreError
from heatmap.stores.base import ObjectInfo


@dataclass(frozen=True)
class S3Options:
    """Connection settings; credentials come from the standard AWS chain (env, profile, role)."""

    endpoint_url: str | None = None
    region: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_pool_connections: int = 16


def make_client(options: S3Options, label: str = "S3") -> Any:
    """`label` names what the client is for in messages (e.g. "S3 bucket exports")."""
    try:
        return new_client(
            "s3",
            label,
            options.retry_mode,
            options.max_attempts,
            {"endpoint_url": options.endpoint_url, "region_name": options.region},
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
            max_pool_connections=options.max_pool_connections,
            signature_version="s3v4",
            s3={"addressing_style": "path"} if options.endpoint_url else {},
        )
    except ValueError as exc:
        raise StoreError(str(exc)) from None


_MESSAGES = {
    "NoSuchBucket": "bucket {bucket} does not exist (check the bucket name and region)",
    "AccessDenied": "access denied to s3://{bucket}/{key} (check the credentials and the IAM policy)",
    "InvalidAccessKeyId": "the AWS access key is not valid for {endpoint}",
    "SignatureDoesNotMatch": "the AWS secret key does not match the access key for {endpoint}",
    "ExpiredToken": "the AWS session token has expired; refresh the credentials",
    "SlowDown": "S3 is throttling requests to {bucket} even after retries; try again in a minute",
    "Throttling": "S3 is throttling requests to {bucket} even after retries; try again in a minute",
    "PermanentRedirect": "bucket {bucket} is in another region: set the region for it",
    "AuthorizationHeaderMalformed": "bucket {bucket} is in another region: set the region for it",
    "InvalidBucketName": "{bucket!r} is not a valid bucket name for {endpoint}",
}

# Codes that mean "a create-only put lost to an existing object".
_EXISTS = ("PreconditionFailed", "412")
# Codes that mean "another conditional write to this key is in flight": AWS asks to retry; the retry then
# either succeeds (the other writer gave up) or gets 412 (it won). Never reported as AlreadyExists by itself.
_CONFLICT = ("ConditionalRequestConflict", "409")
_CONFLICT_RETRIES = 6
_sleep = time.sleep  # a seam for tests


class S3Store:
    def __init__(self, bucket: str, prefix: str = "", options: S3Options | None = None, client: Any = None):
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.options = options or S3Options()
        self.uri = f"s3://{bucket}/{self.prefix}"
        self._client = client
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        # Built once, under a lock: threads sharing a store must share one client (clients are thread-safe,
        # creating them is not, and each one costs ~0.1 s of CPU).
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    self._client = make_client(self.options, f"S3 bucket {self.bucket}")
        return self._client

    def _explain(self, exc: Exception, key: str = "") -> StoreError:
        from botocore.exceptions import ClientError

        endpoint = str(self.options.endpoint_url or getattr(getattr(self._client, "meta", None), "endpoint_url", "AWS"))
        sentence = unreached(exc, f"S3 bucket {self.bucket}", endpoint, "the endpoint URL (HEATMAP_S3_ENDPOINT_URL)")
        if sentence:
            return StoreError(sentence)
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchKey", "404") and key:
                return NotFound(f"s3://{self.bucket}/{self.prefix}{key} not found")
            if code in _MESSAGES:
                return StoreError(_MESSAGES[code].format(bucket=self.bucket, key=self.prefix + key, endpoint=endpoint))
            if code == "403" or status == 403:
                return StoreError(_MESSAGES["AccessDenied"].format(bucket=self.bucket, key=self.prefix + key))
            if status and int(status) >= 500:
                return StoreError(
                    f"S3 server error {status} ({code}) for bucket {self.bucket} after retries; try again"
                )
            return StoreError(f"S3 error {code or status} for s3://{self.bucket}/{self.prefix}{key}")
        return StoreError(f"S3 request to {endpoint} for bucket {self.bucket} failed: {exc}")

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[ObjectInfo] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    found.append(
                        ObjectInfo(
                            key=item["Key"][len(self.prefix) :],
                            size=int(item["Size"]),
                            etag=str(item.get("ETag", "")).strip('"'),
                            last_modified=item["LastModified"],
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            raise self._explain(exc) from None
        # AWS lists in UTF-8 byte order, but S3-compatible servers need not: SeaweedFS walks its directory
        # tree, so 'a/x' comes before 'a-b/y'. Sorting str by code point is the same as UTF-8 byte order.
        found.sort(key=lambda info: info.key)
        yield from found

    def read(self, key: str) -> bytes:
        return self._get(key, {})

    def read_head(self, key: str, size: int) -> bytes:
        return self._get(key, {"Range": f"bytes=0-{size - 1}"})[:size]

    def _get(self, key: str, extra: dict[str, str]) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key, **extra)
            return bytes(response["Body"].read())
        except ClientError as exc:
            if extra and exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""  # an empty object has no first bytes
            raise self._explain(exc, key) from None
        except BotoCoreError as exc:
            raise self._explain(exc, key) from None

    def create(self, key: str, data: bytes, content_type: str | None = None) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        extra = {"ContentType": content_type} if content_type else {}
        for attempt in range(_CONFLICT_RETRIES):
            try:
                self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, IfNoneMatch="*", **extra)
                return
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code in _EXISTS:
                    raise AlreadyExists(
                        f"s3://{self.bucket}/{self.prefix}{key} already exists; nothing was overwritten"
                    ) from None
                if code not in _CONFLICT:
                    raise self._explain(exc, key) from None
            except BotoCoreError as exc:
                raise self._explain(exc, key) from None
            _sleep(0.05 * 2**attempt)
        raise StoreError(f"s3://{self.bucket}/{self.prefix}{key}: other writes to this key kept conflicting; try again")
