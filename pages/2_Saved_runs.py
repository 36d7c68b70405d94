"""Saved runs: newest first, paginated, filter by page; open one in Explore, download PNG, CSV, JSON."""

from heatmap.ui import page

ctx = page.setup("runs.title", load_data=False)  # the output store is enough: works when the source is down

with page.guard(ctx):
    from heatmap.ui import runs_page

    runs_page.main(ctx)
