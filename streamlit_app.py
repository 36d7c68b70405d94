"""Explore: one page, date range and segment as attention, scroll reach or clicks on a screenshot.

`streamlit run streamlit_app.py` opens on the bundled demo data with no configuration.
The address bar always holds the whole view, so it is the shareable link; `?run=<id>` reopens a saved run.
"""

from heatmap.ui import page

ctx = page.setup("explore.title")

with page.guard(ctx):
    from heatmap.ui import explore

    explore.main(ctx)
