"""An in-memory store with the same interface, for tests and for data built on the fly."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from heatmap.errors import AlreadyExists, NotFound
from heatmap.stores.base import ObjectInfo


class MemoryStore:
    def __init__(self, uri: str = "memory://") -> None:
        self.uri = uri
        self._objects: dict[str, tuple[bytes, datetime]] = {}
        self._lock = threading.Lock()

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        with self._lock:
            items = sorted((k, v) for k, v in self._objects.items() if k.startswith(prefix))
        for key, (data, modified) in items:
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
            yield ObjectInfo(key=key, size=len(data), etag=etag, last_modified=modified)

    def read(self, key: str) -> bytes:
        try:
            return self._objects[key][0]
        except KeyError:
            raise NotFound(f"{key} not found in {self.uri}") from None

    def read_head(self, key: str, size: int) -> bytes:
        return self.read(key)[:size]

    def create(
        self,
        key: str,
        data: bytes,
        content_type: str | None = None,
        last_modified: datetime | None = None,
    ) -> None:
        with self._lock:
            if key in self._objects:
                raise AlreadyExists(f"{key} already exists in {self.uri}; nothing was overwritten")
            self._objects[key] = (bytes(data), last_modified or datetime.now(UTC))
