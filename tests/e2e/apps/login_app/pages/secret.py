import streamlit as st

from heatmap.ui.auth import require_login

require_login(st.secrets)
st.header("Secret")
st.write("SECRET-CONTENT-91c2")
