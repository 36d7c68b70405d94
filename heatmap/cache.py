"""A local columnar cache so unchanged exports are parsed once (DESIGN §11: re-open ≥ 20× faster).

Entries are keyed by what determines their content: object key + ETag (or the whole listing for the
assembled dataset), the field mapping and the software version. Each frame is an Arrow IPC file written
under a temporary name and renamed; the JSON metadata is written last and marks the entry complete, so a
crash never leaves a half entry, and an unreadable entry is simply a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import polars as pl

import heatmap

FORMAT_VERSION = "1"


def cache_key(*parts: str) -> str:
    text = "\x1f".join((heatmap.__version__, FORMAT_VERSION, *parts))
    return hashlib.sha256(text.encode()).hexdigest()


class ColumnarCache:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _base(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def get(self, key: str) -> tuple[dict[str, pl.DataFrame], dict[str, Any]] | None:
        """Frames and metadata stored under `key`, or None on a miss or an unreadable entry."""
        base = self._base(key)
        try:
            meta = json.loads(base.with_suffix(".json").read_text())
            frames = {name: pl.read_ipc(f"{base}.{name}.arrow") for name in meta["frames"]}
        except (OSError, ValueError, KeyError, pl.exceptions.PolarsError):
            return None
        return frames, meta["meta"]

    def put(self, key: str, frames: dict[str, pl.DataFrame], meta: dict[str, Any]) -> None:
        """Best effort: a full disk or a read-only folder costs speed, never correctness."""
        base = self._base(key)
        try:
            base.parent.mkdir(parents=True, exist_ok=True)
            for name, frame in frames.items():
                _atomic_write(Path(f"{base}.{name}.arrow"), lambda path, f=frame: f.write_ipc(path))
            payload = json.dumps({"frames": list(frames), "meta": meta}, default=str).encode()
            _atomic_write(base.with_suffix(".json"), lambda path: path.write_bytes(payload))
        except OSError:
            return


def _atomic_write(target: Path, write: Any) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
