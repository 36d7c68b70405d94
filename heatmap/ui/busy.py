"""What a page says while the server makes a picture: a spinner, and, when the job has to wait for room behind
other designers' pictures (heatmap.caching.when_waiting), how many are ahead of it. Ten designers uploading tall
screenshots on two cores can wait ten seconds; the page says why instead of looking stuck."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st

from heatmap.caching import when_waiting
from heatmap.ui.i18n import Translator


@contextlib.contextmanager
def working(t: Translator, doing: str) -> Iterator[None]:
    """A spinner saying `t(doing)`; a note under it while a picture job in the block waits for room."""
    slot = st.empty()

    def say(ahead: int) -> None:
        if ahead:
            slot.info(t("busy.waiting", ahead=f"{ahead:,}"), icon=":material/hourglass_top:")
        else:
            slot.empty()

    try:
        with st.spinner(t(doing)), when_waiting(say):
            yield
    finally:
        slot.empty()
