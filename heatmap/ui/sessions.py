"""What the server holds for its sessions, for the Data health page: a closed tab's session is kept for
`server.disconnectedSessionTTL` (120 s) so that it can reconnect, with its uploaded files (a 1440 × 20,000
screenshot is about 15 MB) and its download buttons. Read through the runtime's managers; None on a Streamlit
whose managers look different."""

from __future__ import annotations

from dataclasses import dataclass


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
