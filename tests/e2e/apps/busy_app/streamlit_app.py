"""Tiny app for tests/e2e/test_busy_note.py: one button has another thread hold the server's picture room for a
few seconds (a job larger than any budget runs only alone), the other makes a picture job inside the app's
`working` block, as the upload, the map, Compare and the save do, so it has to wait and the page says why."""

import threading
import time

import streamlit as st

from heatmap.caching import picture_work
from heatmap.ui.busy import working
from heatmap.ui.i18n import Translator

ALONE = 10**9  # pixels: more than any budget holds

t = Translator(st.query_params.get("lang", "en"))
if st.button("Hold the room"):
    inside = threading.Event()

    def hold() -> None:
        with picture_work(ALONE):
            inside.set()
            time.sleep(4)

    threading.Thread(target=hold, daemon=True).start()
    inside.wait(5)
    st.write("ROOM-HELD")
if st.button("Make a picture"):
    with working(t, "shot.reading"), picture_work(ALONE):
        pass
    st.write("PICTURE-MADE")
