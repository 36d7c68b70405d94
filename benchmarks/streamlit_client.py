"""A tab of the app without a browser: Streamlit's own messages over its websocket, for benchmarks/load.py.

A browser tab and the server speak protobufs over /_stcore/stream: the tab sends a BackMsg `rerun_script` (the
page, its query string and every widget value it holds), the server runs the script and streams ForwardMsgs back
(`delta`s that place elements at a path, `page_info_changed` when the script rewrites the query string, a
session status that says when the run is over). An upload asks the server for upload URLs (`file_urls_request`),
PUTs the file there over HTTP with the XSRF cookie, then reruns with the file's id as the uploader's value. This
client does the same, so N designers cost the benchmark's machine almost nothing beyond the server's own work:
what it measures is what a team sees whose browsers run on their own machines, minus painting. Images the page
shows by URL (st.image) are fetched, as a browser would; the map viewer's frame arrives inline in its delta.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

XSRF_COOKIE = "_streamlit_xsrf"


def made_with(element_id: str, key: str) -> bool:
    """Whether a widget's or container's id is the one Streamlit gives what was made with `key=key`
    ("$$ID-<hash>-<key>")."""
    return element_id.endswith(f"-{key}")


class ClientError(RuntimeError):
    """The server did not answer as a browser tab expects (no run, no upload URL, a closed socket)."""


class StreamlitClient:
    """One tab: a websocket session, the query string it shows, the elements of its last run and the widget values
    it has set. `open(address)` is a new tab on an address (a new session, as following a link is)."""

    def __init__(self, base_url: str, timeout: float = 90.0) -> None:
        import requests

        self.base, self.timeout = base_url.rstrip("/"), timeout
        self.http = requests.Session()
        self.socket: Any = None
        self.session_id = ""
        self.page_name = ""
        self.query = ""
        self.elements: dict[tuple[int, ...], Any] = {}  # delta path -> Element, as the page shows them
        self.blocks: dict[tuple[int, ...], str] = {}  # delta path -> a keyed container's id
        self.states: dict[str, Any] = {}  # widget id -> WidgetState the tab sends with every rerun
        self.received = 0  # bytes from the server (socket and images)
        self.runs: list[tuple[float, float]] = []  # each finished run: (began, ended), time.time()

    # ------------------------------------------------------------------------------------------------ the socket

    def open(self, address: str) -> None:
        """A new session on `address` ("/Compare?mode=..."): connect, run the page, return when the run is over."""
        from websockets.sync.client import connect

        self.close()
        parts = urlsplit(address)
        self.page_name, self.query = parts.path.strip("/"), parts.query
        self.elements, self.blocks, self.states = {}, {}, {}
        ws_url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.socket = connect(ws_url, subprotocols=["streamlit"], max_size=None, open_timeout=self.timeout)
        self.rerun()

    def close(self) -> None:
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def rerun(self, triggers: dict[str, Any] | None = None) -> None:
        """Send the page, query string and widget values (plus one-off `triggers`: a button's click) and wait until
        the server's run of them is over."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query
        state.page_name = self.page_name
        state.context_info.locale = "en-US"
        state.context_info.timezone = "UTC"
        for widget in [*self.states.values(), *(triggers or {}).values()]:
            state.widget_states.widgets.add().CopyFrom(widget)
        self._send(message)
        self._wait_for_run()

    def _send(self, message: Any) -> None:
        if self.socket is None:
            raise ClientError("no session: open an address first")
        self.socket.send(message.SerializeToString())

    def _receive(self, deadline: float) -> Any:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        left = deadline - time.monotonic()
        if left <= 0:
            raise ClientError(f"no answer from the server within {self.timeout:.0f} s")
        try:
            raw = self.socket.recv(timeout=left)
        except TimeoutError:
            raise ClientError(f"no answer from the server within {self.timeout:.0f} s") from None
        self.received += len(raw)
        message = ForwardMsg()
        message.ParseFromString(raw)
        self._apply(message)
        return message

    def _wait_for_run(self) -> None:
        """Until the session says its script stopped running, after it said it started: the state the e2e tests
        and the browser benchmark wait for (stApp's data-test-script-state back at notRunning)."""
        deadline, began, written = time.monotonic() + self.timeout, 0.0, set()
        while True:
            message = self._receive(deadline)
            kind = message.WhichOneof("type")
            if kind == "delta":
                written.add(tuple(message.metadata.delta_path))
            elif kind == "session_status_changed":
                if message.session_status_changed.script_is_running:
                    began = began or time.time()
                elif began:
                    break
        self._forget_stale(written)
        self.runs.append((began, time.time()))
        self._fetch_images()

    def _apply(self, message: Any) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.session_id = message.new_session.initialize.session_id
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "delta":
            path, delta = tuple(message.metadata.delta_path), message.delta
            if delta.WhichOneof("type") == "new_element":
                self.elements[path] = delta.new_element
            elif delta.WhichOneof("type") == "add_block":
                self.blocks[path] = delta.add_block.id
                for gone in [p for p in self.elements if p[: len(path)] == path]:
                    del self.elements[gone]

    def _forget_stale(self, written: set[tuple[int, ...]]) -> None:
        """What the run did not write again is gone from the page, as the frontend clears it when a run ends."""
        if written:
            self.elements = {p: e for p, e in self.elements.items() if p in written}

    def _fetch_images(self) -> None:
        for element in self.elements.values():
            if element.WhichOneof("type") == "imgs":
                for image in element.imgs.imgs:
                    if image.url.startswith("/"):
                        self.received += len(self.http.get(self.base + image.url, timeout=self.timeout).content)

    # ------------------------------------------------------------------------------------------------ the page

    def widget(self, key: str) -> Any:
        """The element of the widget made with `key=key`."""
        for element in self.elements.values():
            inner = getattr(element, element.WhichOneof("type") or "", None)
            if made_with(str(getattr(inner, "id", "")), key):
                return inner
        raise ClientError(f"no widget with key {key!r} on the page")

    def texts(self) -> str:
        """Every markdown, alert, code and caption body on the page, one per line (for checks)."""
        found = []
        for element in self.elements.values():
            kind = element.WhichOneof("type")
            if kind in ("markdown", "alert", "code", "text", "heading"):
                found.append(str(getattr(element, kind).body if kind != "code" else element.code.code_text))
        return "\n".join(found)

    def count(self, kind: str) -> int:
        return sum(1 for element in self.elements.values() if element.WhichOneof("type") == kind)

    def frames_in(self, key: str) -> list[str]:
        """The srcdoc of each iframe inside the container made with `key=key`."""
        roots = [path for path, block_id in self.blocks.items() if made_with(block_id, key)]
        return [
            element.iframe.srcdoc
            for path, element in self.elements.items()
            if element.WhichOneof("type") == "iframe" and any(path[: len(root)] == root for root in roots)
        ]

    def set_query(self, **values: str) -> None:
        """What a frame does to the address bar without a run (the map viewer's `type=`)."""
        params = dict(parse_qsl(self.query, keep_blank_values=True))
        params.update(values)
        self.query = urlencode(params)

    # ------------------------------------------------------------------------------------------------ widgets

    def _state(self, key: str) -> Any:
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        state = WidgetState()
        state.id = self.widget(key).id
        return state

    def choose(self, key: str, option: str) -> None:
        """A radio or selectbox: pick `option` (by its label) and rerun."""
        state = self._state(key)
        state.string_value = option
        self.states[state.id] = state
        self.rerun()

    def pick(self, key: str, options: list[str]) -> None:
        """A multiselect: these options exactly, then rerun."""
        state = self._state(key)
        state.string_array_value.data.extend(options)
        self.states[state.id] = state
        self.rerun()

    def click(self, key: str) -> None:
        state = self._state(key)
        state.trigger_value = True
        self.rerun({state.id: state})

    def upload(self, key: str, path: Path) -> None:
        """The file uploader made with `key=key` takes `path`: upload URLs from the server, a multipart PUT with
        the XSRF token, then a rerun with the file as the widget's value."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        state = self._state(key)
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.session_id = self.session_id
        request.file_urls_request.file_names.append(path.name)
        self._send(request)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.WhichOneof("type") == "file_urls_response":
                response = message.file_urls_response
                if response.response_id == request.file_urls_request.request_id:
                    break
        if response.error_msg or not response.file_urls:
            raise ClientError(f"no upload URL: {response.error_msg or 'none given'}")
        urls = response.file_urls[0]
        token = self._xsrf_token()
        data = path.read_bytes()
        answer = self.http.put(
            self._absolute(urls.upload_url),
            files={"file": (path.name, data, "image/png")},
            headers={"X-Xsrftoken": token},
            timeout=self.timeout,
        )
        if answer.status_code >= 300:
            raise ClientError(f"upload refused: HTTP {answer.status_code} {answer.text[:120]}")
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, path.name, len(data)
        info.file_urls.CopyFrom(urls)
        self.states[state.id] = state
        self.rerun()

    def _xsrf_token(self) -> str:
        if XSRF_COOKIE not in self.http.cookies:
            self.http.get(self.base + "/_stcore/health", timeout=self.timeout)
        return str(self.http.cookies.get(XSRF_COOKIE, ""))

    def _absolute(self, url: str) -> str:
        return url if url.startswith("http") else self.base + "/" + url.lstrip("/")
