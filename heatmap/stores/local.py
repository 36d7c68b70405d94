"""A folder on disk as a store; create-only through O_EXCL, visible only when complete."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from heatmap.errors import AlreadyExists, NotFound, StoreError
from heatmap.stores.base import ObjectInfo


class LocalStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:  # also refuses '', '.', 'a/..': the folder itself is not an object
            raise StoreError(f"key {key!r} is not a file inside the folder {self.root}")
        return path

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            raise StoreError(f"folder {self.root} does not exist or is not a folder")
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if name.startswith("."):
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append((key, path))
        for key, path in sorted(found):
            stat = path.stat()
            etag = hashlib.md5(f"{stat.st_size}:{stat.st_mtime_ns}".encode(), usedforsecurity=False).hexdigest()
            modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
            yield ObjectInfo(key=key, size=stat.st_size, etag=etag, last_modified=modified)

    def read(self, key: str) -> bytes:
        return self.read_head(key, -1)

    def read_head(self, key: str, size: int) -> bytes:
        try:
            with self._path(key).open("rb") as handle:
                return handle.read(size)
        except FileNotFoundError:
            raise NotFound(f"{key} not found in {self.root}") from None
        except OSError as exc:
            raise StoreError(f"cannot read {key} in {self.root}: {exc.strerror}") from None

    def create(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot write {key} in {self.root}: {exc.strerror}") from None
        if path.is_dir():
            raise StoreError(f"cannot write {key} in {self.root}: a folder has that name")
        # Written beside the target, then hard-linked: link() fails if the target exists, so a reader
        # never sees a half-written file and a lost race never overwrites.
        partial = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.partial")
        try:
            with open(partial, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(partial, path)
            except FileExistsError:
                raise AlreadyExists(f"{key} already exists in {self.root}; nothing was overwritten") from None
        except AlreadyExists:
            raise
        except OSError as exc:
            raise StoreError(f"cannot write {key} in {self.root}: {exc.strerror}") from None
        finally:
            partial.unlink(missing_ok=True)
