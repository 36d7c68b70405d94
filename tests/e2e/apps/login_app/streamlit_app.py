"""Tiny app for tests/e2e/test_login.py: the gate must protect the entrypoint and every pages/ file."""

import streamlit as st

from heatmap.ui.auth import require_login

st.set_page_config(page_title="Login gate test app")
require_login(st.secrets)
st.header("Home")
st.write("HOME-CONTENT-7f3a")
