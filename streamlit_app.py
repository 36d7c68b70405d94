"""The app: `streamlit run streamlit_app.py` opens Explore on the bundled demo data with no configuration.

Streamlit's navigation over the pages/ files (heatmap.ui.page.navigate): the login gate, the settings, the sidebar
and the source's engine are set up here, once per run, for whichever page the address names; each page file then
only draws its page. The address bar always holds the whole view, so it is the shareable link.
"""

from heatmap.ui import page

page.navigate()
