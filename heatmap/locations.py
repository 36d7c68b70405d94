"""Locations are URIs: `s3://bucket/prefix/` or a local folder. Parsing and the overlap rule live here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from heatmap.errors import LocationError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")  # AWS refuses bucket names formatted as an IP address


@dataclass(frozen=True)
class Location:
    """Either an S3 bucket + prefix (prefix '' or ending in '/') or an absolute local folder."""

    scheme: str  # "s3" or "file"
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.scheme == "s3" else self.prefix

    def contains(self, other: Location) -> bool:
        """True if `other` is this location or lies inside it."""
        if self.scheme != other.scheme or self.bucket != other.bucket:
            return False
        if self.scheme == "file":
            mine, theirs = Path(self.prefix), Path(other.prefix)
            return mine == theirs or mine in theirs.parents
        return other.prefix.startswith(self.prefix)


def parse_location(uri: str) -> Location:
    text = (uri or "").strip()
    if not text:
        raise LocationError("no location given: use s3://bucket/prefix/ or a local folder path")
    if text[:5].lower() == "s3://":  # schemes are case-insensitive; bucket and prefix are not
        rest = text[len("s3://") :]
        bucket, _, prefix = rest.partition("/")
        if not _BUCKET.match(bucket) or ".." in bucket or _IP.match(bucket):
            raise LocationError(
                f"{uri!r}: {bucket!r} is not a valid S3 bucket name (3-63 lowercase letters, digits, '.', '-')"
            )
        if "//" in prefix or prefix.startswith("/"):
            raise LocationError(f"{uri!r}: empty path segment '//' in the prefix")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return Location("s3", bucket, prefix)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.\-]*://", text):
        scheme = text.split("://", 1)[0]
        raise LocationError(f"{uri!r}: unsupported scheme {scheme!r}; use s3://bucket/prefix/ or a local folder")
    return Location("file", "", str(Path(text).expanduser().resolve()))


def check_separate(source: Location, output: Location) -> None:
    """Refuse an output that is the source, inside it, or contains it: writes must never land in the source."""
    if source.contains(output):
        raise LocationError(
            f"the output {output.uri} is the source or inside it ({source.uri}); "
            "choose an output location outside the source"
        )
    if output.contains(source):
        raise LocationError(
            f"the output {output.uri} contains the source {source.uri}; "
            "choose an output location that does not enclose the source"
        )
