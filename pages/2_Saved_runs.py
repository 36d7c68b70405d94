"""Saved runs: newest first, paginated, filter by page; open one in Explore, download PNG, CSV, JSON."""

from heatmap.ui import page

ctx = page.setup("runs.title")

with page.guard(ctx):
    from heatmap.ui import runs_page

    runs_page.main(ctx)
