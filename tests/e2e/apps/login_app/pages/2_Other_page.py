import streamlit as st

from heatmap.ui.auth import require_login

require_login(st.secrets)
st.header("Other page")
st.write("OTHER-CONTENT-c5d0")
