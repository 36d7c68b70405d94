"""The one interface every store implements: list, read, create-only write.

There is deliberately no overwrite and no delete: saved runs are records, and the source is read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ObjectInfo:
    """One object under a store's root. `key` is relative to the root, '/'-separated."""

    key: str
    size: int
    etag: str
    last_modified: datetime


class Store(Protocol):
    uri: str

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose relative key starts with `prefix`, in key order."""
        ...

    def read(self, key: str) -> bytes: ...

    def read_head(self, key: str, size: int) -> bytes:
        """The object's first `size` bytes (fewer if it is shorter): enough to tell an export's shape."""
        ...

    def create(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Write a new object; raise AlreadyExists if the key is taken. Never overwrites."""
        ...
