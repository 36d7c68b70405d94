"""The demo's pages as a small website on 127.0.0.1, so *Capture from the site* works on the demo out of the box
(docs/capture.md): each demo page is HTML laid out like its synthetic screenshot (heatmap/demo.py), its heights
per device width by media queries, its pinned buttons `position: fixed`. Started once per process, on demand;
the capture allowlist then names exactly its address and port.
"""

from __future__ import annotations

import html
import http.server
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from heatmap.capture import CaptureSettings
from heatmap.capture.allow import parse_allowlist
from heatmap.capture.page import Limits
from heatmap.demo import DEVICES, FOLDS, JOB_LAYOUT, PAGES, DemoPage, page_height

_BREAKS = {"mobile": "(max-width: 599px)", "tablet": "(min-width: 600px) and (max-width: 1023px)"}


def page_html(page: DemoPage) -> str:
    """The page as HTML: its sections, text lines and buttons where the screenshot draws them."""
    heights = {device: page_height(page, device) for device in DEVICES}
    css = [
        "body{margin:0;font-family:'DejaVu Sans',sans-serif}",
        f".page{{position:relative;height:{heights['desktop']}px}}",
        ".s{position:absolute;left:0;right:0;border-top:1px solid #c8c8d2;box-sizing:border-box;padding:24px 6%}",
        ".s h2{margin:0 0 30px;font-size:28px;color:#28283c;font-weight:normal}",
        ".l{height:10px;border-radius:4px;background:#cdd0d7;margin:0 0 18px}",
        ".b,.p,.i{position:absolute;transform:translate(-50%,-50%);color:#fff;border:0;font-size:14px}",
        ".b{width:min(36%,300px);height:44px;border-radius:10px;background:#2563eb}",
        ".p{position:fixed;width:min(40%,220px);height:40px;border-radius:20px;background:#16a34a}",
        ".i{width:min(24%,180px);height:28px;border-radius:14px;background:#fef3c7;color:#92400e}",
    ]
    for device, query in _BREAKS.items():
        pinned = "".join(f".p{n}{{top:{thing.y * FOLDS[device]:.0f}px}}" for n, thing in enumerate(page.pinned))
        css.append(f"@media {query}{{.page{{height:{heights[device]}px}}.s h2{{font-size:20px}}{pinned}}}")
    parts = ["<div class='page'>"]
    for section in page.sections:
        top, height = section.top * 100, (section.bottom - section.top) * 100
        lines = "".join(f"<div class='l' style='width:{100 - (n % 5) * 6}%'></div>" for n in range(40))
        colour = "rgb({},{},{})".format(*section.colour)
        parts.append(
            f"<section class='s' style='top:{top:.3f}%;height:{height:.3f}%;background:{colour};overflow:hidden'>"
            f"<h2>{html.escape(section.name)}</h2>{lines}</section>"
        )
    for button in page.buttons:
        parts.append(_placed("button", "b", button.label, button.x * 100, f"{button.y * 100:.3f}%"))
    for thing in page.inert:
        parts.append(_placed("span", "i", thing.label, thing.x * 100, f"{thing.y * 100:.3f}%"))
    parts.append("</div>")
    for n, thing in enumerate(page.pinned):
        fixed_top = f"{thing.y * FOLDS['desktop']:.0f}px"
        parts.append(_placed("button", f"p p{n}", thing.label, thing.x * 100, fixed_top))
    style = "".join(css)
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>{''.join(parts)}</body></html>"


def _placed(tag: str, kind: str, label: str, x: float, top: str) -> str:
    return f"<{tag} class='{kind}' style='left:{x:.3f}%;top:{top}'>{html.escape(label)}</{tag}>"


def page_for(path: str) -> DemoPage | None:
    path = unquote(path)
    if path.startswith("/jobs/") and path[len("/jobs/") :].isdigit():
        return JOB_LAYOUT
    return next((page for page in PAGES if page.path == path), None)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        page = page_for(urlsplit(self.path).path)
        body = (page_html(page) if page else "<!doctype html><p>No such demo page.</p>").encode()
        self.send_response(200 if page else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


_server: http.server.ThreadingHTTPServer | None = None
_lock = threading.Lock()


def demo_capture(limits: Limits) -> CaptureSettings:
    """Capture settings for the demo: its own site, allowed by exactly its address and port."""
    base = demo_site()
    return CaptureSettings(hosts=parse_allowlist(base), site_url=base, limits=limits)


def demo_site() -> str:
    """The demo site's base URL (http://127.0.0.1:<port>), started on first use and kept for the process."""
    global _server
    with _lock:
        if _server is None:
            _server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, name="demo-site", daemon=True).start()
        return f"http://127.0.0.1:{_server.server_address[1]}"
