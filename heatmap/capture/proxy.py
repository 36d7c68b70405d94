"""The forward proxy every request of a capture's browser goes through (Chromium's --proxy-server, loopback not
bypassed): navigation, redirects, sub-resources, workers and websockets alike. Each request's host is checked
against the allowlist and the connection goes to the address checked, never to one the browser or a second DNS
answer chose; what comes back is counted against the capture's byte limit. A refused request gets a 403 whose
`X-Heatmap-Refused` header carries the sentence, so the capture can say why its page did not load.
"""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

from heatmap.capture.allow import Allowlist, Refused, Resolver

HEAD_LIMIT = 64 * 1024
CONNECT_TIMEOUT_S = 10.0
REFUSED_HEADER = "X-Heatmap-Refused"
MAX_REFUSALS = 20  # kept for the report: the first few say enough
OVER_LIMIT = "the page downloaded more than the capture allows"


class Guard:
    """What the proxy allows and what it saw: refusals (host -> sentence, the first MAX_REFUSALS hosts) and bytes
    received."""

    def __init__(self, allow: Allowlist, max_bytes: int, resolve: Resolver | None = None) -> None:
        self.allow, self.max_bytes, self.resolve = allow, max_bytes, resolve
        self.refusals: dict[str, str] = {}
        self.received = 0
        self.over_limit = False
        self._lock = threading.Lock()

    def refuse(self, host: str, reason: str) -> None:
        with self._lock:
            if host not in self.refusals and len(self.refusals) < MAX_REFUSALS:
                self.refusals[host] = reason

    def count(self, n: int) -> bool:
        """Add `n` bytes received; False once the capture's limit is passed (its connections are then closed)."""
        with self._lock:
            self.received += n
            if self.received > self.max_bytes:
                self.over_limit = True
            return not self.over_limit

    def connect(self, scheme: str, host: str, port: int) -> socket.socket:
        """A connection to an allowed host's checked address; Refused otherwise."""
        entry = self.allow.entry(scheme, host, port)
        last: OSError | None = None
        for address in self.allow.addresses(entry, port, self.resolve):
            try:
                return socket.create_connection((address, port), timeout=CONNECT_TIMEOUT_S)
            except OSError as exc:
                last = exc
        raise Refused(f"{host}:{port} did not answer ({last})")


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        guard = self.server.guard
        client: socket.socket = self.request
        client.settimeout(CONNECT_TIMEOUT_S)
        try:
            head, rest = _read_head(client)
        except (OSError, ValueError):
            return
        try:
            method, target, version = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
        except ValueError:
            return
        tunnel = method.upper() == "CONNECT"
        host, _, port = target.rpartition(":") if tunnel else (urlsplit(target).hostname or "", "", "")
        if guard.over_limit:  # the capture has failed: answer at once, so the browser stops instead of retrying
            _refuse(client, OVER_LIMIT)
            return
        upstream: socket.socket | None = None
        try:
            if tunnel:
                upstream = guard.connect("https", host, int(port))
                client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                if rest:
                    upstream.sendall(rest)
            else:
                upstream, request = self._forward(head, rest, method, target, version)
                upstream.sendall(request)
        except Refused as exc:
            guard.refuse(host, str(exc))
            _refuse(client, str(exc))
            return
        except (OSError, ValueError) as exc:
            if upstream is not None:  # connected, then the first bytes failed: the connection is not left open
                upstream.close()
            guard.refuse(host, f"{target[:200]} could not be fetched ({exc})")
            _refuse(client, f"{target[:200]} could not be fetched")
            return
        with contextlib.closing(upstream):
            _pipe(client, upstream, guard)

    def _forward(self, head: bytes, rest: bytes, method: str, target: str, version: str) -> tuple[socket.socket, bytes]:
        """A plain-HTTP request in absolute form, re-sent in origin form with `Connection: close`."""
        entry, port = self.server.guard.allow.check_url(target)
        parts = urlsplit(target)
        if parts.scheme.lower() != "http":
            raise Refused(f"{parts.scheme} requests are not proxied")
        upstream = self.server.guard.connect("http", entry.host, port)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        lines = [f"{method} {path} {version}".encode("latin-1")]
        for line in head.split(b"\r\n")[1:]:
            name = line.split(b":", 1)[0].strip().lower()
            if line and name not in (b"proxy-connection", b"connection", b"keep-alive", b"proxy-authorization"):
                lines.append(line)
        lines.append(b"Connection: close")
        return upstream, b"\r\n".join(lines) + b"\r\n\r\n" + rest


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, guard: Guard) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.guard = guard


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(8192)
        if not chunk:
            raise ValueError("closed before the request's head ended")
        data += chunk
        if len(data) > HEAD_LIMIT:
            raise ValueError("request head too long")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _refuse(client: socket.socket, reason: str) -> None:
    body = (reason + "\n").encode()
    header = reason.encode("ascii", "replace").replace(b"\r", b" ").replace(b"\n", b" ")
    with contextlib.suppress(OSError):
        client.sendall(
            b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + REFUSED_HEADER.encode() + b": " + header + b"\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
        )  # fmt: skip


def _pipe(client: socket.socket, upstream: socket.socket, guard: Guard) -> None:
    """Bytes both ways until either side closes; what comes from upstream counts against the byte limit."""
    sockets = [client, upstream]
    for s in sockets:
        s.settimeout(None)
    answered = False
    while True:
        readable, _, broken = select.select(sockets, [], sockets, 60.0)
        if broken or not readable:
            return
        for source in readable:
            try:
                chunk = source.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            if source is upstream and not guard.count(len(chunk)):
                if not answered:
                    _refuse(client, OVER_LIMIT)
                else:  # reset, not closed: a cut response must fail at once, not look like a slow one
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            answered = answered or source is upstream
            try:
                (client if source is upstream else upstream).sendall(chunk)
            except OSError:
                return


@contextlib.contextmanager
def running(guard: Guard) -> Iterator[str]:
    """The proxy on a free loopback port for the duration; yields its address for --proxy-server."""
    server = _Server(guard)
    thread = threading.Thread(target=server.serve_forever, name="capture-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
