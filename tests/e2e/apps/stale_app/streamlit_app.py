"""Tiny app for tests/e2e/test_stale_dimming.py: the app's style, the kinds of element Streamlit dims while a run
replaces them (text, an expander, tabs), and a button whose run waits before drawing any of them again."""

import time

import streamlit as st

from heatmap.ui.page import STYLE

if st.session_state.pop("work", False):
    time.sleep(3)  # everything the last run drew is stale meanwhile
st.html(f"<style>{STYLE}</style>")
st.markdown("STALE-APP-TEXT")
with st.expander("Details", expanded=True):
    st.write("inside the expander")
first, _ = st.tabs(["First", "Second"])
first.write("inside a tab")
st.button("Work", on_click=lambda: st.session_state.update(work=True))
