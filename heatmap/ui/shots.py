"""Choosing the screenshot: upload, one stored before (output store `screenshots/<sha256>.<ext>`), the bundled
demo picture for page + device, or none. A link names the screenshot by sha256; uploads are stored in the
output store right away (content-addressed, create-only) so a link opened in a fresh browser finds them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import streamlit as st
from PIL import Image

from heatmap.drawing.encode import PREVIEW_WIDTH as PREVIEW_WIDTH  # the screenshot width previews start from
from heatmap.errors import HeatmapError, NotFound
from heatmap.images import ImageError, Screenshot, load_screenshot
from heatmap.ui import data
from heatmap.ui.i18n import Translator
from heatmap.ui.page import PageContext

log = logging.getLogger("heatmap.ui")

SOURCES = ("upload", "stored", "demo", "none")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp"]
MAX_UPLOAD_MB = 50
MAX_UPLOADS_KEPT = 3


@dataclass
class Chosen:
    """The screenshot in use (None: data only), where it came from, and notes for the user."""

    shot: Screenshot | None = None
    source: str = "none"
    notes: list[str] = field(default_factory=list)

    @property
    def sha(self) -> str | None:
        return self.shot.sha256 if self.shot else None


@st.cache_resource(show_spinner=False, max_entries=6)
def decoded(sha: str, _data: bytes) -> Screenshot:
    """Decode and check a screenshot once per process (keyed by its sha256, not its 20 MB of bytes)."""
    return load_screenshot(_data, page_shape=True)


@st.cache_resource(show_spinner=False, max_entries=12)
def downscaled(sha: str, width: int, _image: Image.Image) -> Image.Image:
    """The screenshot at `width` px (aspect kept): the browser preview is rendered from this, not the original."""
    if _image.width <= width:
        return _image
    height = max(1, round(_image.height * width / _image.width))
    return _image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)


@st.cache_resource(show_spinner=False, max_entries=6)
def _stored(sha: str, output: str, s3: Any, demo: str | None) -> Screenshot:
    """A stored screenshot, read and decoded once per process. Raises NotFound (never cached) when absent, so a
    picture stored later by another session is found on the next try."""
    raw = data.shot_bytes(sha, output, s3, demo)
    if raw is None:
        raise NotFound(f"screenshot {sha[:12]} is not in {output}")
    return load_screenshot(raw, page_shape=True)  # the store is shared: what is there is checked like an upload


def by_sha(ctx: PageContext, sha: str) -> Screenshot | None:
    """A screenshot by sha256: this session's uploads, the output store, or the demo folder."""
    uploads: dict[str, bytes] = st.session_state.setdefault("_uploads", {})
    if sha in uploads:
        return decoded(sha, uploads[sha])
    try:
        return _stored(sha, ctx.output, ctx.settings.s3, ctx.demo)
    except NotFound:
        return None
    except ImageError as exc:
        log.warning("stored screenshot %s is not usable: %s", sha[:12], exc)
        return None


def demo_sha(demo: str, page: str | None, device: str) -> str | None:
    from heatmap.demo import screenshot_name

    if page is None:
        return None
    name = screenshot_name(page, device)
    for sha, file_name in data.demo_shots(demo).items():
        if file_name == name:
            return sha
    return None


def demo_dpr(device: str) -> float:
    from heatmap.demo import DEVICES

    return float(DEVICES.get(device, DEVICES["desktop"])[1])


def device_of(where: Mapping[str, Sequence[str]]) -> str:
    """The device whose demo screenshot fits a segment: the one chosen, else desktop."""
    chosen = where.get("deviceCategory", ())
    return chosen[0] if len(chosen) == 1 else "desktop"


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


def picker(ctx: PageContext, prefix: str, page: str | None, device: str) -> Chosen:
    """The screenshot widgets. Never raises for a bad file: says what is wrong and carries on without it."""
    t, output, s3, demo = ctx.t, ctx.output, ctx.settings.s3, ctx.demo
    sources = [s for s in SOURCES if s != "demo" or demo]
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
            raw = upload.getvalue()
            sha = hashlib.sha256(raw).hexdigest()
            try:
                shot = decoded(sha, raw)
            except HeatmapError as exc:  # nothing is kept or stored
                error = t(f"image.{exc.reason}", **exc.values) if isinstance(exc, ImageError) else str(exc)
                sentence = t("shot.bad", error=error).rstrip(".。") + ("。" if t.lang == "ja" else ".")
                st.error(f"{sentence}  \n{t('shot.bad_hint')}", icon=":material/broken_image:")
                return chosen
            uploads: dict[str, bytes] = st.session_state.setdefault("_uploads", {})
            uploads[sha] = raw
            for old in list(uploads)[:-MAX_UPLOADS_KEPT]:  # a session keeps its last few uploads, not all of them
                uploads.pop(old, None)
            chosen.shot = shot
            _keep(ctx, shot)
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
    elif source == "demo" and demo:
        demo_shot = demo_sha(demo, page, device)
        if demo_shot:
            chosen.shot = by_sha(ctx, demo_shot)
    return chosen


def _describe(t: Translator, sha: str, info: data.StoredShot | None) -> str:
    if info is None:
        return sha[:12]
    when = info.when.strftime("%Y-%m-%d %H:%M") if info.when else "?"
    size = f"{info.size / 1e6:.1f} MB" if info.size >= 1e6 else f"{info.size / 1e3:.0f} kB"
    return t("shot.stored_fmt", when=when, size=size, sha=sha[:12])


def _keep(ctx: PageContext, shot: Screenshot) -> None:
    """Store an upload in the output store once, so links that name its sha256 work in any browser."""
    t = ctx.t
    done: set[str] = st.session_state.setdefault("_stored_uploads", set())
    if shot.sha256 in done:
        st.caption(t("shot.stored_as", key=shot.key))
        return
    try:
        data.check_output(ctx.source, ctx.output)
        data.store_shot(ctx.output, ctx.settings.s3, shot.key, shot.data, shot.content_type)
    except HeatmapError as exc:
        st.warning(t("shot.not_stored", error=exc), icon=":material/cloud_off:")
        return
    done.add(shot.sha256)
    st.caption(t("shot.stored_as", key=shot.key))
