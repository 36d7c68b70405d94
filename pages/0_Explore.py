"""Explore: one page, date range and segment as attention, scroll reach or clicks on a screenshot.

The address bar always holds the whole view, so it is the shareable link; `?run=<id>` reopens a saved run.
"""

from heatmap.ui import page

ctx = page.setup("explore.title")

with page.guard(ctx):
    from heatmap.ui import explore

    explore.main(ctx)
