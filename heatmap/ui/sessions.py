"""What the server holds for its sessions: a closed tab's session is kept for `server.disconnectedSessionTTL`
(120 s) so that it can reconnect, with its uploaded files (a 1440 × 20,000 screenshot is about 15 MB) and its
download buttons, and an open one keeps every file ever dropped on an uploader until it ends, unless told
(`forget_upload`). `held()` is for the Data health page. Both go through the runtime's managers and do nothing on
a Streamlit whose managers look different."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("heatmap.ui")


@dataclass(frozen=True)
class Held:
    sessions: int  # open tabs, and closed ones kept for reconnecting
    upload_files: int
    upload_bytes: int


def held() -> Held | None:
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    runtime = Runtime.instance()
    try:
        storage = getattr(runtime.uploaded_file_mgr, "file_storage")  # noqa: B009 (MemoryUploadedFileManager's own)
        files = [f for by_id in storage.values() for f in by_id.values()]
        sessions = len(runtime._session_mgr.list_sessions())
    except Exception:  # another Streamlit's internals: the page leaves these figures out
        return None
    return Held(sessions, len(files), sum(len(f.data) for f in files))


def forget_upload(file_id: str) -> None:
    """Let this session's uploaded file `file_id` go: one the output store holds, or one the uploader no longer
    shows (a newer file replaced it). Streamlit would hold it until the session ends, 15 MB a tall screenshot,
    growing with every upload."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return
    try:
        getattr(Runtime.instance().uploaded_file_mgr, "remove_file")(ctx.session_id, file_id)  # noqa: B009 (the memory manager's)
    except Exception:  # another Streamlit's manager: it keeps the file, as Streamlit would
        log.info("uploaded file %s could not be let go", file_id, exc_info=True)
