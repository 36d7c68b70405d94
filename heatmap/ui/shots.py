"""Choosing the screenshot: upload, one stored before (output store `screenshots/<sha256>.<ext>`), the bundled
demo picture for page + device, or none. A link names the screenshot by sha256; uploads are stored in the
output store right away (content-addressed, create-only) so a link opened in a fresh browser finds them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import streamlit as st
from cachetools import LRUCache
from PIL import Image

from heatmap.caching import keep_for_run, memory, picture_work
from heatmap.drawing.encode import PREVIEW_WIDTH as PREVIEW_WIDTH  # the screenshot width previews start from
from heatmap.drawing.encode import downscale
from heatmap.drawing.packed import Packed
from heatmap.drawing.png_packer import pack_png
from heatmap.errors import HeatmapError, NotFound
from heatmap.images import (
    CONTENT_TYPES,
    ImageError,
    check_file,
    decode_cost,
    held_bytes,
    load_screenshot,
    screenshot_key,
    streams_png,
)
from heatmap.ui import busy, capture_panel, data, sessions
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PageContext

log = logging.getLogger("heatmap.ui")

SOURCES = ("upload", "stored", "capture", "demo", "none")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp"]
MAX_UPLOAD_MB = 50
MAX_UPLOADS_KEPT = 3


@dataclass(frozen=True)
class Shot:
    """A screenshot as a session holds it: what it is and where its bytes are, never its pixels. A session's run
    can wait a long time for a picture job while ten designers work; holding the decoded page all that while (about
    100 MB for 1440 × 20,000) would put every waiting session's picture outside the memory budget. `pixels()`
    gives the screenshot's packed pixels from the process's cache (decoding it again if the cache let it go): call
    it in a picture job (caching.picture_work) and let it go when the job ends."""

    sha256: str
    width: int
    height: int
    format: str
    read: Callable[[], bytes | None] = field(repr=False, compare=False)

    @classmethod
    def of(cls, shot: Pixels, read: Callable[[], bytes | None]) -> Shot:
        return cls(shot.sha256, shot.width, shot.height, shot.format, read)

    def pixels(self) -> Pixels:
        return decoded(self.sha256, self.read)

    @property
    def cache_key(self) -> tuple[str, str]:
        """Its decoded pixels' key in the process's cache (caching.picture_work's `keep`)."""
        return _pixels_key(self.sha256)

    def scaled(self, width: int) -> tuple[int, int]:
        """Its size at `width` px, aspect kept (what `downscaled` makes, known without making it)."""
        return width, max(1, round(self.height * width / self.width))

    @property
    def data(self) -> bytes:
        """The file's bytes, read when asked (saving a run stores them)."""
        raw = self.read()
        if raw is None:
            raise NotFound(f"screenshot {self.sha256[:12]} is not stored")
        return raw

    @property
    def key(self) -> str:
        return screenshot_key(self.sha256, self.format)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


@dataclass
class Chosen:
    """The screenshot in use (None: data only), where it came from, and notes for the user."""

    shot: Shot | None = None
    source: str = "none"
    notes: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str | None:
        return self.shot.sha256 if self.shot else None


@dataclass(frozen=True)
class Pixels:
    """A screenshot's pixels as the server keeps them: packed in strips (heatmap.drawing.packed; a tall page's
    6-10 MB instead of 115), which the maps, the browser's picture and a save unpack a strip at a time."""

    picture: Packed = field(repr=False)
    sha256: str
    format: str

    @property
    def width(self) -> int:
        return self.picture.width

    @property
    def height(self) -> int:
        return self.picture.height

    @property
    def nbytes(self) -> int:
        return self.picture.nbytes

    def unpacked(self) -> Image.Image:
        """The whole picture at four bytes a pixel: for small pictures and tests."""
        return self.picture.image()


def decoded(sha: str, read: Callable[[], bytes | None]) -> Pixels:
    """Screenshot `sha`, decoded, checked and packed once per process whether it came from an upload or a store
    (one entry in the server's memory budget). `read` gives its bytes; None (never cached) raises NotFound, so a
    picture stored later by another session is found on the next try. What the store holds is checked like an
    upload; a picture whose decoded pixels alone would fill the budget is refused (a job decodes it whole)."""

    def load() -> Pixels:
        raw = read()
        if raw is None:
            raise NotFound(f"screenshot {sha[:12]} is not stored")
        pixels, copies = decode_cost(raw)
        with picture_work(pixels, copies=copies):
            packed = _packed(raw)
        with _CHECKED_LOCK:
            _CHECKED[sha] = (packed.width, packed.height, packed.format)
        return packed

    keep_for_run(_pixels_key(sha))  # the run's later picture jobs find it (caching.run_keeps)
    found: Pixels = memory().get_or_load(_pixels_key(sha), load)
    return found


def _packed(raw: bytes) -> Pixels:
    """A screenshot file checked and packed: a browser's PNG as it is inflated (drawing/png_packer.py), any other
    file decoded whole first."""
    if streams_png(raw):
        kind, width, height = check_file(raw, page_shape=True)
        _check_budget(width, height, raw)
        return Pixels(pack_png(raw), hashlib.sha256(raw).hexdigest(), kind)
    shot = load_screenshot(raw, page_shape=True)  # its sha256 hashed there
    _check_budget(shot.width, shot.height, raw)
    return Pixels(Packed.of(shot.image), shot.sha256, shot.format)


def _check_budget(width: int, height: int, raw: bytes) -> None:
    """Refuse a picture whose decoded pixels and file would not fit the memory budget: some jobs unpack a
    picture whole (a small one's map, a screenshot narrower than the browser's picture)."""
    held, budget = held_bytes(width, height, len(raw)), int(memory().maxsize)
    if held > budget:
        raise ImageError("over_budget", megabytes=f"{held / 1024**2:,.0f}", budget=f"{budget / 1024**2:,.0f}")


def _pixels_key(sha: str) -> tuple[str, str]:
    return ("shot", sha)


#: Screenshots checked and decoded once in this process: sha256 -> (width, height, format). A session's every run
#: needs its screenshot's size, not its pixels: asking the cache for the pixels decoded the page again on each
#: run once the budget had let it go (0.6 s for a 1440 × 20,000 page; at five designers, most of the decodes).
_CHECKED: LRUCache[str, tuple[int, int, str]] = LRUCache(maxsize=10_000)
_CHECKED_LOCK = threading.Lock()


def downscaled(shot: Shot, width: int) -> Image.Image:
    """The screenshot at `width` px (aspect kept): the browser preview is rendered from this, not the original.
    In a picture job: it may need the original's pixels."""
    if shot.width <= width:
        return shot.pixels().unpacked()

    def shrink() -> Image.Image:
        return downscale(shot.pixels().picture, *shot.scaled(width))

    small: Image.Image = memory().get_or_load(("downscaled", shot.sha256, width), shrink)
    return small


def by_sha(ctx: PageContext, sha: str) -> Shot | None:
    """A screenshot by sha256: this session's uploads, the output store, or the demo folder. Decoded (and
    checked) once per process; after that its size is known without its pixels."""
    read = reader(ctx, sha)
    with _CHECKED_LOCK:
        known = _CHECKED.get(sha)
    if known is not None:
        return Shot(sha, *known, read=read)
    try:
        return Shot.of(decoded(sha, read), read)
    except NotFound:
        return None
    except ImageError as exc:
        log.warning("stored screenshot %s is not usable: %s", sha[:12], exc)
        return None


def reader(ctx: PageContext, sha: str) -> Callable[[], bytes | None]:
    """Where screenshot `sha`'s bytes are: an upload the output store refused (kept by this session), else the
    output store or the demo folder. Holds no bytes itself."""
    unstored = st.session_state.get("_uploads", {}).get(sha)
    if unstored is not None:
        return lambda: unstored
    output, s3, demo = ctx.output, ctx.settings.s3, ctx.demo
    return lambda: data.shot_bytes(sha, output, s3, demo)


def demo_sha(demo: str, page: str | None, device: str) -> str | None:
    from heatmap.demo import screenshot_name

    if page is None:
        return None
    name = screenshot_name(page, device)
    for sha, file_name in data.demo_shots(demo).items():
        if file_name == name:
            return sha
    return None


def known_dpr(ctx: PageContext, chosen: Chosen, device: str) -> float | None:
    """The pixel ratio a screenshot is known to have: a demo screenshot's device's, or the one a capture recorded;
    None for an upload (the pages guess it, or leave it to the designer)."""
    if chosen.shot is None:
        return None
    if chosen.source == "demo":
        return demo_dpr(device)
    return capture_panel.recorded_dpr(ctx, chosen.shot.sha256)


def demo_dpr(device: str) -> float:
    from heatmap.demo import DEVICES

    return float(DEVICES.get(device, DEVICES["desktop"])[1])


def device_of(where: Mapping[str, Sequence[str]], fallback: str = "desktop") -> str:
    """The device whose demo screenshot fits a segment: the one chosen, else `fallback`."""
    chosen = where.get("deviceCategory", ())
    return chosen[0] if len(chosen) == 1 else fallback


def named_device(ctx: PageContext, prefix: str) -> str:
    """The device of the demo screenshot a link or a run named (desktop if none): with several devices or none
    chosen, the view keeps that picture and its pixel ratio instead of falling back to the desktop one."""
    from heatmap.demo import DEVICES

    demo, sha = ctx.demo, st.session_state.get(f"{prefix}demo_sha")
    name = data.demo_shots(demo).get(sha, "") if demo and sha else ""
    device = name.removesuffix(".png").rpartition("__")[2]
    return device if device in DEVICES else "desktop"


def seed_source(ctx: PageContext, prefix: str, sha: str | None, force: bool) -> str | None:
    """Set the picker to show screenshot `sha` (from a link or a run). Returns a problem reason or None."""
    demo = ctx.demo
    if not force and f"{prefix}src" in st.session_state:
        return None
    default = "demo" if demo else "upload"
    if sha is None:
        st.session_state[f"{prefix}src"] = default
        return None
    if demo and sha in data.demo_shots(demo):
        st.session_state[f"{prefix}src"] = "demo"
        st.session_state[f"{prefix}demo_sha"] = sha
        return None
    if by_sha(ctx, sha) is not None:
        st.session_state[f"{prefix}src"] = "stored"
        st.session_state[f"{prefix}stored"] = sha
        return None
    st.session_state[f"{prefix}src"] = default
    return "shot_missing"


def picker(
    ctx: PageContext,
    prefix: str,
    page: str | None,
    device: str,
    paths: Sequence[tuple[str, int]] | None = None,
    width: int | None = None,
) -> Chosen:
    """The screenshot widgets. Never raises for a bad file: says what is wrong and carries on without it. While
    the uploader waits for a file (or refused one), the picture shown before stays. `paths` (a template's, busiest
    first) and `width` (the layout's CSS width) are what *Capture from the site* captures."""
    capture_panel.take_pending(prefix)
    chosen = _pick(ctx, prefix, page, device, paths, width)
    capture_panel.said(prefix)
    shown = f"_{prefix}shown_sha"
    if chosen.shot is not None:
        st.session_state[shown] = chosen.shot.sha256
    elif chosen.source == "upload" and st.session_state.get(shown):
        chosen.shot = by_sha(ctx, st.session_state[shown])
        if chosen.shot is not None and _let_go_sha(f"{prefix}upload") == chosen.shot.sha256:
            st.caption(ctx.t("shot.stored_as", key=chosen.shot.key))
        elif chosen.shot is not None:
            st.caption(ctx.t("shot.kept"))
    return chosen


def _pick(
    ctx: PageContext,
    prefix: str,
    page: str | None,
    device: str,
    paths: Sequence[tuple[str, int]] | None,
    width: int | None,
) -> Chosen:
    t, output, s3, demo = ctx.t, ctx.output, ctx.settings.s3, ctx.demo
    capture = capture_panel.settings_of(ctx)
    offered = {"demo": bool(demo), "capture": capture is not None}
    sources = [s for s in SOURCES if offered.get(s, True)]
    if st.session_state.get(f"{prefix}src") not in sources:
        st.session_state[f"{prefix}src"] = sources[0]
    source = st.radio(
        t("shot.source"),
        sources,
        key=f"{prefix}src",
        format_func=lambda s: t(f"shot.{s}"),
        horizontal=True,
    )
    chosen = Chosen(source=source or "none")
    if source == "upload":
        upload = st.file_uploader(
            t("shot.uploader"), type=UPLOAD_TYPES, key=f"{prefix}upload", max_upload_size=MAX_UPLOAD_MB
        )
        if upload is not None:
            _replaced(f"{prefix}upload", upload.file_id)
            raw = upload.getvalue()
            sha = hashlib.sha256(raw).hexdigest()
            try:
                with busy.working(t, "shot.reading"):
                    shot = decoded(sha, lambda: raw)
            except HeatmapError as exc:  # nothing is kept or stored
                error = t(f"image.{exc.reason}", **exc.values) if isinstance(exc, ImageError) else str(exc)
                sentence = t("shot.bad", error=error).rstrip(".。") + ("。" if t.lang == "ja" else ".")
                st.error(f"{sentence}  \n{t('shot.bad_hint')}", icon=":material/broken_image:")
                return chosen
            if _keep(ctx, Shot.of(shot, lambda: raw)):
                _let_go(f"{prefix}upload", sha)
            else:  # not stored: this session keeps its last few such files itself
                uploads: dict[str, bytes] = st.session_state.setdefault("_uploads", {})
                uploads[sha] = raw
                for old in list(uploads)[:-MAX_UPLOADS_KEPT]:
                    uploads.pop(old, None)
            chosen.shot = Shot.of(shot, reader(ctx, sha))
    elif source == "stored":
        info = {s.sha: s for s in data.stored_shots(output, s3)}
        stored = list(info)
        pinned = st.session_state.get(f"{prefix}stored")
        if pinned and pinned not in stored:
            stored.insert(0, pinned)
        if not stored:
            st.info(t("shot.stored_none"), icon=":material/image_not_supported:")
            return chosen
        if st.session_state.get(f"{prefix}stored") not in stored:
            st.session_state[f"{prefix}stored"] = stored[0]
        sha = st.selectbox(
            t("shot.stored_pick"),
            stored,
            key=f"{prefix}stored",
            format_func=lambda s: _describe(t, s, info.get(s)),
        )
        if sha:
            chosen.shot = by_sha(ctx, sha)
            if chosen.shot is None:
                st.warning(t("shot.missing", sha=sha[:12]), icon=":material/image_not_supported:")
    elif source == "capture" and capture is not None:
        capture_panel.panel(ctx, capture, prefix, page, device, paths, width)
    elif source == "demo" and demo:
        demo_shot = demo_sha(demo, page, device)
        if demo_shot:
            chosen.shot = by_sha(ctx, demo_shot)
    return chosen


def _replaced(key: str, file_id: str) -> None:
    """The uploader `key` now holds `file_id`: the file it held before is let go (sessions.forget_upload)."""
    held: dict[str, str] = st.session_state.setdefault("_upload_ids", {})
    before = held.get(key)
    held[key] = file_id
    if before and before != file_id:
        sessions.forget_upload(before)


def _let_go(key: str, sha: str) -> None:
    """The file uploader `key` holds (`_replaced` noted it) is stored as `sha`: Streamlit lets its bytes go (15 MB a
    tall page, per session, for as long as the uploader shows it) and the picture is read from the store. The
    uploader then gives None, as when the designer removes the file; `_let_go_sha` tells the two apart."""
    st.session_state.setdefault("_let_go", {})[key] = sha
    sessions.forget_upload(st.session_state["_upload_ids"][key])


def _let_go_sha(key: str) -> str | None:
    """The sha256 of the stored upload uploader `key` still shows after `_let_go`; None if the designer removed it
    (or replaced it, or this Streamlit says nothing of files it no longer holds)."""
    from streamlit.runtime.uploaded_file_manager import DeletedFile

    value = st.session_state.get(key)
    shown = isinstance(value, DeletedFile) and value.file_id == st.session_state.get("_upload_ids", {}).get(key)
    return st.session_state.get("_let_go", {}).get(key) if shown else None


def _describe(t: Translator, sha: str, info: data.StoredShot | None) -> str:
    if info is None:
        return sha[:12]
    when = info.when.strftime("%Y-%m-%d %H:%M") if info.when else "?"
    size = f"{info.size / 1e6:.1f} MB" if info.size >= 1e6 else f"{info.size / 1e3:.0f} kB"
    return t("shot.stored_captured_fmt" if info.captured else "shot.stored_fmt", when=when, size=size, sha=sha[:12])


def _keep(ctx: PageContext, shot: Shot) -> bool:
    """Store an upload in the output store once, so links that name its sha256 work in any browser (and the
    session need not hold its bytes). False if it could not be stored."""
    t = ctx.t
    done: set[str] = st.session_state.setdefault("_stored_uploads", set())
    if shot.sha256 not in done:
        try:
            data.check_output(ctx.source, ctx.output)
            data.store_shot(ctx.output, ctx.settings.s3, shot.key, shot.data, shot.content_type)
        except HeatmapError as exc:
            st.warning(t("shot.not_stored", error=exc), icon=":material/cloud_off:")
            return False
        done.add(shot.sha256)
    st.caption(t("shot.stored_as", key=shot.key))
    return True
