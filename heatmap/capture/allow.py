"""Which addresses a capture may reach (docs/capture.md, "Security"). Capturing fetches URLs on the server, so a
page (or a link) must not make it reach the cloud's metadata service, the server's own ports or the private
network: every request the browser makes is checked here, by host name against the allowlist and by the
address the name resolves to.

An allowlist entry is `host`, `host:port`, or either after `http://` (plain HTTP for that host; https only
otherwise). A host given as an IP literal (`127.0.0.1:8765`) allows exactly that address and port, private or not:
that is how tests and the demo allow loopback. A name must resolve only to public addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from heatmap.errors import ConfigError, HeatmapError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
#: Cloud metadata services: refused even when a private network is otherwise allowed.
METADATA = (ipaddress.ip_network("169.254.169.254/32"), ipaddress.ip_network("fd00:ec2::254/128"))


class Refused(HeatmapError):
    """A request the capture may not make, with the one sentence that says why (`str(exc)`)."""


@dataclass(frozen=True)
class Entry:
    host: str  # lower case; an IP literal in its compressed form
    port: int | None  # None: the scheme's default port only
    plain_http: bool = False

    @property
    def literal(self) -> Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


@dataclass(frozen=True)
class Allowlist:
    entries: tuple[Entry, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.entries)

    def entry(self, scheme: str, host: str, port: int) -> Entry:
        """The entry allowing `scheme://host:port`, or Refused saying why not."""
        host = _normal_host(host)
        for entry in self.entries:
            if entry.host != host:
                continue
            if entry.port not in (None, port) or (entry.port is None and port != _DEFAULT_PORTS.get(scheme)):
                continue
            if scheme in ("http", "ws") and not entry.plain_http:
                raise Refused(
                    f"{host} is allowed over https only; add http://{host} to HEATMAP_CAPTURE_HOSTS to allow it"
                )
            return entry
        raise Refused(f"{host}:{port} is not on the capture allowlist (HEATMAP_CAPTURE_HOSTS)")

    def check_url(self, url: str) -> tuple[Entry, int]:
        """The entry and port a URL the browser is sent to needs; Refused for another scheme or host."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise Refused(f"only http and https pages can be captured, not {scheme or 'this'}: URLs")
        if not parts.hostname:
            raise Refused("the URL names no host")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise Refused("the URL's port is not a number from 1 to 65535") from None
        return self.entry(scheme, parts.hostname, port), port

    def addresses(self, entry: Entry, port: int, resolve: Resolver | None = None) -> list[str]:
        """The addresses to connect to for an allowed host: an IP literal as given; a name's resolved addresses,
        every one public (a name resolving to a private, loopback, link-local or metadata address is refused, so
        a DNS answer cannot point the capture inside the network)."""
        literal = entry.literal
        if literal is not None:
            if any(literal in net for net in METADATA):
                raise Refused(f"{literal} is a cloud metadata address; it is never captured")
            return [str(literal)]
        found = (resolve or _resolve)(entry.host, port)
        if not found:
            raise Refused(f"{entry.host} does not resolve")
        for text in found:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not address.is_global or any(address in net for net in METADATA):
                raise Refused(
                    f"{entry.host} resolves to {address}, a private, loopback or link-local address; allow that "
                    "address itself (its IP and port) in HEATMAP_CAPTURE_HOSTS if it is meant"
                )
        return found


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def _normal_host(host: str) -> str:
    host = host.strip().strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_allowlist(text: str | Iterable[str] | None) -> Allowlist:
    """HEATMAP_CAPTURE_HOSTS: comma-separated `host`, `host:port`, `http://host[:port]`. Raises ConfigError naming
    a bad entry."""
    if text is None:
        return Allowlist()
    items = text.split(",") if isinstance(text, str) else list(text)
    entries = []
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        plain = item.lower().startswith("http://")
        rest = item[len("http://") :] if plain else item.removeprefix("https://")
        parts = urlsplit(f"//{rest}")
        if not parts.hostname or parts.path.strip("/") or parts.query or parts.username:
            raise ConfigError(f"capture host {item[:80]!r}: expected host, host:port or http://host:port")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"capture host {item[:80]!r}: the port is not a number from 1 to 65535") from None
        entries.append(Entry(_normal_host(parts.hostname), port, plain))
    return Allowlist(tuple(entries))
